"""Hostile review (rev3) of what the dashboard's pages say and how: script in the texts people
type (a project's title, a hold reason, a vote's comment, a deliverable's address), the
security headers on every kind of answer, caching, and ETags across people."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from web_support import Served, csrf_of, signed_in

from phasegate.cli import app as cli_app
from tests.api.api_support import EXAMPLE, PMO
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)><svg onload=alert(3)>"


@pytest.fixture(scope="module")
def hostile(web_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A project whose title and description are markup, at its first gate."""
    folder = tmp_path_factory.mktemp("rev3-xss")
    pid = f"rev3-{uuid.uuid4().hex[:8]}"
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("id: new-crm", f"id: {pid}")
        .replace("title: Nytt CRM-system", f"title: '{PAYLOAD.replace(chr(39), chr(39) * 2)}'")
    )
    charter = folder / f"{pid}.yaml"
    charter.write_text(text, encoding="utf-8")
    assert web_cli("project", "start", charter, "--as", "david").stdout.strip() == pid
    url = f'https://docs.example.org/{pid}/idea?a=1&b=<x>"y'
    web_cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--url", url)
    web_cli("gate", "request", pid, "--as", "david", "--comment", PAYLOAD)
    return pid


def _no_markup_of_the_payload(html: str) -> None:
    for raw in ("<script>alert", "<img src=x", "<svg onload", "\"'><"):
        assert raw not in html, raw


def test_typed_texts_are_escaped_on_every_page(
    web: Served, web_tokens: dict[str, str], hostile: str
) -> None:
    bo = signed_in(web, web_tokens["bo"])
    csrf = csrf_of(bo.get("/work").text)
    voted = bo.post(
        f"/projects/{hostile}/decide",
        data={"csrf": csrf, "decision": "rework", "round": "1", "comment": PAYLOAD},
    )
    assert voted.status_code == 200, voted.text
    anna = signed_in(web, web_tokens["anna"])
    held = anna.post(
        f"/projects/{hostile}/act",
        data={"csrf": csrf_of(anna.get("/work").text), "action": "hold", "comment": PAYLOAD},
    )
    assert held.status_code == 200, held.text
    pages = [anna.get(p) for p in ("/", "/work", f"/projects/{hostile}", "/audit")]
    pages.append(signed_in(web, web_tokens[PMO]).get("/"))
    for page in pages:
        assert page.status_code == 200, page.url
        _no_markup_of_the_payload(page.text)
    project = pages[2].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in project  # shown, as text
    assert 'href="https://docs.example.org/' in project and "&lt;x&gt;" in project


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "javascript://%0aalert(1)",
        "JavaScript://x%0aalert(1)",
        "data://text/html,<script>alert(1)</script>",
        "vbscript://msgbox(1)",
        " javascript://x",
    ],
)
def test_a_deliverable_address_that_is_a_script_is_refused(
    web_cli: Cli, hostile: str, url: str
) -> None:
    args = ["deliverable", "submit", hostile, "Idébeskrivning", "--as", "david", "--url", url]
    answer = web_cli.runner.invoke(cli_app, args)
    assert answer.exit_code != 0 and "Traceback" not in answer.output, (url, answer.output)
    urls = [
        d["current"]["url"]
        for d in web_cli.json("project", "status", hostile)["deliverables"]
        if d.get("current")
    ]
    assert url not in urls


HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
}


def _framing_refused(answer: httpx.Response) -> None:
    for name, value in HEADERS.items():
        assert answer.headers.get(name) == value, (answer.url, name)
    assert "frame-ancestors 'none'" in answer.headers.get("content-security-policy", "")


def test_every_html_answer_carries_the_security_headers(
    web: Served, web_tokens: dict[str, str], hostile: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    answers = [
        httpx.get(f"{web.base}/login"),
        anna.get("/"),
        anna.get("/work"),
        anna.get(f"/projects/{hostile}"),
        anna.get("/projects/no-such-project"),
        anna.get("/audit"),
        anna.get(f"/audit/export?project={hostile}&format=csv"),
        anna.get("/audit/export?format=csv"),  # 403
        anna.post("/logout", data={}),  # 403
        anna.get("/work", headers={"If-None-Match": anna.get("/work").headers["etag"]}),  # 304
    ]
    for answer in answers:
        _framing_refused(answer)


def test_authenticated_pages_are_not_kept_in_a_cache(
    web: Served, web_tokens: dict[str, str], hostile: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    for path in ("/", "/work", f"/projects/{hostile}", "/audit"):
        cache = anna.get(path).headers["cache-control"]
        assert "no-store" in cache and "public" not in cache, (path, cache)


def test_a_bad_query_on_a_page_is_an_html_page_with_the_headers(
    web: Served, web_tokens: dict[str, str], hostile: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    for path in (f"/projects/{hostile}?page=-1", "/?phase=%00", "/audit/export?format=xml"):
        answer = anna.get(path)
        assert answer.status_code == 422, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "Bad request" in answer.text and "\x00" not in answer.text
        _framing_refused(answer)
    api = anna.get("/api/projects?rag=%00", headers={"Authorization": "Bearer x"})
    assert api.headers["content-type"].startswith("application/json")  # the API's, unchanged


def test_an_etag_of_one_person_is_no_304_for_another(
    web: Served, web_tokens: dict[str, str], hostile: str
) -> None:
    anna, bo = signed_in(web, web_tokens["anna"]), signed_in(web, web_tokens["bo"])
    etag = anna.get(f"/projects/{hostile}").headers["etag"]
    assert anna.get(f"/projects/{hostile}", headers={"If-None-Match": etag}).status_code == 304
    theirs = bo.get(f"/projects/{hostile}", headers={"If-None-Match": etag})
    assert theirs.status_code == 200 and "Signed in as <strong>bo</strong>" in theirs.text
    # Nobody signed in learns anything from an ETag: no 304, no page.
    outside = httpx.get(
        f"{web.base}/projects/{hostile}", headers={"If-None-Match": etag, "X-Phasegate-Live": "1"}
    )
    assert outside.status_code == 401 and hostile not in outside.text
    olle = signed_in(web, web_tokens["olle"])
    hidden = olle.get(f"/projects/{hostile}", headers={"If-None-Match": etag})
    assert hidden.status_code == 404 and hidden.headers.get("etag") != etag


def test_the_pages_load_no_inline_script(web: Served, web_tokens: dict[str, str]) -> None:
    anna = signed_in(web, web_tokens["anna"])
    root = Path(__file__).parents[2] / "phasegate" / "web" / "templates"
    for template in root.iterdir():
        text = template.read_text()
        assert "|safe" not in text.replace(" ", ""), template.name
        assert "<script>" not in text and " on" + "click=" not in text, template.name
    csp = anna.get("/work").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
