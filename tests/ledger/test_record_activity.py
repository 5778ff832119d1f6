"""The record activity classifies what goes wrong: a transient database failure is retried,
a value the database refuses fails the write for good (never retried for ever), a worker on
another ledger hands the write back for a worker on the project's own ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from ledger_support import T0, EventFactory
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import ProjectActivities
from governance import highlight_report, load_charter, render_report
from governance.audit import EventKind, ReportIn, digest
from governance.messages import ChainHeadMessage, RecordInput
from ledger import Ledger

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_ledger(new_pg_database: Callable[[], str]) -> Iterator[tuple[Ledger, str]]:
    url = new_pg_database()
    with Ledger(url) as ledger:
        ledger.migrate()
        yield ledger, url


def test_a_value_postgres_refuses_fails_the_write_once_not_for_ever(
    pg_ledger: tuple[Ledger, str], make_event: EventFactory
) -> None:
    ledger, _ = pg_ledger
    acts = ProjectActivities(ledger)
    # Past every validator (which refuse it): a NUL, which PostgreSQL's text type refuses.
    batch = RecordInput(events=[make_event(comment="bad\x00value")], after=ChainHeadMessage())
    with pytest.raises(ApplicationError) as info:
        ActivityEnvironment().run(acts.record, batch)
    assert info.value.type == "LedgerRefused" and info.value.non_retryable
    assert "DataError" in info.value.message
    assert ledger.events() == []


def test_a_lost_database_connection_is_retried(
    pg_ledger: tuple[Ledger, str], make_event: EventFactory, pg_admin: sa.Engine
) -> None:
    ledger, url = pg_ledger
    acts = ProjectActivities(ledger)
    name = sa.make_url(url).database
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        with pytest.raises(sa.exc.OperationalError):  # not an ApplicationError: retried
            ActivityEnvironment().run(acts.record, RecordInput(events=[make_event()]))
    finally:
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    head = ActivityEnvironment().run(acts.record, RecordInput(events=[make_event()])).head
    assert head.seq == 1 and [e.seq for e in ledger.events()] == [1]


def test_a_worker_on_another_ledger_hands_the_write_back(
    pg_ledger: tuple[Ledger, str], make_event: EventFactory
) -> None:
    ledger, _ = pg_ledger
    acts = ProjectActivities(ledger)
    batch = RecordInput(events=[make_event()], ledger_id="f" * 32)
    with pytest.raises(ApplicationError) as info:
        ActivityEnvironment().run(acts.record, batch)
    assert info.value.type == "WrongLedger" and not info.value.non_retryable
    assert acts.ledger_id in info.value.message and "f" * 32 in info.value.message
    assert ledger.events() == []


def test_the_reports_of_a_write_are_stored_rendered_with_its_events(
    pg_ledger: tuple[Ledger, str], make_event: EventFactory
) -> None:
    ledger, _ = pg_ledger
    acts = ProjectActivities(ledger)
    charter = load_charter(Path(__file__).parents[2] / "examples" / "prince2-charter.yaml")
    content = highlight_report(
        charter=charter,
        number=1,
        period_start=T0.date(),
        period_end=T0.date(),
        reason="cadence",
        state="starting_up",
        phase="starting_up",
        rag=None,
        forecast=None,
    ).model_dump(mode="json")
    issued = ReportIn(project_id="proj-a", kind="highlight", number=1, at=T0, content=content)
    payload = {"kind": "highlight", "number": 1, "sha256": digest(content)}
    batch = RecordInput(
        events=[make_event(kind=EventKind.report_issued, payload=payload)],
        reports=[issued],
        after=ChainHeadMessage(),
    )
    ActivityEnvironment().run(acts.record, batch)
    ActivityEnvironment().run(acts.record, batch)  # a retry stores nothing more
    (stored,) = ledger.reports("proj-a")
    assert stored.content == content and stored.at == T0
    assert stored.markdown == render_report("highlight", content)
    assert [e.seq for e in ledger.events()] == [1]
