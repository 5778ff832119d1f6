"""Hostile review (issue #8): the same request sent twice at the same moment. The validators
of two updates in one workflow task can both run before either handler does; the handler's
own check must still let exactly one through, and the ledger record exactly one."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, error, new_project
from httpx import Response

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

AT_ONCE = 4


def all_at_once(send: Any, n: int = AT_ONCE) -> list[Response]:
    barrier = threading.Barrier(n)

    def one(_: int) -> Response:
        barrier.wait()
        response: Response = send()
        return response

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def outcomes(responses: list[Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (r.status_code, "ok") if r.status_code == 200 else error(r)[:2] for r in responses
    )


@pytest.mark.parametrize("attempt", range(3))
def test_the_same_vote_at_once_counts_once(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], ledger: Ledger, attempt: int
) -> None:
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    vote = {"decision": "approve", "comment": "same"}
    seen = outcomes(all_at_once(lambda: as_["bo"].post(f"/api/projects/{pid}/gate/decide", vote)))
    assert seen == Counter({(200, "ok"): 1, (409, "DuplicateVote"): AT_ONCE - 1}), seen
    st = as_["bo"].get(f"/api/projects/{pid}").json()
    assert [v["actor"] for v in st["gate"]["votes"]] == ["bo"]
    cast = [e for e in ledger.events(pid) if e.kind == "vote_cast"]
    assert [e.actor for e in cast] == ["bo"]


def test_the_same_gate_request_at_once_opens_one_gate(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], ledger: Ledger
) -> None:
    pid = new_project(setup_cli, tmp_path)
    seen = outcomes(all_at_once(lambda: as_["david"].post(f"/api/projects/{pid}/gate/request")))
    assert seen[(200, "ok")] == 1 and sum(seen.values()) == AT_ONCE, seen
    assert all(status == 409 for status, _ in seen if status != 200), seen
    opened = [e for e in ledger.events(pid) if e.kind == "gate_opened"]
    assert len(opened) == 1


def test_the_two_deciding_votes_at_once_decide_the_gate_once(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], ledger: Ledger
) -> None:
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    people = iter(["anna", "bo"])
    lock = threading.Lock()

    def vote() -> Response:
        with lock:
            who = next(people)
        return as_[who].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})

    seen = outcomes(all_at_once(vote, 2))
    assert seen == Counter({(200, "ok"): 2}), seen
    st = as_["anna"].get(f"/api/projects/{pid}").json()
    assert st["state"] == "pre_study" and st["last_gate"]["outcome"] == "approve"
    kinds = Counter(e.kind for e in ledger.events(pid))
    assert kinds["vote_cast"] == 2 and kinds["gate_approved"] <= 1


def test_a_task_completed_twice_at_once_is_done_once(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], ledger: Ledger
) -> None:
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    items = as_["anna"].get("/api/tasks", params={"project": pid}).json()["items"]
    [task] = [t for t in items if not t["title"].startswith("Decide")]
    seen = outcomes(
        all_at_once(lambda: as_["anna"].post(f"/api/tasks/{task['id']}/complete", {"comment": "x"}))
    )
    assert seen[(200, "ok")] == 1 and all(s == 409 for s, _ in seen if s != 200), seen
    done = [e for e in ledger.events(pid) if e.kind == "task_completed"]
    assert len(done) == 1
