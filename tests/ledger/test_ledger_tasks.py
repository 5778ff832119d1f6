"""The task inbox: idempotent creation, filters, closing a gate's tasks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from threading import Barrier

import pytest
from ledger_support import T0, TaskFactory

from ledger import Ledger


def test_add_task_returns_an_open_task_with_an_id(ledger: Ledger, make_task: TaskFactory) -> None:
    task = ledger.add_task(make_task())
    assert task.id >= 1 and task.status == "open" and task.closed_at is None
    assert ledger.tasks() == [task]
    assert task.due == T0 + timedelta(days=5)


def test_add_task_is_idempotent_on_project_and_key(ledger: Ledger, make_task: TaskFactory) -> None:
    first = ledger.add_task(make_task())
    again = ledger.add_task(make_task(title="a retried activity, other title"))
    assert again == first
    assert len(ledger.tasks()) == 1
    other_project = ledger.add_task(make_task(project_id="proj-b"))
    assert other_project.id != first.id


def test_concurrent_add_task_creates_one_task(ledger: Ledger, make_task: TaskFactory) -> None:
    barrier = Barrier(6)

    def add(_: int) -> int:
        barrier.wait()
        return ledger.add_task(make_task()).id

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(add, range(6)))
    assert len(ids) == 1
    assert len(ledger.tasks()) == 1


def test_tasks_filter_by_assignee_project_and_status(
    ledger: Ledger, make_task: TaskFactory
) -> None:
    a = ledger.add_task(make_task("g/1/a", assignee="alice"))
    b = ledger.add_task(make_task("g/1/b", assignee="bob"))
    c = ledger.add_task(make_task("g/1/c", project_id="proj-b", assignee="alice", gate="other"))
    ledger.close_tasks("proj-b", "other", at=T0)
    assert [t.id for t in ledger.tasks(assignee="alice")] == [a.id, c.id]
    assert [t.id for t in ledger.tasks(project_id="proj-a")] == [a.id, b.id]
    assert [t.id for t in ledger.tasks(status="open")] == [a.id, b.id]
    assert [t.id for t in ledger.tasks(assignee="alice", status="done")] == [c.id]
    assert ledger.tasks(assignee="nobody") == []


def test_a_task_is_found_by_its_id_across_projects(ledger: Ledger, make_task: TaskFactory) -> None:
    a = ledger.add_task(make_task("g/1/a"))
    b = ledger.add_task(make_task("g/1/a", project_id="proj-b"))  # the same key, elsewhere
    ledger.close_tasks("proj-b", keys=["g/1/a"], at=T0)
    assert ledger.task(a.id) == a
    found = ledger.task(b.id)
    assert found is not None
    assert (found.project_id, found.key, found.status, found.closed_at) == (
        "proj-b",
        "g/1/a",
        "done",
        T0,
    )
    assert ledger.task(max(a.id, b.id) + 1) is None
    assert ledger.task(0) is None


def test_close_tasks_closes_only_the_open_tasks_of_that_gate_once(
    ledger: Ledger, make_task: TaskFactory
) -> None:
    ledger.add_task(make_task("idea/1/a"))
    ledger.add_task(make_task("idea/1/b", assignee=None))
    ledger.add_task(make_task("plan/1/a", gate="plan_gate"))
    ledger.add_task(make_task("idea/1/x", project_id="proj-b"))
    closed_at = T0 + timedelta(days=1)
    assert ledger.close_tasks("proj-a", "idea_gate", "done", at=closed_at) == 2
    assert ledger.close_tasks("proj-a", "idea_gate", "cancelled", at=closed_at) == 0
    done = ledger.tasks(status="done")
    assert {t.key for t in done} == {"idea/1/a", "idea/1/b"}
    assert all(t.closed_at == closed_at for t in done)
    assert {t.key for t in ledger.tasks(status="open")} == {"plan/1/a", "idea/1/x"}
    assert ledger.close_tasks("proj-a", "plan_gate", "cancelled", at=closed_at) == 1
    assert [t.status for t in ledger.tasks(project_id="proj-a")] == ["done", "done", "cancelled"]


def test_close_tasks_rejects_a_naive_time_and_an_unknown_status(
    ledger: Ledger, make_task: TaskFactory
) -> None:
    ledger.add_task(make_task())
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.close_tasks("proj-a", "idea_gate", at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="'done', 'cancelled' or 'withdrawn'"):
        ledger.close_tasks("proj-a", "idea_gate", "open", at=T0)  # type: ignore[arg-type]
    assert [t.status for t in ledger.tasks()] == ["open"]


def test_close_tasks_by_keys_closes_only_those_tasks(
    ledger: Ledger, make_task: TaskFactory
) -> None:
    for key in ("idea/1/alice", "idea/1/bob", "idea/1/carol"):
        ledger.add_task(make_task(key))
    ledger.add_task(make_task("idea/1/alice", project_id="proj-b"))
    closed = ledger.close_tasks("proj-a", keys=["idea/1/alice", "idea/1/bob"], at=T0)
    assert closed == 2
    assert ledger.close_tasks("proj-a", keys=["idea/1/alice"], at=T0) == 0
    assert ledger.close_tasks("proj-a", keys=[], at=T0) == 0
    assert {t.key for t in ledger.tasks(status="open")} == {"idea/1/carol", "idea/1/alice"}
    assert len(ledger.tasks(project_id="proj-b", status="open")) == 1
    with pytest.raises(ValueError, match="a gate, task keys or all_open"):
        ledger.close_tasks("proj-a", at=T0)
