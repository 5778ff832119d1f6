"""Activities of the project workflow. Sync functions: the worker runs them in a thread pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from governance.messages import ActivityName, NotifyInput, RecordInput
from ledger import Ledger, LedgerConflict, LedgerGap, TaskClosure

log = structlog.get_logger("phasegate.activities")


class ProjectActivities:
    """Bound to one ledger; ``all()`` lists the activity functions for a worker."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def all(self) -> list[Callable[..., Any]]:
        return [self.record, self.notify]

    @activity.defn(name=ActivityName.RECORD)
    def record(self, input: RecordInput) -> int:
        """Store one transition: its audit events on the hash chain, the tasks it opens and
        closes, in one transaction. Idempotent: a retry after a crash finds what was stored
        and adds nothing twice."""
        closures = [TaskClosure(c.project_id, c.gate, c.status, c.at, c.keys) for c in input.close]
        try:
            last = self._ledger.record(input.events, input.open, closures)
        except (LedgerConflict, LedgerGap) as exc:
            # Retrying cannot help: the workflow and the ledger disagree about history.
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        if input.events:
            log.info(
                "audit.recorded",
                project_id=input.events[-1].project_id,
                seqs=[e.seq for e in input.events],
                kinds=[str(e.kind) for e in input.events],
                tasks_opened=len(input.open),
                closures=len(input.close),
            )
        return last

    @activity.defn(name=ActivityName.NOTIFY)
    def notify(self, input: NotifyInput) -> None:
        """The log channel: one structured line per recipient. Richer channels come later."""
        for recipient in input.recipients:
            log.info(
                "notify",
                channel="log",
                project_id=input.project_id,
                kind=input.kind,
                to=recipient,
                subject=input.subject,
                payload=input.payload,
            )
