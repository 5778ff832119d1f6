"""Hostile review (rev3): the dashboard grants what the API grants, no more and no less, to a
person signed in with an OpenID Connect token whose groups make them PMO (``pmo_groups``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from web_support import Served, csrf_of

from phasegate.devserver import DevServer
from phasegate.settings import Settings
from tests.api.api_support import AUDIENCE, CLAIM, ISSUER, PMO_GROUP, IdentityProvider
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def grouped(
    web_devserver: DevServer, web_worker: WorkerProcess, web_idp: IdentityProvider
) -> Iterator[Served]:
    """The dashboard of the folder's components, with a PMO group."""
    settings = Settings(
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=web_idp.url,
        oidc_person_claim=CLAIM,
        pmo_groups=(PMO_GROUP,),
        address=web_devserver.address,
        ledger_url=web_worker.ledger_url,
        task_queue=web_worker.task_queue,
        session_secret="another-test-secret-that-is-long-enough-0123",
        log_format="json",
    )
    with Served(settings) as served:
        yield served


def _oidc(web: Served, token: str) -> httpx.Client:
    http = httpx.Client(base_url=web.base, timeout=60)
    page = http.get("/login")
    assert http.post("/login", data={"csrf": csrf_of(page.text), "token": token}).status_code == 303
    return http


def test_an_oidc_pmo_group_member_is_pmo_on_the_dashboard_as_in_the_api(
    grouped: Served, web_idp: IdentityProvider
) -> None:
    token = web_idp.token("olle", groups=[PMO_GROUP, "staff"])
    api = httpx.get(
        f"{grouped.base}/api/audit/export?format=jsonl",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200  # the API: PMO by the group
    http = _oidc(grouped, token)
    assert "Signed in as <strong>olle</strong> (PMO)" in http.get("/work").text
    assert http.get("/audit/export?format=jsonl").status_code == 200


def test_a_group_that_is_not_the_pmos_grants_nothing(
    grouped: Served, web_idp: IdentityProvider
) -> None:
    http = _oidc(grouped, web_idp.token("olle", groups=["staff", "portfolio-office-x"]))
    assert "(PMO)" not in http.get("/work").text
    assert http.get("/audit/export?format=jsonl").status_code == 403
