"""``/api/me``: the person a token proves and whether they are PMO (by the ``pmo`` setting, or
by an OpenID Connect group of ``pmo_groups``); 401 without a token."""

from __future__ import annotations

import pytest
from api_support import OUTSIDER, PMO, PMO_GROUP, Api, IdentityProvider, error
from fastapi.testclient import TestClient

from ledger import Ledger
from phasegate.api._auth import Authenticator
from phasegate.settings import Settings

pytestmark = pytest.mark.devserver


def test_a_personal_token_answers_its_person(as_: dict[str, Api]) -> None:
    assert as_["anna"].get("/api/me").json() == {"person": "anna", "pmo": False, "via": "token"}
    assert as_[PMO].get("/api/me").json() == {"person": PMO, "pmo": True, "via": "token"}


def test_an_oidc_token_answers_its_person(http: TestClient, idp: IdentityProvider) -> None:
    response = http.get("/api/me", headers={"Authorization": f"Bearer {idp.token('bo')}"})
    assert response.json() == {"person": "bo", "pmo": False, "via": "oidc"}


def test_no_token_is_401(http: TestClient) -> None:
    status, kind, _ = error(http.get("/api/me"))
    assert (status, kind) == (401, "NotAuthenticated")


def test_an_oidc_group_of_the_pmo_makes_a_person_pmo(
    http: TestClient, idp: IdentityProvider
) -> None:
    for groups, pmo in (
        ([PMO_GROUP, "staff"], True),
        (PMO_GROUP, True),  # one group as a string
        (["staff"], False),
        ([f"{PMO_GROUP}-x", PMO_GROUP.upper()], False),  # matched whole, case kept
        ({"name": PMO_GROUP}, False),  # neither a list nor a string: no group
    ):
        token = idp.token(OUTSIDER, groups=groups)
        me = http.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"person": OUTSIDER, "pmo": pmo, "via": "oidc"}, groups


def test_the_groups_claim_is_a_setting(
    settings: Settings, ledger: Ledger, idp: IdentityProvider
) -> None:
    auth = Authenticator(settings.model_copy(update={"oidc_groups_claim": "roles"}), ledger)
    assert auth.person(idp.token(OUTSIDER, roles=[PMO_GROUP])).pmo is True
    assert auth.person(idp.token(OUTSIDER, groups=[PMO_GROUP])).pmo is False


def test_pmo_groups_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASEGATE_PMO_GROUPS", " pmo , portfolio office,")
    monkeypatch.setenv("PHASEGATE_OIDC_GROUPS_CLAIM", "roles")
    s = Settings()
    assert (s.pmo_groups, s.oidc_groups_claim) == (("pmo", "portfolio office"), "roles")
    monkeypatch.delenv("PHASEGATE_OIDC_GROUPS_CLAIM")
    assert Settings().oidc_groups_claim == "groups"
