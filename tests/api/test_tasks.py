"""The task inbox over the API: one's own tasks (another person's for the PMO only), and a
review task completed as the token's person, refused for anyone else by the workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_support import OUTSIDER, PMO, Api, error, new_project

from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path, as_: dict[str, Api]) -> str:
    """A new project at its first gate (anna and bo have its tasks)."""
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    return pid


def tasks_of(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/tasks", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def review_task(api: Api, pid: str, status: str = "open") -> dict[str, Any]:
    found = tasks_of(api, project=pid, status=status)
    [task] = [t for t in found if not t["title"].startswith("Decide")]
    return task


def test_a_person_sees_their_own_tasks(as_: dict[str, Api], pid: str) -> None:
    annas = tasks_of(as_["anna"], project=pid)
    assert sorted(t["title"] for t in annas) == [
        "Bedöm idébeskrivningen",
        "Decide gate: Beslutspunkt 1: starta förstudie (round 1)",
    ]
    assert {t["assignee"] for t in annas} == {"anna"}
    assert {t["assignee"] for t in tasks_of(as_["bo"], project=pid)} == {"bo"}
    assert tasks_of(as_[OUTSIDER], project=pid) == []
    page = as_["anna"].get("/api/tasks", params={"project": pid, "limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1


def test_only_the_pmo_sees_another_persons_tasks(as_: dict[str, Api], pid: str) -> None:
    status, kind, message = error(as_["bo"].get("/api/tasks", params={"assignee": "anna"}))
    assert (status, kind) == (403, "NotAuthorised") and "only the PMO" in message
    assert tasks_of(as_[PMO], assignee="anna", project=pid) == tasks_of(as_["anna"], project=pid)
    assert tasks_of(as_["bo"], assignee="bo", project=pid) == tasks_of(as_["bo"], project=pid)


def test_a_task_is_read_by_its_id_by_whoever_sees_its_project(
    as_: dict[str, Api], pid: str
) -> None:
    task = review_task(as_["anna"], pid)
    for person in ("anna", "david", PMO):  # its assignee, the project manager, the PMO
        response = as_[person].get(f"/api/tasks/{task['id']}")
        assert response.status_code == 200, response.text
        assert response.json() == task
    assert error(as_[OUTSIDER].get(f"/api/tasks/{task['id']}")) == (
        404,
        "UnknownTask",
        f"no task {task['id']}",
    )


def test_a_review_task_is_completed_by_its_assignee(as_: dict[str, Api], pid: str) -> None:
    task = review_task(as_["anna"], pid)
    done = as_["anna"].post(f"/api/tasks/{task['id']}/complete", {"comment": "read it"})
    assert done.status_code == 200, done.text
    assert done.json()["project_id"] == pid and done.json()["state"] == "idea_gate"
    assert review_task(as_["anna"], pid, status="done")["id"] == task["id"]
    assert all(t["id"] != task["id"] for t in tasks_of(as_["anna"], project=pid))  # not open
    history = as_["anna"].get(f"/api/projects/{pid}/history").json()["items"]
    completed = [e for e in history if e["kind"] == "task_completed"]
    assert [(e["actor"], e["comment"]) for e in completed] == [("anna", "read it")]
    status, kind, message = error(as_["anna"].post(f"/api/tasks/{task['id']}/complete"))
    assert (status, kind) == (409, "TaskClosed") and "is already done" in message


def test_another_person_cannot_complete_it(as_: dict[str, Api], pid: str) -> None:
    task = review_task(as_["anna"], pid)
    status, kind, _ = error(as_["bo"].post(f"/api/tasks/{task['id']}/complete"))
    assert (status, kind) == (403, "NotAuthorised")
    assert error(as_[OUTSIDER].post(f"/api/tasks/{task['id']}/complete")) == (
        404,
        "UnknownTask",
        f"no task {task['id']}",
    )
    assert review_task(as_["anna"], pid)["status"] == "open"


def test_a_decide_task_is_done_by_deciding(as_: dict[str, Api], pid: str) -> None:
    [decide] = [t for t in tasks_of(as_["anna"], project=pid) if t["title"].startswith("Decide")]
    status, kind, message = error(as_["anna"].post(f"/api/tasks/{decide['id']}/complete"))
    assert status == 409 and kind == "DecideTask" and "gate decide" in message
    assert message.startswith(f'task {decide["id"]} ("{decide["title"]}") is a decision')
    assert decide["key"] not in message


@pytest.mark.parametrize("task_id", ["999999", "0", str(2**40)])
def test_an_unknown_task_is_404(as_: dict[str, Api], task_id: str) -> None:
    assert error(as_["anna"].post(f"/api/tasks/{task_id}/complete")) == (
        404,
        "UnknownTask",
        f"no task {task_id}",
    )
