"""Hostile review (issue #8): acting as someone else, and seeing what is not one's own. A
request acts as its token's person whatever its body, query or headers say; a person outside
a charter learns nothing of the project (every route answers as for no project at all); the
inbox shows one's own tasks; a task is completed only through its own project."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from api_support import OUTSIDER, PMO, Api, error, eventually, new_project
from fastapi.testclient import TestClient

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path, as_: dict[str, Api]) -> str:
    """A new project at its first gate (anna and bo vote; their review tasks are open)."""
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    return pid


def vote_actors(api: Api, pid: str) -> list[str]:
    st = api.get(f"/api/projects/{pid}").json()
    return [v["actor"] for v in st["gate"]["votes"]] if st["gate"] else []


@pytest.mark.parametrize(
    "smuggle",
    [
        {"params": {"actor": "bo"}},
        {"params": {"as": "bo"}},
        {"params": {"user": "bo"}},
        {"headers": {"X-Actor": "bo"}},
        {"headers": {"X-Forwarded-User": "bo"}},
        {"headers": {"X-Remote-User": "bo"}},
        {"headers": {"Remote-User": "bo"}},
        {"headers": {"X-Phasegate-Person": "bo"}},
    ],
    ids=lambda s: next(iter(next(iter(s.values())))),
)
def test_query_params_and_headers_cannot_name_another_actor(
    as_: dict[str, Api], pid: str, smuggle: dict[str, dict[str, str]]
) -> None:
    anna = as_["anna"]
    response = anna.http.post(
        f"/api/projects/{pid}/gate/decide",
        json={"decision": "approve"},
        params=smuggle.get("params"),
        headers={**anna.headers, **smuggle.get("headers", {})},
    )
    if response.status_code == 200:
        assert vote_actors(anna, pid) == ["anna"]
    else:
        status, kind, _ = error(response)
        assert (status, kind) == (422, "InvalidInput")
        assert vote_actors(anna, pid) == []


def test_a_second_authorization_header_does_not_switch_person(
    http: TestClient, tokens: dict[str, str], pid: str, as_: dict[str, Api]
) -> None:
    """Two Authorization headers: whichever one is read, the vote is that one person's, and
    never both nor a mix."""
    response = http.post(
        f"/api/projects/{pid}/gate/decide",
        json={"decision": "approve"},
        headers=[
            ("Authorization", f"Bearer {tokens['anna']}"),
            ("Authorization", f"Bearer {tokens['bo']}"),
        ],
    )
    actors = vote_actors(as_["anna"], pid)
    if response.status_code == 200:
        assert len(actors) == 1
    else:
        assert error(response)[0] in (400, 401) and actors == []


def outsider_answers(api: Api, pid: str) -> list[tuple[int, str, str]]:
    """What every route says about ``pid`` to ``api``'s person, ``pid`` replaced by PID."""
    answers = []
    for method, path, body in (
        ("get", f"/api/projects/{pid}", None),
        ("get", f"/api/projects/{pid}/history", None),
        ("get", f"/api/projects/{pid}/allowed-actions", None),
        ("post", f"/api/projects/{pid}/gate/request", None),
        ("post", f"/api/projects/{pid}/gate/decide", {"decision": "approve"}),
        ("post", f"/api/projects/{pid}/hold", {"comment": "x"}),
        ("post", f"/api/projects/{pid}/resume", None),
        ("post", f"/api/projects/{pid}/cancel", {"comment": "x"}),
        ("get", f"/api/audit/verify?project={pid}", None),
    ):
        response = api.get(path) if method == "get" else api.post(path, body)
        status, kind, message = error(response)
        answers.append((status, kind, message.replace(pid, "PID")))
    return answers


def test_an_outsider_gets_the_answers_of_no_project_at_all(as_: dict[str, Api], pid: str) -> None:
    nothing = f"none-{uuid.uuid4().hex[:8]}"
    seen = outsider_answers(as_[OUTSIDER], pid)
    assert seen == outsider_answers(as_[OUTSIDER], nothing)
    assert {(s, k) for s, k, _ in seen} == {(404, "UnknownProject")}


