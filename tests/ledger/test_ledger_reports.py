"""Reports in the ledger: stored with the events that issue them, immutable per number, read
back in order (also from a read-only ledger), and a ledger from before them migrated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from ledger_support import HEAD, T0, EventFactory, RawSql, TaskFactory

from governance.audit import EventKind, Report, ReportKind, digest
from ledger import (
    Ledger,
    LedgerError,
    LedgerSchemaError,
)
from ledger._engine import create_engine
from ledger._ledger import _alembic_config
from ledger._schema import VERSION_TABLE


def report(
    kind: ReportKind = "highlight", number: int = 1, project_id: str = "proj-a", **content: Any
) -> Report:
    body: dict[str, Any] = {
        "title": f"{kind} {number}",
        "rag": {"cost": "green", "time": "amber"},
        "figures": {"spi": 0.95, "cpi": 1.0, "eac": 105000},
        "note": "på väg ✓",
    }
    body.update(content)
    return Report(
        project_id=project_id,
        kind=kind,
        number=number,
        at=T0 + timedelta(days=7 * number),
        content=body,
        markdown=f"# {kind.title()} report {number}\n\nOn track.\n",
    )


def issued(make_event: EventFactory, seq: int, r: Report) -> Any:
    return make_event(
        seq=seq,
        kind=EventKind.report_issued,
        payload={"kind": r.kind, "number": r.number, "sha256": digest(r.content)},
    )


def test_record_stores_reports_with_their_events(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    first = report()
    head = ledger.record([issued(make_event, 1, first)], reports=[first])
    assert head.seq == 1 and [e.kind for e in ledger.events()] == [EventKind.report_issued]
    assert ledger.reports("proj-a") == [first]
    assert ledger.report("proj-a", "highlight") == first
    assert ledger.report("proj-a", "highlight", 1) == first
    canonical = json.dumps(first.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert raw_sql("SELECT sha256 FROM reports") == [(digest,)]


def test_readers_order_by_kind_then_number_and_report_without_number_is_the_latest(
    ledger: Ledger, make_event: EventFactory
) -> None:
    written = [report("highlight", 2), report("exception", 1), report("highlight", 1)]
    ledger.record([make_event(seq=1)], reports=written[:2])
    ledger.record([make_event(seq=2)], reports=written[2:])
    ledger.record([make_event(seq=1, project_id="proj-b")], reports=[report(project_id="proj-b")])
    keys = [(r.kind, r.number) for r in ledger.reports("proj-a")]
    assert keys == [("exception", 1), ("highlight", 1), ("highlight", 2)]
    assert [r.number for r in ledger.reports("proj-a", "highlight")] == [1, 2]
    assert ledger.report("proj-a", "highlight") == written[0]
    assert ledger.report("proj-a", "exception") == written[1]
    assert ledger.report("proj-a", "highlight", 3) is None
    assert ledger.report("proj-c", "highlight") is None
    assert ledger.reports("proj-c") == []


def test_a_retried_record_with_its_reports_changes_nothing(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    r = report()
    events = [issued(make_event, 1, r)]
    head = ledger.record(events, reports=[r])
    assert ledger.record(events, reports=[r]) == head  # without a head: appended idempotently
    assert ledger.record(events, reports=[r], after=None) == head
    first_head = ledger.record([make_event(seq=2)])
    r2 = report(number=2)
    write = [issued(make_event, 3, r2)]
    head3 = ledger.record(write, reports=[r2], after=first_head)
    assert ledger.record(write, reports=[r2], after=first_head) == head3  # with its head
    assert raw_sql("SELECT count(*) FROM reports") == [(2,)]
    assert ledger.reports("proj-a") == [r, r2]


def test_the_same_content_again_keeps_the_stored_markdown_and_time(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A retry after a new worker renders the Markdown otherwise: the content decides."""
    r = report()
    ledger.record([make_event(seq=1)], reports=[r])
    again = r.model_copy(update={"markdown": "# rendered anew\n", "at": r.at + timedelta(hours=1)})
    ledger.record([make_event(seq=2)], reports=[again])
    assert ledger.reports("proj-a") == [r]


