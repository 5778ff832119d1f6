"""record(): a transition's events and its inbox changes in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from ledger_support import T0, EventFactory, TaskFactory

from ledger import Ledger, LedgerGap, TaskClosure


def test_record_stores_events_opens_and_closes_tasks_together(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    old = ledger.add_task(make_task(key="g/1/old", gate="g/1"))
    last = ledger.record(
        [make_event(seq=1), make_event(seq=2)],
        [make_task(key="g/2/new", gate="g/2")],
        [TaskClosure("proj-a", "g/1", "done", T0 + timedelta(days=1))],
    )
    assert last == 2
    assert [e.seq for e in ledger.events("proj-a")] == [1, 2]
    by_key = {t.key: t.status for t in ledger.tasks(project_id="proj-a")}
    assert by_key == {old.key: "done", "g/2/new": "open"}


def test_a_retried_record_changes_nothing_more(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    args = ([make_event(seq=1)], [make_task(key="k")], [])
    ledger.record(*args)
    before = (ledger.events(), ledger.tasks())
    assert ledger.record(*args) == 1
    assert (ledger.events(), ledger.tasks()) == before


def test_a_record_that_fails_part_way_leaves_nothing_behind(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    naive = datetime(2027, 1, 1)  # no timezone: the closure is refused after the inserts
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.record(
            [make_event(seq=1)],
            [make_task(key="k")],
            [TaskClosure("proj-a", "g/1", "done", naive)],
        )
    assert ledger.events() == [] and ledger.tasks() == []
    with pytest.raises(LedgerGap):
        ledger.record([make_event(seq=1), make_event(seq=3)], [make_task(key="k")])
    assert ledger.events() == [] and ledger.tasks() == []