def test_an_etag_probe_tells_an_outsider_nothing(as_: dict[str, Api], pid: str) -> None:
    for etag in ("*", '"x"', 'W/"x"'):
        response = as_[OUTSIDER].get(f"/api/projects/{pid}", headers={"If-None-Match": etag})
        assert error(response)[:2] == (404, "UnknownProject")


def test_list_filters_tell_an_outsider_nothing(as_: dict[str, Api], pid: str) -> None:
    """With every filter, an outsider's list has none of the projects and counts none."""
    eventually(
        lambda: as_[PMO].get("/api/projects", params={"awaiting": "idea_gate", "limit": 500}),
        lambda r: pid in [p["project_id"] for p in r.json()["items"]],
    )
    for params in (
        {},
        {"awaiting": "idea_gate"},
        {"phase": "idea"},
        {"state": "open"},
        {"awaiting": "gate:idea_gate"},
        {"offset": 0, "limit": 1},
    ):
        page = as_[OUTSIDER].get("/api/projects", params=params).json()
        assert (page["total"], page["items"]) == (0, []), params


def test_an_outsiders_inbox_filter_tells_nothing(as_: dict[str, Api], pid: str) -> None:
    nothing = f"none-{uuid.uuid4().hex[:8]}"
    for project in (pid, nothing):
        page = as_[OUTSIDER].get("/api/tasks", params={"project": project, "status": "all"})
        assert page.status_code == 200 and page.json()["total"] == 0


@pytest.mark.parametrize("assignee", ["anna", "ANNA", "anna ", " anna", "anna\n"])
def test_nobody_but_the_pmo_reads_anothers_inbox(
    as_: dict[str, Api], pid: str, assignee: str
) -> None:
    response = as_["bo"].get("/api/tasks", params={"assignee": assignee, "status": "all"})
    status, kind, _ = error(response)
    assert status in (403, 422), kind


def test_a_repeated_assignee_param_is_not_a_way_round(as_: dict[str, Api], pid: str) -> None:
    for order in (["bo", "anna"], ["anna", "bo"]):
        response = as_["bo"].get(
            "/api/tasks", params=[("assignee", a) for a in order] + [("project", pid)]
        )
        if response.status_code == 200:
            assert {t["assignee"] for t in response.json()["items"]} <= {"bo"}
        else:
            assert error(response)[0] in (403, 422)


def test_a_task_is_completed_only_by_a_member_of_its_own_project(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], http: TestClient, ledger: Ledger
) -> None:
    """zoe is in project A's charter only: project B's task is not hers to see (404), and
    project A's task of anna's is not hers to complete (the workflow's 403)."""
    zoe = f"zoe-{uuid.uuid4().hex[:6]}"
    a = new_project(setup_cli, tmp_path, zoe)
    b = new_project(setup_cli, tmp_path)
    for pid in (a, b):
        assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    zoe_api = Api(http, ledger.create_token(zoe)[1])

    def review_task(pid: str) -> dict[str, Any]:
        items = as_["anna"].get("/api/tasks", params={"project": pid}).json()["items"]
        [task] = [t for t in items if not t["title"].startswith("Decide")]
        return task

    other = review_task(b)
    assert error(zoe_api.post(f"/api/tasks/{other['id']}/complete")) == (
        404,
        "UnknownTask",
        f"no task {other['id']}",
    )
    own_project = review_task(a)
    assert error(zoe_api.post(f"/api/tasks/{own_project['id']}/complete"))[:2] == (
        403,
        "NotAuthorised",
    )
    assert review_task(a)["status"] == review_task(b)["status"] == "open"
    # and the PMO, who sees every task, is in no charter: the workflow refuses
    assert error(as_[PMO].post(f"/api/tasks/{other['id']}/complete"))[:2] == (
        403,
        "UnknownActor",
    )


def test_audit_verify_of_every_project_is_the_pmos(as_: dict[str, Api]) -> None:
    for who in ("anna", OUTSIDER):
        status, kind, _ = error(as_[who].get("/api/audit/verify"))
        assert (status, kind) == (403, "NotAuthorised")
    for odd in ("", "%00", "a/b", "..%2F", "x" * 64):
        response = as_["anna"].get(f"/api/audit/verify?project={odd}")
        assert error(response)[0] in (403, 404, 422), odd
