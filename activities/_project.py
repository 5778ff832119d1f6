"""Activities of the project workflow. Sync functions: the worker runs them in a thread pool."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from governance import days_off_between, render_report
from governance.audit import Report, ReportIn
from governance.messages import (
    ActivityName,
    ChainHeadMessage,
    DaysOffInput,
    DaysOffResult,
    NotifyInput,
    RecordInput,
    RecordResult,
    TaskChange,
)
from ledger import (
    ChainHead,
    DueShift,
    Ledger,
    LedgerAhead,
    LedgerError,
    Outgoing,
    TaskClosure,
)
from ledger import TaskChange as LedgerTaskChange

log = structlog.get_logger("phasegate.activities")

TRANSIENT_DB_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
"""Connection lost, server gone, lock or serialisation failures: retrying can help."""


class ProjectActivities:
    """Bound to one ledger; ``all()`` lists the activity functions for a worker."""

    def __init__(self, ledger: Ledger, *, outbox: bool = True) -> None:
        """``outbox``: store notifications for the postman (off: they are only logged)."""
        self._ledger = ledger
        self._outbox = outbox
        self.ledger_id = ledger.ledger_id()

    def all(self) -> list[Callable[..., Any]]:
        return [self.record, days_off]

    @activity.defn(name=ActivityName.RECORD)
    def record(self, input: RecordInput) -> RecordResult:
        """Store accepted transitions: their audit events on the hash chain, the tasks they
        open and close, the reports they issue (rendered to Markdown here) and the
        notifications they send (in the outbox, for the postman: activities/_postman.py), in
        one transaction. Nothing here waits on a mail server or a webhook.

        The input is fixed in the workflow's history, so a retry after a crash writes the
        same thing and adds nothing twice. Failures that retrying cannot mend are
        non-retryable, typed errors the workflow shows in the project's status."""
        project = input.events[0].project_id if input.events else "?"
        if input.ledger_id is not None and input.ledger_id != self.ledger_id:
            # Retryable: another worker on this task queue may hold the project's ledger.
            raise ApplicationError(
                f"this worker's ledger {self.ledger_id} ({self._ledger.display_url}) is not "
                f"ledger {input.ledger_id} that project {project} writes to",
                type="WrongLedger",
            )
        reports = [_rendered(r) for r in input.reports]
        try:
            head = self._ledger.record(
                input.events,
                [_change(project, c) for c in input.changes],
                after=None if input.after is None else ChainHead(input.after.seq, input.after.hash),
                first_run_id=input.first_run_id,
                reports=reports,
                notifications=_outgoing(input) if self._outbox else (),
            )
        except LedgerAhead as exc:
            raise ApplicationError(
                str(exc), exc.seq, exc.hash, type="LedgerAhead", non_retryable=True
            ) from exc
        except LedgerError as exc:
            raise ApplicationError(str(exc), type="LedgerDiverged", non_retryable=True) from exc
        except TRANSIENT_DB_ERRORS:
            raise
        except sa.exc.SQLAlchemyError as exc:  # a value or statement the database refuses
            raise ApplicationError(
                f"the ledger database refused the write: {exc.__class__.__name__}: "
                f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}",
                type="LedgerRefused",
                non_retryable=True,
            ) from exc
        if input.events:  # debug: one line per step would drown a busy worker's log
            log.debug(
                "audit.recorded",
                project_id=project,
                seqs=[e.seq for e in input.events],
                kinds=[str(e.kind) for e in input.events],
                task_changes=len(input.changes),
                reports=[f"{r.kind}#{r.number}" for r in reports],
            )
        for note in input.notify:
            self._notify(note)
        return RecordResult(
            ledger_id=self.ledger_id, head=ChainHeadMessage(seq=head.seq, hash=head.hash)
        )

    def _notify(self, input: NotifyInput) -> None:
        """The log channel: one structured line per recipient, at debug level (shown with
        ``PHASEGATE_LOG_LEVEL=debug``); the outbox holds them for the other channels."""
        for recipient in input.recipients:
            log.debug(
                "notify",
                channel="log",
                project_id=input.project_id,
                kind=input.kind,
                to=recipient,
                subject=input.subject,
                payload=input.payload,
            )


@activity.defn(name=ActivityName.DAYS_OFF)
def days_off(input: DaysOffInput) -> DaysOffResult:
    """The model's public holidays for a while ahead, read from the ``holidays`` library here
    and handed to the workflow: a replay uses what history holds, never the library's tables."""
    return DaysOffResult(days=days_off_between(input.country, input.first, input.last))


def _outgoing(input: RecordInput) -> list[Outgoing]:
    """The batch's notifications for the outbox, each with its idempotency key. A
    notification queued before keys existed gets one from the batch's place on the chain
    and its content: the batch is fixed in history, so a retry makes the same key."""
    events = input.events
    at_seq = {e.seq: e.at for e in events}
    base = events[-1].seq if events else (input.after.seq if input.after is not None else 0)
    out = []
    for i, note in enumerate(input.notify):
        key = note.key()
        if key is None:
            digest = hashlib.sha256(note.model_dump_json().encode()).hexdigest()[:12]
            key = f"{note.project_id}#{base}.legacy-{i}-{digest}"
        if note.event_seq in at_seq:
            at = at_seq[note.event_seq]
        else:
            at = events[-1].at if events else datetime.now(UTC)
        out.append(
            Outgoing(
                key=key,
                project_id=note.project_id,
                kind=note.kind,
                at=at,
                message=note.model_dump(mode="json"),
            )
        )
    return out


def _rendered(report: ReportIn) -> Report:
    """The report with its Markdown. Rendered on every try: a retry stores nothing new when
    the content is stored already (the ledger compares content, not Markdown)."""
    markdown = render_report(report.kind, report.content)
    return Report.model_validate({**report.model_dump(), "markdown": markdown})


def _change(project: str, change: TaskChange) -> LedgerTaskChange:
    if change.open is not None:
        return change.open
    if change.close is not None:
        c = change.close
        return TaskClosure(c.project_id, c.gate, c.status, c.at, c.keys, c.all_open)
    assert change.shift_due_seconds is not None
    return DueShift(project, timedelta(seconds=change.shift_due_seconds))
