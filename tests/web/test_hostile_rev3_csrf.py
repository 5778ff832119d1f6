"""Hostile review (rev3) of the dashboard's forms: CSRF on every state change (login and logout
included), no GET that changes state, and open redirects through ``next``."""

from __future__ import annotations

import httpx
import pytest
from web_support import Served, csrf_of, signed_in

from ledger import Ledger
from tests.api.api_support import new_project
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def gated(web_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    project = new_project(web_cli, tmp_path_factory.mktemp("rev3-csrf"))
    web_cli("gate", "request", project, "--as", "david")
    return project


def test_no_get_changes_state(web: Served, web_tokens: dict[str, str], gated: str) -> None:
    anna = signed_in(web, web_tokens["anna"])
    for path in (
        f"/projects/{gated}/decide?decision=approve",
        f"/projects/{gated}/act?action=hold&comment=x",
        "/tasks/1/complete",
        "/logout",
    ):
        assert anna.get(path).status_code == 405, path
    assert anna.get("/work").status_code == 200  # the GET /logout signed nobody out


def test_every_form_needs_this_sessions_csrf_token(
    web: Served, web_tokens: dict[str, str], gated: str, web_cli: Cli
) -> None:
    anna, bo = signed_in(web, web_tokens["anna"]), signed_in(web, web_tokens["bo"])
    bos = csrf_of(bo.get("/work").text)
    forms = (
        (f"/projects/{gated}/act", {"action": "hold", "comment": "x"}),
        (f"/projects/{gated}/decide", {"decision": "approve"}),
        ("/tasks/1/complete", {}),
        ("/logout", {}),
    )
    for path, fields in forms:
        for csrf in (None, "", bos, bos + "x"):
            data = fields if csrf is None else {**fields, "csrf": csrf}
            assert anna.post(path, data=data).status_code == 403, (path, csrf)
    status = web_cli.json("project", "status", gated)
    assert status["gate"]["votes"] == [] and not status.get("held_since")
    assert anna.get("/work").status_code == 200


def test_a_csrf_token_in_the_query_or_a_header_is_not_the_forms(
    web: Served, web_tokens: dict[str, str], gated: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    token = csrf_of(anna.get("/work").text)
    assert anna.post(f"/projects/{gated}/decide?csrf={token}&decision=approve").status_code == 403
    assert (
        anna.post(
            f"/projects/{gated}/decide",
            data={"decision": "approve"},
            headers={"X-CSRF-Token": token},
        ).status_code
        == 403
    )


def test_a_cross_site_body_that_is_not_a_form_is_refused(
    web: Served, web_tokens: dict[str, str], gated: str, web_cli: Cli
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    token = csrf_of(anna.get("/work").text)
    body = f"csrf={token}&decision=approve&round=1"
    for kind in ("text/plain", "multipart/form-data; boundary=x", "application/json"):
        answer = anna.post(
            f"/projects/{gated}/decide", content=body, headers={"content-type": kind}
        )
        assert answer.status_code == 415, kind
    assert web_cli.json("project", "status", gated)["gate"]["votes"] == []


def test_the_login_form_needs_the_csrf_token_its_own_cookie_signed(
    web: Served, web_tokens: dict[str, str]
) -> None:
    victim, attacker = httpx.Client(base_url=web.base), httpx.Client(base_url=web.base)
    victim.get("/login")
    attackers = csrf_of(attacker.get("/login").text)
    # Login CSRF: the attacker's form token with the victim's login cookie is refused.
    answer = victim.post("/login", data={"csrf": attackers, "token": web_tokens["olle"]})
    assert answer.status_code == 403 and "pg_session" not in victim.cookies
    # And with no login cookie at all.
    bare = httpx.post(f"{web.base}/login", data={"csrf": attackers, "token": web_tokens["olle"]})
    assert bare.status_code == 403 and "pg_session" not in bare.cookies


def test_login_replaces_any_session_the_browser_had(
    web: Served, web_tokens: dict[str, str]
) -> None:
    # Session fixation: a fresh session (and a fresh CSRF token) at every sign-in.
    http = signed_in(web, web_tokens["anna"])
    before = http.cookies["pg_session"]
    old_csrf = csrf_of(http.get("/work").text)
    page = http.get("/login")
    again = http.post("/login", data={"csrf": csrf_of(page.text), "token": web_tokens["bo"]})
    assert again.status_code == 303 and http.cookies["pg_session"] != before
    assert "Signed in as <strong>bo</strong>" in http.get("/work").text
    assert csrf_of(http.get("/work").text) != old_csrf


EVIL = (
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "//%2565vil.example",
    "%2F%2Fevil.example",
    "data:text/html,<script>alert(1)</script>",
)


def _safe(location: str) -> bool:
    """A redirect that stays on this site: a path, never a scheme or another host."""
    return (
        location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and ":" not in location.split("?")[0]
    )


def test_next_never_sends_the_browser_elsewhere(web: Served, web_tokens: dict[str, str]) -> None:
    for evil in EVIL:
        http = httpx.Client(base_url=web.base)
        page = http.get("/login", params={"next": evil})
        assert page.status_code == 200, evil
        shown = page.text.split('name="next" value="')[1].split('"')[0]
        assert shown == "/", (evil, shown)
        answer = http.post(
            "/login", data={"csrf": csrf_of(page.text), "token": web_tokens["erik"], "next": evil}
        )
        assert answer.status_code == 303 and _safe(answer.headers["location"]), (
            evil,
            answer.headers["location"],
        )


def test_the_login_redirect_of_a_page_keeps_next_on_this_site(web: Served) -> None:
    http = httpx.Client(base_url=web.base)
    for path in ("//evil.example/x", "/%2F%2Fevil.example", "/projects/x?next=//evil.example"):
        answer = http.get(path)
        if answer.status_code != 303:
            continue
        login = http.get(answer.headers["location"])
        shown = login.text.split('name="next" value="')[1].split('"')[0]
        assert not shown.startswith("//") and "\\" not in shown, (path, shown)


def test_a_huge_next_is_refused_not_echoed(web: Served) -> None:
    answer = httpx.get(f"{web.base}/login", params={"next": "/" + "a" * 5000})
    assert answer.status_code < 500 and "a" * 3000 not in answer.text


def test_revoked_token_csrf_form_changes_nothing(
    web: Served, web_ledger: Ledger, gated: str, web_cli: Cli
) -> None:
    # A form posted by a session whose token was revoked meanwhile: 401, no vote.
    _, token = web_ledger.create_token("bo", "rev3 revoke mid-form")
    bo = signed_in(web, token)
    csrf = csrf_of(bo.get("/work").text)
    web_ledger.revoke_token(token)
    answer = bo.post(
        f"/projects/{gated}/decide", data={"csrf": csrf, "decision": "approve", "round": "1"}
    )
    assert answer.status_code == 401
    assert web_cli.json("project", "status", gated)["gate"]["votes"] == []


def test_the_api_does_not_take_the_dashboards_cookie(
    web: Served, web_tokens: dict[str, str], gated: str, web_cli: Cli
) -> None:
    # A cross-site form or fetch to the JSON API with the browser's cookie: no session there.
    anna = signed_in(web, web_tokens["anna"])
    assert anna.get("/api/me").status_code == 401
    vote = {"decision": "approve", "comment": "cookie only"}
    answer = anna.post(
        f"/api/projects/{gated}/gate/decide",
        json=vote,
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 401
    assert "access-control-allow-origin" not in answer.headers
    preflight = anna.options(
        f"/api/projects/{gated}/gate/decide",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert web_cli.json("project", "status", gated)["gate"]["votes"] == []
