"""Hostile review (rev3) of who may do what on the dashboard (votes, tasks and exports of
projects a person may not see; the remembered charter people), bad input in paths, queries
and forms, and two tabs voting at once."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from web_support import Served, csrf_of, signed_in

from ledger import Ledger
from tests.api.api_support import OUTSIDER, PMO, new_project
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def gated(web_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    project = new_project(web_cli, tmp_path_factory.mktemp("rev3-authz"))
    web_cli("gate", "request", project, "--as", "david")
    return project


def _votes(web_ledger: Ledger, pid: str) -> list[tuple[str, str]]:
    return [
        (e.actor, str(e.payload.get("decision")))
        for e in web_ledger.events(pid)
        if e.kind == "vote_cast"
    ]


def test_an_outsider_can_neither_see_nor_act_on_a_project(
    web: Served, web_tokens: dict[str, str], gated: str, web_ledger: Ledger
) -> None:
    olle = signed_in(web, web_tokens[OUTSIDER])
    csrf = csrf_of(olle.get("/work").text)
    # The PMO looked first: the remembered charter people are no list of who may look.
    assert gated in signed_in(web, web_tokens[PMO]).get("/").text
    for path in ("/", "/audit", "/work"):
        assert gated not in olle.get(path).text, path
    assert olle.get(f"/projects/{gated}").status_code == 404
    assert olle.get(f"/audit/export?project={gated}&format=jsonl").status_code == 404
    assert olle.get("/audit/export?format=jsonl").status_code == 403
    decided = olle.post(
        f"/projects/{gated}/decide", data={"csrf": csrf, "decision": "approve", "back": "project"}
    )
    acted = olle.post(
        f"/projects/{gated}/act", data={"csrf": csrf, "action": "cancel", "comment": "x"}
    )
    assert decided.status_code == acted.status_code == 404
    assert gated not in decided.text.replace(f"no project {gated}", "")
    tasks = web_ledger.tasks(project_id=gated, status="open")
    assert tasks, "the gate hands out decide tasks"
    for task in tasks:
        done = olle.post(f"/tasks/{task.id}/complete", data={"csrf": csrf})
        assert done.status_code == 404 and task.title not in done.text
    assert _votes(web_ledger, gated) == []
    assert {t.id for t in web_ledger.tasks(project_id=gated, status="open")} == {
        t.id for t in tasks
    }


def test_a_charter_person_cannot_complete_another_persons_task(
    web: Served, web_tokens: dict[str, str], gated: str, web_ledger: Ledger
) -> None:
    theirs = [t for t in web_ledger.tasks(project_id=gated, status="open") if t.assignee != "erik"]
    assert theirs
    erik = signed_in(web, web_tokens["erik"])
    csrf = csrf_of(erik.get("/work").text)
    for task in theirs:
        answer = erik.post(f"/tasks/{task.id}/complete", data={"csrf": csrf, "back": "work"})
        assert 400 <= answer.status_code < 500, (task.key, answer.status_code)
    still = {t.id for t in web_ledger.tasks(project_id=gated, status="open")}
    assert {t.id for t in theirs} <= still


def test_my_work_shows_only_my_own_tasks(
    web: Served, web_tokens: dict[str, str], gated: str, web_ledger: Ledger
) -> None:
    page = signed_in(web, web_tokens["cecilia"]).get("/work").text
    for task in web_ledger.tasks(project_id=gated, status="open"):
        if task.assignee != "cecilia":
            assert f"/tasks/{task.id}/complete" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/projects/{pid}?page=-1",
        "/projects/{pid}?page=0",
        "/projects/{pid}?page=abc",
        "/projects/{pid}?page=" + "9" * 40,
        "/projects/{pid}?page=100000",
        "/?phase=%00",
        "/?model=a%00b&rag=%ff",
        "/?awaiting=" + "x" * 200,
        "/audit/export?format=xml",
        "/audit/export?project=%00&format=csv",
        "/audit/export?project=../../etc/passwd",
        "/tasks/99999999999999999999999999/complete",
        "/projects/" + "a" * 5000,
        "/?" + "&".join(f"f{i}=x" for i in range(2000)),
    ],
)
def test_bad_input_in_a_path_or_query_is_no_500(
    web: Served, web_tokens: dict[str, str], gated: str, path: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    answer = anna.get(path.format(pid=gated))
    assert answer.status_code < 500 or answer.status_code == 405, answer.text[:300]


@pytest.mark.parametrize(
    "fields",
    [
        {"decision": "approve", "round": "\u00b2"},  # a superscript two: isdigit, no int
        {"decision": "approve", "round": "9" * 5000},  # beyond int()'s digits
        {"decision": "approve", "round": "99999999999999999999999"},
        {"decision": "approve", "round": "-1"},
        {"decision": "approve\x00", "round": "1"},
        {"decision": "reject", "comment": "x" * 3_000_000},
        {"decision": "approve", "back": "https://evil.example"},
    ],
    ids=["superscript", "long-round", "huge-round", "negative", "nul", "3MB-comment", "back"],
)
def test_a_bad_vote_form_is_refused_and_changes_nothing(
    web: Served, web_tokens: dict[str, str], gated: str, web_ledger: Ledger, fields: dict[str, str]
) -> None:
    cecilia = signed_in(web, web_tokens["cecilia"])
    csrf = csrf_of(cecilia.get("/work").text)
    before = len(web_ledger.events(gated))
    answer = cecilia.post(f"/projects/{gated}/decide", data={**fields, "csrf": csrf})
    if fields.get("back", "").startswith("https"):
        assert "location" not in answer.headers  # the answer is a page, never a redirect
        return
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    assert len(web_ledger.events(gated)) == before


def test_a_bad_task_id_in_a_form_is_no_500(web: Served, web_tokens: dict[str, str]) -> None:
    anna = signed_in(web, web_tokens["anna"])
    csrf = csrf_of(anna.get("/work").text)
    for task_id in ("99999999999999999999999999", "-1", "0"):
        answer = anna.post(f"/tasks/{task_id}/complete", data={"csrf": csrf})
        assert 400 <= answer.status_code < 500, (task_id, answer.status_code)


def test_a_form_with_many_fields_or_bad_bytes_is_refused(
    web: Served, web_tokens: dict[str, str], gated: str
) -> None:
    anna = signed_in(web, web_tokens["anna"])
    csrf = csrf_of(anna.get("/work").text)
    many = "&".join([f"csrf={csrf}", "decision=approve"] + [f"f{i}=x" for i in range(100)])
    kind = {"content-type": "application/x-www-form-urlencoded"}
    assert anna.post(f"/projects/{gated}/decide", content=many, headers=kind).status_code == 400
    bad = f"csrf={csrf}&decision=approve&comment=".encode() + b"\xff\xfe"
    assert anna.post(f"/projects/{gated}/decide", content=bad, headers=kind).status_code == 400


def test_two_tabs_voting_at_once_record_one_vote(
    web: Served, web_tokens: dict[str, str], web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    pid = new_project(web_cli, tmp_path)
    web_cli("gate", "request", pid, "--as", "david")
    bo = signed_in(web, web_tokens["bo"])
    csrf = csrf_of(bo.get("/work").text)
    cookies = dict(bo.cookies)
    answers: list[int] = []

    def vote(decision: str) -> None:
        tab = httpx.Client(base_url=web.base, cookies=cookies, timeout=60)
        data = {"csrf": csrf, "decision": decision, "round": "1", "comment": "two tabs"}
        answers.append(tab.post(f"/projects/{pid}/decide", data=data).status_code)

    tabs = [threading.Thread(target=vote, args=(d,)) for d in ("approve", "reject", "approve")]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join(120)
    assert sorted(answers)[0] == 200 and sorted(answers)[1:] == [409, 409], answers
    assert len([v for v in _votes(web_ledger, pid) if v[0] == "bo"]) == 1
