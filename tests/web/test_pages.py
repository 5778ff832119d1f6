"""The dashboard's pages over plain HTTP: who may see what, the session cookie, CSRF, a
revoked token, the audit export."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from web_support import Served, csrf_of, signed_in

from ledger import Ledger
from tests.api.api_support import OUTSIDER, PMO, IdentityProvider, new_project
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def pid(web_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A project at its first gate, requested by david."""
    project = new_project(web_cli, tmp_path_factory.mktemp("pages"))
    web_cli("gate", "request", project, "--as", "david")
    return project


def test_a_page_without_a_session_goes_to_the_login(web: Served) -> None:
    http = httpx.Client(base_url=web.base)
    for path in ("/", "/work", "/audit", "/projects/anything?page=2"):
        answer = http.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=%2F")
    polled = http.get("/work", headers={"X-Phasegate-Live": "1"})
    assert polled.status_code == 401
    login = http.get("/login?next=/work")
    assert login.status_code == 200 and 'name="token"' in login.text
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_a_forged_or_altered_session_cookie_is_no_session(
    web: Served, web_tokens: dict[str, str]
) -> None:
    http = signed_in(web, web_tokens["anna"])
    value = http.cookies["pg_session"]
    body, mac = value.split(".")
    for forged in (f"{body}.{mac[:-2]}AA", f"{body[:-4]}AAAA.{mac}", "x.y", ""):
        other = httpx.Client(base_url=web.base, cookies={"pg_session": forged})
        assert other.get("/work").status_code == 303, forged


