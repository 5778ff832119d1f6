"""Activities of the project workflow. Sync functions: the worker runs them in a thread pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from governance.messages import (
    ActivityName,
    CloseTasksInput,
    CreateTasksInput,
    NotifyInput,
    RecordEventsInput,
)
from ledger import Ledger, LedgerConflict, LedgerGap

log = structlog.get_logger("phasegate.activities")


class ProjectActivities:
    """Bound to one ledger; ``all()`` lists the activity functions for a worker."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_events, self.create_tasks, self.close_tasks, self.notify]

    @activity.defn(name=ActivityName.RECORD_EVENTS)
    def record_events(self, input: RecordEventsInput) -> int:
        """Append events to the hash chain. Idempotent: a retry after a crash re-appends
        what was already stored and gets the stored events back, never a duplicate."""
        try:
            for event in input.events:
                self._ledger.append(event)
        except (LedgerConflict, LedgerGap) as exc:
            # Retrying cannot help: the workflow and the ledger disagree about history.
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        last = input.events[-1]
        structlog.contextvars.bind_contextvars(project_id=last.project_id)
        log.info(
            "audit.recorded",
            seqs=[e.seq for e in input.events],
            kinds=[str(e.kind) for e in input.events],
        )
        return last.seq

    @activity.defn(name=ActivityName.CREATE_TASKS)
    def create_tasks(self, input: CreateTasksInput) -> int:
        for task in input.tasks:
            self._ledger.add_task(task)
        return len(input.tasks)

    @activity.defn(name=ActivityName.CLOSE_TASKS)
    def close_tasks(self, input: CloseTasksInput) -> int:
        return self._ledger.close_tasks(
            input.project_id, input.gate, input.status, at=input.at, keys=input.keys
        )

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
