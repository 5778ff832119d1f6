"""verify() recomputes every chain from the raw columns and names the first broken event."""

from __future__ import annotations

import json

from ledger_support import EventFactory, RawSql

from governance.audit import EventKind, event_hash
from ledger import Ledger


def _chain(
    ledger: Ledger, make_event: EventFactory, project_id: str = "proj-a", n: int = 5
) -> None:
    for seq in range(1, n + 1):
        ledger.append(make_event(project_id, seq))


def test_verify_is_ok_on_a_clean_chain(ledger: Ledger, make_event: EventFactory) -> None:
    _chain(ledger, make_event, "proj-a")
    _chain(ledger, make_event, "proj-b", 3)
    report = ledger.verify()
    assert report.ok
    assert (report.projects, report.events_checked) == (2, 8)
    assert report.first_broken is None and report.broken == []


def test_verify_is_ok_on_an_empty_ledger(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok and report.projects == 0 and report.events_checked == 0


def test_verify_detects_an_edited_event(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql("UPDATE audit_events SET comment = 'approved, honest' WHERE seq = 3")
    report = ledger.verify()
    assert not report.ok
    assert report.first_broken is not None
    assert (report.first_broken.project_id, report.first_broken.seq) == ("proj-a", 3)
    assert "hash does not match" in report.first_broken.reason


def test_verify_detects_an_edited_payload(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql(
        "UPDATE audit_events SET payload = :p WHERE seq = 2",
        p='{"decision": "no-go", "n": 2, "ratio": 0.5, "tags": ["a", "b"]}',
    )
    assert ledger.verify().first_broken is not None
    assert ledger.verify().first_broken.seq == 2  # type: ignore[union-attr]


def test_verify_detects_a_deleted_event(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql("DELETE FROM audit_events WHERE seq = 2")
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 2
    assert "seq 2 is missing" in broken.reason


def test_verify_detects_a_deleted_event_renumbered_to_hide_the_gap(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql("DELETE FROM audit_events WHERE seq = 2")
    for seq in (3, 4, 5):
        raw_sql("UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 2
    assert "prev_hash" in broken.reason


def test_verify_detects_two_events_with_swapped_seq(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql("UPDATE audit_events SET seq = -1 WHERE seq = 3")
    raw_sql("UPDATE audit_events SET seq = 3 WHERE seq = 4")
    raw_sql("UPDATE audit_events SET seq = 4 WHERE seq = -1")
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 3


def test_verify_detects_two_events_with_swapped_content_and_hashes(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    columns = "at, comment, payload, prev_hash, hash"
    rows = {
        seq: raw_sql(f"SELECT {columns} FROM audit_events WHERE seq = :s", s=seq)[0]
        for seq in (2, 3)
    }
    for seq, other in ((2, 3), (3, 2)):
        at, comment, payload, prev_hash, digest = rows[other]
        raw_sql(
            "UPDATE audit_events SET at = :at, comment = :c, payload = :p, prev_hash = :ph,"
            " hash = :h WHERE seq = :s",
            at=at,
            c=comment,
            p=payload if isinstance(payload, str) else json.dumps(payload),
            ph=prev_hash,
            h=digest,
            s=seq,
        )
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 2


def test_verify_detects_a_forged_hash(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event)
    raw_sql("UPDATE audit_events SET hash = :h WHERE seq = 4", h="f" * 64)
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 4
    assert "forged" in broken.reason


def test_verify_detects_an_edit_with_a_recomputed_hash_at_the_next_event(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    """A forger who rehashes the edited event is caught by the next event's prev_hash."""
    _chain(ledger, make_event)
    (stored,) = [e for e in ledger.events() if e.seq == 2]
    edited = make_event(seq=2, comment="forged")
    raw_sql(
        "UPDATE audit_events SET comment = 'forged', hash = :h WHERE seq = 2",
        h=event_hash(edited, stored.prev_hash),
    )
    broken = ledger.verify().first_broken
    assert broken is not None and broken.seq == 3
    assert "prev_hash does not match the hash of seq 2" in broken.reason


def test_verify_reports_every_broken_project_and_checks_one_on_request(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    for project in ("proj-a", "proj-b", "proj-c"):
        _chain(ledger, make_event, project, 3)
    raw_sql("UPDATE audit_events SET actor = 'mallory' WHERE project_id = 'proj-c' AND seq = 1")
    raw_sql("UPDATE audit_events SET actor = 'mallory' WHERE project_id = 'proj-a' AND seq = 2")
    report = ledger.verify()
    assert [(b.project_id, b.seq) for b in report.broken] == [("proj-a", 2), ("proj-c", 1)]
    assert report.first_broken == report.broken[0]
    assert report.projects == 3
    assert ledger.verify("proj-b").ok
    assert ledger.verify("proj-c").first_broken.seq == 1  # type: ignore[union-attr]


def test_verify_report_serialises_first_broken(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _chain(ledger, make_event, n=2)
    raw_sql("UPDATE audit_events SET kind = 'gate_passed' WHERE seq = 1")
    dumped = ledger.verify().model_dump()
    assert dumped["ok"] is False
    assert dumped["first_broken"]["seq"] == 1


def test_a_chain_is_unfinished_until_its_terminal_event_an_iterations_too(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A project's chain ends with closed or cancelled; an iteration's own chain
    (``<project>/it-<n>``) ends with iteration_ended."""
    _chain(ledger, make_event, "proj-a", 2)
    ledger.append(make_event("proj-a", 3, kind=EventKind.closed))
    _chain(ledger, make_event, "proj-b", 2)
    _chain(ledger, make_event, "proj-b/it-1", 2)
    ledger.append(make_event("proj-b/it-1", 3, kind=EventKind.iteration_ended))
    _chain(ledger, make_event, "proj-b/it-2", 1)
    assert ledger.unfinished_projects() == ["proj-b", "proj-b/it-2"]
    assert ledger.unfinished_projects("proj-b/it-1") == []
