"""The record activity logs each ledger write and each notification at debug level: a worker
at the default level (info) stays quiet while projects move."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from ledger_support import EventFactory
from temporalio.testing import ActivityEnvironment

from activities import ProjectActivities
from governance.messages import ChainHeadMessage, NotifyInput, RecordInput
from ledger import Ledger


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        yield ledger


def test_ledger_writes_and_notifications_are_logged_at_debug(
    sqlite_ledger: Ledger, make_event: EventFactory
) -> None:
    note = NotifyInput(
        project_id="proj-a", kind="gate_opened", recipients=["anna", "bo"], subject="Decide"
    )
    batch = RecordInput(events=[make_event()], after=ChainHeadMessage(), notify=[note])
    structlog.reset_defaults()  # whatever an earlier test in this process configured
    with structlog.testing.capture_logs() as logs:
        ActivityEnvironment().run(ProjectActivities(sqlite_ledger).record, batch)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("audit.recorded", "debug"),
        ("notify", "debug"),
        ("notify", "debug"),
    ]
    assert [e["to"] for e in logs[1:]] == ["anna", "bo"]
