"""Every message that crosses a workflow, activity or client boundary: one pydantic model each.

Names follow ``<Verb><Noun>Input`` / ``...Result``; adding a field later breaks no caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance._charter import Charter
from governance._model import GovernanceModel
from governance._types import Line, Text
from governance.audit import GENESIS_HASH, AuditEventIn, GateTaskIn

Decision = Literal["approve", "reject", "rework"]
Action = Literal["request_gate", "approve", "reject", "rework", "hold", "resume", "cancel"]
MAX_COMMENT = 4000
LEDGER_MEMO = "phasegate_ledger_id"
"""Memo key of the ledger a project writes to: a worker on another ledger refuses to start."""


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- activity names: workflows call activities by name only ----------------------------------


class ActivityName:
    RECORD = "record"


class NotifyInput(Message):
    project_id: str
    kind: Literal["gate_opened", "reminder", "escalation", "decision", "phase_opened", "project"]
    recipients: list[str] = Field(description="Person ids from the charter.")
    subject: str
    body: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class CloseTasksInput(Message):
    project_id: str
    keys: list[str] | None = Field(None, description="These tasks; None means the whole gate.")
    gate: str | None = None
    all_open: bool = Field(False, description="Every open task of the project.")
    status: Literal["done", "cancelled", "withdrawn"] = "done"
    at: datetime


class TaskChange(Message):
    """One change of the inbox: exactly one of open a task, close tasks, move due dates."""

    open: GateTaskIn | None = None
    close: CloseTasksInput | None = None
    shift_due_seconds: float | None = Field(None, description="Of every open task.")


class ChainHeadMessage(Message):
    seq: int = Field(0, ge=0)
    hash: str = GENESIS_HASH


class RecordInput(Message):
    """Accepted transitions' writes, stored in one ledger transaction: their audit events,
    the tasks they open and close, the due dates they move, then the notifications they send.

    Built by the workflow and fixed in its history before the activity runs, so every retry
    writes exactly the same thing."""

    events: list[AuditEventIn] = Field(default_factory=list)
    changes: list[TaskChange] = Field(default_factory=list, description="Applied in order.")
    notify: list[NotifyInput] = Field(default_factory=list)
    after: ChainHeadMessage | None = Field(
        None, description="The chain's head as the workflow knows it (None: do not check)."
    )
    ledger_id: str | None = Field(None, description="The project's ledger; None: not pinned yet.")
    first_run_id: str | None = Field(
        None,
        description="The workflow's first run (kept across resets and continue-as-new): a "
        "chain that run began is this workflow's, even to a reset run that knows none of it.",
    )


class RecordResult(Message):
    ledger_id: str
    head: ChainHeadMessage


# -- the project workflow ---------------------------------------------------------------------


class Vote(Message):
    actor: str
    roles: list[str]
    decision: Decision
    comment: str | None = None
    at: datetime
    level: str | None = Field(None, description="Escalation level the actor decided at.")


class Escalation(Message):
    level: str
    at: datetime
    deadline: datetime | None


class GateState(Message):
    phase: str
    round: int = Field(ge=1, description="How many times this phase's gate has opened.")
    opened_at: datetime
    requested_by: str
    votes: list[Vote] = Field(default_factory=list)
    deadline: datetime | None = None
    reminder_at: datetime | None = None
    reminded: bool = False
    level: str | None = Field(None, description="Escalation level now holding the decision.")
    escalations: list[Escalation] = Field(default_factory=list)


class ProjectState(Message):
    """All of a project's workflow state, carried whole across continue-as-new."""

    lifecycle: dict[str, Any]
    seq: int = Field(0, ge=0, description="Last audit sequence number written.")
    started_at: datetime
    phase_started_at: datetime
    phase_opens_at: datetime | None = None
    gate: GateState | None = None
    gate_rounds: dict[str, int] = Field(default_factory=dict)
    held_at: datetime | None = None
    updates_handled: int = 0
    outcome: Literal["closed", "rejected", "cancelled"] | None = None
    task_epoch: int = Field(0, ge=0, description="Bumped when a reset re-issues the tasks.")
    renumbered: int = Field(
        0, ge=0, description="How far a reset moved queued events along the chain, in all."
    )
    outbox: RecordInput = Field(default_factory=RecordInput, description="Not yet written.")
    recorded: ChainHeadMessage = Field(default_factory=ChainHeadMessage)
    ledger_id: str | None = None
    ledger_error: str | None = None
    ledger_error_since: datetime | None = None


class ModelSource(Message):
    """Where a project's model came from: a built-in, the ledger's registry, or a local file
    given explicitly (``project start --model FILE``)."""

    kind: Literal["builtin", "registry", "file"]
    file: str | None = Field(None, description="The file's absolute path (kind file).")

    def describe(self) -> str:
        """``built-in``, ``published`` or ``local file /path/model.yaml``."""
        return {"builtin": "built-in", "registry": "published"}.get(
            self.kind, f"local file {self.file}"
        )


class StartProjectInput(Message):
    """The charter and its model, pinned: later edits of the model file change nothing here."""

    charter: Charter
    model: GovernanceModel
    model_hash: str
    ledger_id: str | None = Field(
        None, description="The ledger the starter checked; pinned for every write."
    )
    model_source: ModelSource | None = Field(
        None, description="Where the model came from (None: started before this was kept)."
    )
    state: ProjectState | None = Field(None, description="Set when continuing as new.")
    continue_as_new_after: int | None = Field(
        None, ge=1, description="Continue as new after this many updates (tests; else Temporal)."
    )


class Command(Message):
    """What every update carries: who acts, why, and until when the request may be applied."""

    actor: Line = Field(min_length=1, max_length=64)
    comment: Text | None = Field(None, max_length=MAX_COMMENT)
    expires_at: datetime | None = Field(
        None,
        description="Refused if no worker takes it before then: a request nobody answered "
        "in time is never applied later.",
    )


class RequestGateInput(Command):
    pass


class DecideGateInput(Command):
    decision: Decision
    round: int | None = Field(
        None, ge=1, description="The gate round the vote is for; a vote for another is refused."
    )


class ActorInput(Command):
    """hold / resume / cancel."""


class GateStatus(Message):
    gate: str
    phase: str
    title: str
    round: int
    opened_at: datetime
    requested_by: str
    rule: str
    approvals_needed: int
    approvals: int
    required: list[str]
    required_missing: list[str]
    eligible: list[str]
    votes: list[Vote]
    awaited: list[str]
    deliverables: list[str]
    deadline: datetime | None
    reminder_at: datetime | None
    level: str | None
    escalations: list[Escalation]


class ProjectStatus(Message):
    project_id: str
    title: str
    model: str
    model_hash: str
    model_source: ModelSource | None = None
    state: str
    phase: str | None
    phase_title: str | None
    phase_index: int | None
    phases: list[str]
    on_hold: bool
    terminal: bool
    started_at: datetime
    phase_started_at: datetime
    phase_opens_at: datetime | None
    gate: GateStatus | None
    last_seq: int = Field(description="The last audit event the workflow accepted.")
    recorded_seq: int = Field(0, description="The last audit event the ledger holds.")
    outcome: Literal["closed", "rejected", "cancelled"] | None = None
    ledger_error: str | None = Field(
        None, description="Why the ledger is not taking this project's writes, if it is not."
    )


class ProjectResult(Message):
    project_id: str
    outcome: Literal["closed", "rejected", "cancelled"]
    last_seq: int