def test_the_session_cookie_holds_no_token(web: Served, web_tokens: dict[str, str]) -> None:
    http = httpx.Client(base_url=web.base)
    page = http.get("/login")
    answer = http.post(
        "/login", data={"csrf": csrf_of(page.text), "token": web_tokens["bo"], "next": "/work"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/work"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("pg_session"))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    secret = web_tokens["bo"].split("_", 2)[2]
    assert secret not in cookie and web_tokens["bo"] not in cookie


def test_an_openid_connect_token_signs_in_until_it_expires(
    web: Served, web_idp: IdentityProvider
) -> None:
    http = httpx.Client(base_url=web.base)
    page = http.get("/login")
    token = web_idp.token("anna", lifetime=timedelta(minutes=5))
    answer = http.post("/login", data={"csrf": csrf_of(page.text), "token": token})
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("pg_session"))
    max_age = int(cookie.split("Max-Age=")[1].split(";")[0])
    assert 240 < max_age <= 300  # the JWT's own expiry, not 12 hours
    assert "Signed in as <strong>anna</strong>" in http.get("/work").text
    page = http.get("/login")
    wrong = web_idp.token("anna", kid="unknown-key")
    refused = http.post("/login", data={"csrf": csrf_of(page.text), "token": wrong})
    assert refused.status_code == 401 and "OpenID Connect token is not valid" in refused.text


def test_the_session_cookie_is_secure_over_https(web: Served, web_tokens: dict[str, str]) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1: the request came over https.
    http = httpx.Client(base_url=web.base, headers={"X-Forwarded-Proto": "https"})
    page = http.get("/login")
    assert "; Secure" in page.headers["set-cookie"] or "; secure" in page.headers["set-cookie"]
    answer = http.post(
        "/login",
        data={"csrf": csrf_of(page.text), "token": web_tokens["anna"]},
        cookies={"pg_login": page.cookies["pg_login"]},
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("pg_session"))
    assert "secure" in cookie.lower()


def test_a_page_answers_304_while_nothing_changed(
    web: Served, web_tokens: dict[str, str], web_cli: Cli, tmp_path: Path
) -> None:
    pid = new_project(web_cli, tmp_path)
    anna = signed_in(web, web_tokens["anna"])
    first = anna.get(f"/projects/{pid}")
    etag = first.headers["etag"]
    again = anna.get(f"/projects/{pid}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    web_cli("gate", "request", pid, "--as", "david")
    changed = anna.get(f"/projects/{pid}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "Open gate: Beslutspunkt 1" in changed.text


def test_a_wrong_token_does_not_sign_in(web: Served) -> None:
    http = httpx.Client(base_url=web.base)
    page = http.get("/login")
    answer = http.post(
        "/login", data={"csrf": csrf_of(page.text), "token": "pg_000000000000_" + "x" * 43}
    )
    assert answer.status_code == 401
    assert "not valid: unknown, revoked or expired" in answer.text
    assert "pg_session" not in http.cookies


def test_the_login_form_needs_its_csrf_token(web: Served, web_tokens: dict[str, str]) -> None:
    http = httpx.Client(base_url=web.base)
    http.get("/login")
    answer = http.post("/login", data={"token": web_tokens["anna"]})
    assert answer.status_code == 403
    assert "pg_session" not in http.cookies


def test_a_revoked_token_ends_the_session_and_cannot_sign_in_again(
    web: Served, web_ledger: Ledger
) -> None:
    token_id, token = web_ledger.create_token("cecilia", "to revoke")
    http = signed_in(web, token)
    assert http.get("/work").status_code == 200
    web_ledger.revoke_token(token_id)
    answer = http.get("/work")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    page = http.get("/login")
    again = http.post("/login", data={"csrf": csrf_of(page.text), "token": token})
    assert again.status_code == 401 and "revoked" in again.text
    assert http.get("/work").status_code == 303


def test_a_project_the_person_may_not_see_is_404_like_one_that_does_not_exist(
    web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    outsider = signed_in(web, web_tokens[OUTSIDER])
    hidden = outsider.get(f"/projects/{pid}")
    missing = outsider.get("/projects/no-such-project")
    assert hidden.status_code == missing.status_code == 404
    assert f"no project {pid}" in hidden.text and "no project no-such-project" in missing.text
    assert pid not in outsider.get("/").text
    assert outsider.get(f"/audit/export?project={pid}").status_code == 404
    pmo = signed_in(web, web_tokens[PMO])
    assert pmo.get(f"/projects/{pid}").status_code == 200
    assert f"/projects/{pid}" in pmo.get("/").text


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    web: Served, web_tokens: dict[str, str], pid: str, web_cli: Cli
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    page = anna.get(f"/projects/{pid}")
    token = csrf_of(page.text)
    for fields in (
        {"decision": "approve"},
        {"decision": "approve", "csrf": ""},
        {"decision": "approve", "csrf": token[:-1] + ("A" if token[-1] != "A" else "B")},
    ):
        answer = anna.post(f"/projects/{pid}/decide", data=fields)
        assert answer.status_code == 403, fields
        assert "Nothing was changed" in answer.text
    # Another person's token is not this session's either.
    bo = signed_in(web, web_tokens["bo"])
    bos = csrf_of(bo.get("/work").text)
    assert (
        anna.post(f"/projects/{pid}/decide", data={"decision": "approve", "csrf": bos}).status_code
        == 403
    )
    status = web_cli.json("project", "status", pid)
    assert status["gate"]["votes"] == []
    assert anna.post("/logout", data={}).status_code == 403
    assert anna.get("/work").status_code == 200  # still signed in


def test_a_reject_without_a_comment_is_refused_before_it_is_sent(
    web: Served, web_tokens: dict[str, str], pid: str, web_cli: Cli
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    token = csrf_of(anna.get("/work").text)
    answer = anna.post(
        f"/projects/{pid}/decide", data={"decision": "reject", "csrf": token, "comment": "  "}
    )
    assert answer.status_code == 422 and "reject needs a comment" in answer.text
    assert web_cli.json("project", "status", pid)["gate"]["votes"] == []


def test_the_audit_page_verifies_and_exports_what_the_person_may_see(
    web: Served, web_tokens: dict[str, str], pid: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    page = anna.get("/audit")
    assert page.status_code == 200 and pid in page.text and "every chain verifies" in page.text
    csv = anna.get(f"/audit/export?project={pid}&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("project_id,seq,at,kind")
    lines = anna.get(f"/audit/export?project={pid}&format=jsonl").text.splitlines()
    assert json.loads(lines[0])["kind"] == "project_started"
    assert anna.get("/audit/export?format=csv").status_code == 403  # every project: the PMO
    pmo = signed_in(web, web_tokens[PMO])
    assert pmo.get("/audit/export?format=jsonl").status_code == 200


def test_logout_ends_the_session(web: Served, web_tokens: dict[str, str]) -> None:
    http = signed_in(web, web_tokens["erik"])
    token = csrf_of(http.get("/work").text)
    answer = http.post("/logout", data={"csrf": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert http.get("/work").status_code == 303


def test_the_static_files_ship_with_the_package(web: Served) -> None:
    for name in ("app.css", "app.js"):
        answer = httpx.get(f"{web.base}/static/{name}")
        assert answer.status_code == 200 and len(answer.content) > 500
    root = Path(__file__).parents[2] / "phasegate" / "web" / "templates"
    assert not any(
        "http://" in p.read_text() or "https://" in p.read_text() for p in root.iterdir()
    )


def test_a_vote_is_the_signed_in_persons_and_a_refusal_comes_back_unchanged(
    web: Served, web_tokens: dict[str, str], web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    pid = new_project(web_cli, tmp_path)
    web_cli("gate", "request", pid, "--as", "david")
    bo = signed_in(web, web_tokens["bo"])
    token = csrf_of(bo.get("/work").text)
    vote = {"csrf": token, "decision": "approve", "round": "1", "comment": "fine", "actor": "anna"}
    first = bo.post(f"/projects/{pid}/decide", data=vote)
    assert first.status_code == 200 and f"your vote (approve) on {pid} is recorded" in first.text
    again = bo.post(f"/projects/{pid}/decide", data={**vote, "back": "project"})
    assert again.status_code == 409
    assert "&#34;bo&#34; has already decided gate idea_gate (round 1)" in again.text
    assert "Open gate: Beslutspunkt 1" in again.text  # the project page, as asked
    votes = [(e.actor, e.comment) for e in web_ledger.events(pid) if e.kind == "vote_cast"]
    assert votes == [("bo", "fine")]  # bo's, whatever the form said


def test_the_project_manager_requests_the_gate_and_the_executive_holds_from_the_page(
    web: Served, web_tokens: dict[str, str], web_cli: Cli, tmp_path: Path
) -> None:
    pid = new_project(web_cli, tmp_path)
    david, anna = signed_in(web, web_tokens["david"]), signed_in(web, web_tokens["anna"])
    page = david.get(f"/projects/{pid}").text
    assert 'value="request_gate"' in page and 'value="hold"' not in page  # not the executive's
    assert "needed to hold or cancel" not in page  # no hint about buttons he does not have
    assert 'value="request_gate"' not in anna.get(f"/projects/{pid}").text
    requested = david.post(
        f"/projects/{pid}/act", data={"csrf": csrf_of(page), "action": "request_gate"}
    )
    assert requested.status_code == 200 and f"{pid}: gate idea_gate requested" in requested.text
    token = csrf_of(anna.get(f"/projects/{pid}").text)
    bare = anna.post(f"/projects/{pid}/act", data={"csrf": token, "action": "hold"})
    assert bare.status_code == 422 and "hold needs a comment" in bare.text
    refused = david.post(
        f"/projects/{pid}/act", data={"csrf": csrf_of(page), "action": "hold", "comment": "x"}
    )
    assert refused.status_code == 403 and "may not hold the project" in refused.text
    held = anna.post(
        f"/projects/{pid}/act", data={"csrf": token, "action": "hold", "comment": "Budget"}
    )
    assert held.status_code == 200 and f"{pid}: on hold" in held.text
    assert "needed to hold or cancel" in held.text  # the executive may cancel
    assert 'value="resume"' in held.text and 'value="hold"' not in held.text
    assert web_cli.json("project", "status", pid)["held_reason"] == "Budget"


def test_a_text_that_is_no_project_id_is_a_page_saying_so(
    web: Served, web_tokens: dict[str, str]
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    for bad in ("Not-An-Id", "a" * 70, "x%00y", "-x"):
        answer = anna.get(f"/projects/{bad}")
        assert answer.status_code == 404, bad
        assert answer.headers["content-type"].startswith("text/html")
        assert "No such project" in answer.text
