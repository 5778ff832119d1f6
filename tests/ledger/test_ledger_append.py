"""Appending to the hash chain: ordering, idempotent retries, conflicts, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from ledger_support import EventFactory, RawSql, run_concurrently

from governance.audit import GENESIS_HASH, AuditEvent, event_hash
from ledger import Ledger, LedgerConflict, LedgerGap


def test_append_links_each_event_to_the_previous_hash(
    ledger: Ledger, make_event: EventFactory
) -> None:
    stored = [ledger.append(make_event(seq=seq)) for seq in (1, 2, 3)]
    assert stored[0].prev_hash == GENESIS_HASH
    assert [s.prev_hash for s in stored[1:]] == [s.hash for s in stored[:-1]]
    for event in stored:
        assert event.hash == event_hash(event, event.prev_hash)
    assert ledger.events() == stored
    assert ledger.last_seq("proj-a") == 3


def test_append_round_trips_every_field_through_the_database(
    ledger: Ledger, make_event: EventFactory
) -> None:
    event = make_event(payload={"nested": {"x": [1, 2.25, None, True]}, "ü": "ß"}, role=None)
    stored = ledger.append(event)
    (read,) = ledger.events("proj-a")
    assert read == stored
    assert read.model_dump(exclude={"prev_hash", "hash"}) == event.model_dump()
    assert read.at.utcoffset() is not None and read.at.microsecond == 123456


def test_chains_of_different_projects_are_independent(
    ledger: Ledger, make_event: EventFactory
) -> None:
    ledger.append(make_event("proj-b", 1))
    ledger.append(make_event("proj-a", 1))
    ledger.append(make_event("proj-b", 2))
    assert [(e.project_id, e.seq) for e in ledger.events()] == [
        ("proj-a", 1),
        ("proj-b", 1),
        ("proj-b", 2),
    ]
    assert [e.seq for e in ledger.events("proj-b")] == [1, 2]
    assert ledger.last_seq("proj-a") == 1
    assert ledger.last_seq("nobody") == 0


def test_retried_append_returns_the_stored_event_unchanged(
    ledger: Ledger, make_event: EventFactory
) -> None:
    first = ledger.append(make_event(seq=1))
    ledger.append(make_event(seq=2))
    assert ledger.append(make_event(seq=1)) == first
    assert len(ledger.events()) == 2


def test_conflicting_append_raises_and_changes_nothing(
    ledger: Ledger, make_event: EventFactory
) -> None:
    ledger.append(make_event(seq=1))
    before = ledger.events()
    with pytest.raises(LedgerConflict, match=r"proj-a#1 .*differs in: comment, payload"):
        ledger.append(make_event(seq=1, comment="rewritten", payload={}))
    assert ledger.events() == before


def test_append_with_a_gap_raises_naming_the_expected_seq(
    ledger: Ledger, make_event: EventFactory
) -> None:
    with pytest.raises(LedgerGap, match="expected seq 1"):
        ledger.append(make_event(seq=2))
    ledger.append(make_event(seq=1))
    with pytest.raises(LedgerGap, match=r"proj-a#5 .*expected seq 2"):
        ledger.append(make_event(seq=5))
    assert ledger.last_seq("proj-a") == 1


def test_concurrent_retries_from_threads_leave_exactly_one_row(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    ledger.append(make_event(seq=1))
    event = make_event(seq=2)
    barrier = Barrier(8)

    def append() -> AuditEvent:
        barrier.wait()
        return ledger.append(event)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: append(), range(8)))
    assert len({r.hash for r in results}) == 1
    assert raw_sql("SELECT count(*) FROM audit_events WHERE seq = 2")[0][0] == 1
    assert [e.seq for e in ledger.events()] == [1, 2]
    assert ledger.verify().ok


def test_concurrent_different_events_for_one_seq_store_one_and_reject_the_rest(
    ledger: Ledger, make_event: EventFactory
) -> None:
    barrier = Barrier(6)

    def append(i: int) -> str:
        barrier.wait()
        try:
            ledger.append(make_event(seq=1, comment=f"writer {i}"))
        except LedgerConflict:
            return "conflict"
        return "stored"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(append, range(6)))
    assert outcomes == ["conflict"] * 5 + ["stored"]
    assert len(ledger.events()) == 1


def test_concurrent_retries_from_processes_leave_exactly_one_row(
    ledger: Ledger, ledger_url: str, make_event: EventFactory
) -> None:
    ledger.append(make_event(seq=1))
    payload = make_event(seq=2).model_dump_json()
    hashes = run_concurrently([["append", ledger_url, payload]] * 3)
    assert len(set(hashes)) == 1
    assert [e.seq for e in ledger.events()] == [1, 2]
    assert ledger.events()[1].hash == hashes[0]


def test_in_memory_sqlite_ledger_is_shared_by_threads(make_event: EventFactory) -> None:
    with Ledger("sqlite://") as ledger:
        ledger.migrate()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda seq: ledger.append(make_event(seq=1)), range(4)))
            pool.submit(ledger.append, make_event(seq=2)).result()
        assert [e.seq for e in ledger.events()] == [1, 2]
        assert ledger.verify().ok
