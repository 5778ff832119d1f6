"""The project's outbox to the ledger: what a step accepted, written in order, exactly once.

A step (an update, a timer step, a cancellation) runs without awaiting anything: it checks,
changes the workflow's state and queues its audit events, task changes and notifications
here, with their sequence numbers and times fixed. The writer, a task of its own, sends
whatever is queued to the ``record`` activity, several steps at a time. A *regular* activity:
its input is fixed in the workflow's history before it runs, so a worker killed at any instant
either never scheduled it (the step is not in history either, and runs again from scratch) or
scheduled it with exactly the content a retry writes again. The ledger therefore holds exactly
what the workflow accepted: no orphan, no gap, no duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from governance import Charter
    from governance.audit import AuditEventIn, EventKind, GateTaskIn, ReportIn, ReportKind, digest
    from governance.messages import (
        LEDGER_MEMO,
        ActivityName,
        ChainHeadMessage,
        ChainState,
        CloseTasksInput,
        NotifyInput,
        NotifyPerson,
        RecordInput,
        RecordResult,
        TaskChange,
    )

WRITE_TIMEOUT = timedelta(seconds=20)
WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=6,
    non_retryable_error_types=["LedgerAhead", "LedgerDiverged", "LedgerRefused"],
)
"""A few quick tries (about half a minute); then the project shows the error and the writer
tries again after a pause, for as long as it takes (see ``Recording.run``)."""
PAUSES = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
"""Pauses between rounds of tries once the ledger keeps failing, the last one repeating."""
MAX_BACKLOG = 500
"""Events queued and not yet written past which new requests are refused."""


class Recording:
    """Queues one chain's writes in its workflow's state and writes them, in order, one batch
    at a time; ``idle`` once everything queued is in the ledger.

    A project's chain is named by the project's id; an iteration's by ``<project>/it-<n>``.
    ``task_project`` and ``task_group`` say whose inbox tasks the chain's workflow owns (the
    project's, or one iteration's group of them): a reset withdraws those and no others.
    """

    def __init__(
        self,
        state: ChainState,
        chain: str,
        model: str,
        model_hash: str,
        current_tasks: Callable[[], list[GateTaskIn]],
        *,
        task_project: str | None = None,
        task_group: str | None = None,
        charter: Callable[[], Charter] | None = None,
    ) -> None:
        self._s = state
        self._charter = charter
        """The charter in force: a notification names its recipients as it does."""
        self._current_tasks = current_tasks
        """The tasks that should be open now: issued again after a reset."""
        self._project = chain
        self._task_project = task_project or chain
        self._task_group = task_group
        self._model = model
        self._model_hash = model_hash
        self._in_flight = False

    # -- queueing (synchronous: part of the step that accepts) --------------------------------

    def event(
        self,
        kind: EventKind,
        from_state: str | None,
        to_state: str | None,
        *,
        actor: str | None = None,
        role: str | None = None,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Queue an audit event with the next sequence number and the step's time."""
        self._s.seq += 1
        self._s.outbox.events.append(
            self._audit_event(
                self._s.seq,
                kind,
                from_state,
                to_state,
                actor=actor,
                role=role,
                comment=comment,
                payload=payload,
            )
        )

    def _audit_event(
        self,
        seq: int,
        kind: EventKind,
        from_state: str | None = None,
        to_state: str | None = None,
        *,
        actor: str | None = None,
        role: str | None = None,
        comment: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> AuditEventIn:
        info = workflow.info()
        return AuditEventIn(
            project_id=self._project,
            seq=seq,
            at=workflow.now(),
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            role=role,
            comment=comment,
            payload=payload or {},
            model=self._model,
            model_hash=self._model_hash,
            workflow_id=info.workflow_id,
            run_id=info.run_id,
        )

    def open(self, tasks: list[GateTaskIn]) -> None:
        self._s.outbox.changes += [TaskChange(open=t) for t in tasks]

    def close(self, closure: CloseTasksInput) -> None:
        self._s.outbox.changes.append(TaskChange(close=closure))

    def shift_due(self, by: timedelta) -> None:
        self._s.outbox.changes.append(TaskChange(shift_due_seconds=by.total_seconds()))

    def notify(self, kind: Any, recipients: list[str], subject: str, **payload: Any) -> None:
        """Queue a notification; its idempotency key is the chain, the event the step queued
        last (its cause) and the chain's count of notifications, so no two are alike and a
        retried write stores it once (the ledger's outbox; delivery is not the workflow's)."""
        if recipients:
            charter = self._charter() if self._charter is not None else None
            people = [
                NotifyPerson(id=p.id, name=p.name, email=p.email, roles=list(p.roles))
                for p in (charter.person(r) if charter is not None else None for r in recipients)
                if p is not None
            ]
            self._s.outbox.notify.append(
                NotifyInput(
                    project_id=self._task_project,
                    kind=kind,
                    recipients=recipients,
                    subject=subject,
                    payload=payload,
                    chain=self._project,
                    event_seq=self._s.seq,
                    ordinal=self._s.notified,
                    model=self._model,
                    title=charter.title if charter is not None else None,
                    people=people,
                )
            )
            self._s.notified += 1

    def report(
        self, kind: ReportKind, number: int, content: dict[str, Any], *, to_state: str | None
    ) -> None:
        """Queue a report (highlight or exception) for the ledger's store, and the event that
        records it with its content's SHA-256: the chain vouches for the report."""
        self._s.outbox.reports.append(
            ReportIn(
                project_id=self._project,
                kind=kind,
                number=number,
                at=workflow.now(),
                content=content,
            )
        )
        self.event(
            EventKind.report_issued,
            to_state,
            to_state,
            payload={"kind": kind, "number": number, "sha256": digest(content)},
        )

    # -- state ----------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return not self._in_flight and not self._pending()

    @property
    def backlog(self) -> int:
        return self._s.seq - self._s.recorded.seq

    def refusal(self) -> str | None:
        """Why a new request must wait, or None: a ledger that keeps failing, or a backlog."""
        if self._s.ledger_error is not None:
            return f"the ledger is not taking this project's writes ({self._s.ledger_error})"
        if self.backlog > MAX_BACKLOG:
            return f"the ledger is {self.backlog} events behind"
        return None

    async def recorded(self, last_seq: int) -> None:
        """Wait (no timer) until the ledger holds the events up to ``last_seq``, or shows why
        it does not: a step whose handler returns after this is in the audit trail."""
        moved = self._s.renumbered  # a reset may renumber the step's events meanwhile
        await workflow.wait_condition(
            lambda: (
                self._s.recorded.seq >= last_seq + self._s.renumbered - moved
                or self._s.ledger_error is not None
            )
        )

    def _pending(self) -> bool:
        box = self._s.outbox
        return bool(box.events or box.changes or box.notify or box.reports)

    # -- writing ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Write whatever is queued, batch by batch, for the life of the run."""
        while True:
            await workflow.wait_condition(self._pending)
            batch = self._s.outbox
            self._s.outbox = RecordInput()
            self._in_flight = True
            try:
                await self._write(batch)
            finally:
                self._in_flight = False

    async def _write(self, batch: RecordInput) -> None:
        failures = 0
        while True:
            batch.after = self._s.recorded
            batch.ledger_id = self._s.ledger_id
            batch.first_run_id = workflow.info().first_execution_run_id
            try:
                result: RecordResult = await workflow.execute_activity(
                    ActivityName.RECORD,
                    batch,
                    result_type=RecordResult,
                    start_to_close_timeout=WRITE_TIMEOUT,
                    retry_policy=WRITE_RETRY,
                )
            except ActivityError as exc:
                cause = exc.cause
                if isinstance(cause, ApplicationError) and cause.type == "LedgerAhead":
                    self._after_reset(batch, cause)
                    continue
                failures += 1
                self._s.ledger_error = _describe(cause or exc)
                self._s.ledger_error_since = self._s.ledger_error_since or workflow.now()
                workflow.logger.error("ledger write failed: %s", self._s.ledger_error)
                await workflow.sleep(PAUSES[min(failures, len(PAUSES)) - 1])
                continue
            if batch.events:
                self._s.recorded = result.head
            if self._s.ledger_id is None:  # pinned: no other ledger takes this project's events
                self._s.ledger_id = result.ledger_id
                workflow.upsert_memo({LEDGER_MEMO: result.ledger_id})
            self._s.ledger_error = self._s.ledger_error_since = None
            return

    def _after_reset(self, batch: RecordInput, cause: ApplicationError) -> None:
        """The ledger goes on past what this run knows: a Temporal reset rewound the workflow.

        Those events happened and stay. This run records that it was reset, then goes on
        after them: its queued events are renumbered to follow, and every open task is
        withdrawn and the current ones (``current_tasks``) issued again.
        """
        head_seq, head_hash = int(cause.details[0]), str(cause.details[1])
        first = self._s.recorded.seq + 1
        offset = head_seq + 2 - first  # head_seq + 1 is the reset event; ours follow it
        reset_event = self._audit_event(
            head_seq + 1,
            EventKind.history_reset,
            actor="temporal",
            payload={
                "superseded_from": first,
                "superseded_to": head_seq,
                "run_id": workflow.info().run_id,
                "note": "the workflow was reset; the superseded events stay in the chain",
            },
        )
        moved = [e.model_copy(update={"seq": e.seq + offset}) for e in batch.events]
        later = [e.model_copy(update={"seq": e.seq + offset}) for e in self._s.outbox.events]
        batch.events = [reset_event, *moved]
        self._s.outbox.events = later
        # Notifications follow their events; one whose cause the ledger already holds gets
        # the reset event's number, so none takes the key of a superseded one.
        for note in [*batch.notify, *self._s.outbox.notify]:
            if note.event_seq is not None:
                note.event_seq = max(note.event_seq + offset, head_seq + 1)
        self._s.outbox.changes = []  # the tasks issued below are those of the state as it is
        self._s.seq += offset
        self._s.renumbered += offset
        self._s.recorded = ChainHeadMessage(seq=head_seq, hash=head_hash)
        self._s.task_epoch = head_seq + 1
        withdraw = CloseTasksInput(
            project_id=self._task_project,
            gate=self._task_group,
            all_open=self._task_group is None,
            status="withdrawn",
            at=workflow.now(),
        )
        batch.changes = [
            TaskChange(close=withdraw),
            *(TaskChange(open=t) for t in self._current_tasks()),
        ]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return f"{exc.type}: {exc.message}"
    return str(exc)