def test_other_content_under_a_stored_number_after_a_reset_is_kept_beside_it(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A workflow rewound by a Temporal reset issues its report #1 again with other content:
    the superseded one stays (as superseded events do) and the later one is report #1."""
    ledger.record([make_event(seq=1)], reports=[report()])
    other = report(note="changed")
    ledger.record([make_event(seq=2)], reports=[other])
    ledger.record([make_event(seq=2)], reports=[other])  # a retry adds nothing
    assert ledger.reports("proj-a") == [report(), other]
    assert ledger.report("proj-a", "highlight", 1) == other
    assert ledger.report("proj-a", "highlight") == other


def test_key_order_of_the_content_does_not_matter(ledger: Ledger, make_event: EventFactory) -> None:
    r = report()
    reordered = r.model_copy(update={"content": dict(reversed(list(r.content.items())))})
    ledger.record([make_event(seq=1)], reports=[r])
    ledger.record([make_event(seq=2)], reports=[reordered])
    assert ledger.reports("proj-a") == [r]
    assert digest(r.content) == digest(reordered.content)


def test_reports_without_events_are_stored(ledger: Ledger) -> None:
    assert ledger.record(reports=[report("exception")]).seq == 0
    assert ledger.report("proj-a", "exception") == report("exception")


def test_a_report_altered_behind_the_ledgers_back_is_not_read_as_valid(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    ledger.record([make_event(seq=1)], reports=[report()])
    raw_sql("UPDATE reports SET content = :c", c=json.dumps({"title": "forged"}))
    with pytest.raises(LedgerError, match="altered after it was recorded"):
        ledger.reports("proj-a")
    with pytest.raises(LedgerError, match="altered after it was recorded"):
        ledger.report("proj-a", "highlight")


def test_a_read_only_ledger_reads_reports(
    ledger: Ledger, ledger_url: str, make_event: EventFactory
) -> None:
    written = [report(), report("exception")]
    ledger.record([make_event(seq=1)], reports=written)
    with Ledger.existing(ledger_url) as reader:
        assert reader.reports("proj-a") == [written[1], written[0]]
        assert reader.report("proj-a", "highlight") == written[0]


def _migrate(url: str, step: Callable[[Config], None]) -> None:
    """Run an alembic command on the ledger at ``url`` (a new SQLite file's folder made)."""
    config = _alembic_config()
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        step(config)
    engine.dispose()


def test_a_ledger_at_0003_is_upgraded_keeping_its_events_and_tasks(
    ledger_url: str, make_event: EventFactory, make_task: TaskFactory, raw_sql: RawSql
) -> None:
    _migrate(ledger_url, lambda config: command.upgrade(config, "0003"))
    assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [("0003",)]
    with Ledger(ledger_url) as old:
        stored = old.append(make_event(seq=1))
        task = old.add_task(make_task())
        ledger_id = old.ledger_id()
    with pytest.raises(LedgerSchemaError, match=f"older than this phasegate's '{HEAD}'"):
        Ledger.existing(ledger_url)
    with Ledger(ledger_url) as upgraded:
        upgraded.migrate()
        assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
        assert upgraded.events() == [stored] and upgraded.ledger_id() == ledger_id
        assert upgraded.tasks() == [task]
        assert upgraded.reports("proj-a") == []
        upgraded.record([make_event(seq=2)], reports=[report()])
    with Ledger.existing(ledger_url) as reader:
        assert reader.reports("proj-a") == [report()]


def test_downgrading_0004_drops_only_the_reports(
    ledger: Ledger, ledger_url: str, make_event: EventFactory, raw_sql: RawSql
) -> None:
    ledger.record([make_event(seq=1)], reports=[report()])
    _migrate(ledger_url, lambda config: command.downgrade(config, "0003"))
    assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [("0003",)]
    assert raw_sql("SELECT count(*) FROM audit_events") == [(1,)]
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("reports")
    engine.dispose()
