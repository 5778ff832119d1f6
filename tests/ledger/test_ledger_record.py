"""record(): a transition's events and its inbox changes in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from ledger_support import T0, EventFactory, TaskFactory

from governance.audit import GENESIS_HASH
from ledger import ChainHead, DueShift, Ledger, LedgerAhead, LedgerConflict, LedgerGap, TaskClosure


def test_record_stores_events_opens_and_closes_tasks_together(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    old = ledger.add_task(make_task(key="g/1/old", gate="g/1"))
    last = ledger.record(
        [make_event(seq=1), make_event(seq=2)],
        [
            make_task(key="g/2/new", gate="g/2"),
            TaskClosure("proj-a", "g/1", "done", T0 + timedelta(days=1)),
        ],
    )
    assert last.seq == 2 and last == ChainHead.of(ledger.events("proj-a")[-1])
    assert [e.seq for e in ledger.events("proj-a")] == [1, 2]
    by_key = {t.key: t.status for t in ledger.tasks(project_id="proj-a")}
    assert by_key == {old.key: "done", "g/2/new": "open"}


def test_a_retried_record_changes_nothing_more(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    args = ([make_event(seq=1)], [make_task(key="k")])
    ledger.record(*args)
    before = (ledger.events(), ledger.tasks())
    assert ledger.record(*args).seq == 1
    assert (ledger.events(), ledger.tasks()) == before


def test_a_record_that_fails_part_way_leaves_nothing_behind(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    naive = datetime(2027, 1, 1)  # no timezone: the closure is refused after the inserts
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.record(
            [make_event(seq=1)],
            [make_task(key="k"), TaskClosure("proj-a", "g/1", "done", naive)],
        )
    assert ledger.events() == [] and ledger.tasks() == []
    with pytest.raises(LedgerGap):
        ledger.record([make_event(seq=1), make_event(seq=3)], [make_task(key="k")])
    assert ledger.events() == [] and ledger.tasks() == []


def test_a_retried_write_with_its_head_changes_nothing_more(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    first = ledger.record([make_event(seq=1)])
    events = [make_event(seq=2), make_event(seq=3)]
    changes = [make_task(key="k"), DueShift("proj-a", timedelta(days=1))]
    head = ledger.record(events, changes, after=first)
    due = ledger.tasks()[0].due
    # the same write again (a retried activity): no second shift, the same head
    assert ledger.record(events, changes, after=first) == head
    assert ledger.tasks()[0].due == due
    assert [e.seq for e in ledger.events()] == [1, 2, 3]


def test_a_retried_write_returns_its_own_head_when_the_chain_went_on_after_it(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A reset run re-runs a write the old run had made and then written past: the writer
    learns where its own write ends, so its next write is seen as behind the chain."""
    first = ledger.record([make_event(seq=1)])
    write = [make_event(seq=2)]
    own = ledger.record(write, after=first)
    ledger.record([make_event(seq=3, comment="old run went on")], after=own)
    assert ledger.record(write, after=first) == own
    with pytest.raises(LedgerAhead):
        ledger.record([make_event(seq=3, comment="reset run")], after=own)


def test_a_chain_that_went_on_without_the_writer_is_reported_as_ahead(
    ledger: Ledger, make_event: EventFactory
) -> None:
    first = ledger.record([make_event(seq=1)])
    head = ledger.record([make_event(seq=2, comment="old run")], after=first)
    with pytest.raises(LedgerAhead) as info:
        ledger.record([make_event(seq=2, comment="reset run")], after=first)
    assert (info.value.seq, info.value.hash) == (head.seq, head.hash)
    assert [e.comment for e in ledger.events()][1] == "old run"


def test_a_chain_begun_by_the_writers_first_run_is_ahead_of_a_writer_that_knows_none_of_it(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A reset to the workflow's first task: the reset run writes from seq 1 again."""
    ledger.record([make_event(seq=1, run_id="run-1"), make_event(seq=2, run_id="run-1")])
    genesis = ChainHead(0, GENESIS_HASH)
    again = [make_event(seq=1, run_id="run-2", comment="reset run")]
    with pytest.raises(LedgerAhead) as info:
        ledger.record(again, after=genesis, first_run_id="run-1")
    assert info.value.seq == 2
    with pytest.raises(LedgerConflict, match="never reused"):  # another workflow's chain
        ledger.record(again, after=genesis, first_run_id="run-9")


def test_a_writer_that_does_not_know_the_chain_is_refused(
    ledger: Ledger, make_event: EventFactory
) -> None:
    ledger.record([make_event(seq=1), make_event(seq=2)])
    with pytest.raises(LedgerConflict, match="never reused"):
        ledger.record(
            [make_event(seq=1, comment="new project, same id")], after=ChainHead(0, GENESIS_HASH)
        )
    with pytest.raises(LedgerConflict, match="another workflow"):
        ledger.record([make_event(seq=3)], after=ChainHead(1, "0" * 64))
    with pytest.raises(LedgerConflict, match="expected seq 5"):
        ledger.record([make_event(seq=6)], after=ChainHead(5, "0" * 64))
    assert len(ledger.events()) == 2


def test_shifting_due_dates_moves_only_open_tasks_with_a_due_date(
    ledger: Ledger, make_event: EventFactory, make_task: TaskFactory
) -> None:
    ledger.record(
        [make_event(seq=1)], [make_task(key="a", gate="g/1"), make_task(key="b", gate="g/2")]
    )
    before = {t.key: t.due for t in ledger.tasks()}
    ledger.close_tasks("proj-a", "g/2", "withdrawn", at=T0)
    ledger.record(
        [make_event(seq=2)],
        [DueShift("proj-a", timedelta(hours=5)), make_task(key="c", gate="g/3")],
    )
    after = {t.key: (t.due, t.status) for t in ledger.tasks()}
    assert after["a"] == (before["a"] + timedelta(hours=5), "open")
    assert after["b"] == (before["b"], "withdrawn")
    assert after["c"][0] == make_task(key="c").due  # opened after the shift: not moved
