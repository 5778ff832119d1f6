"""Every message that crosses a workflow, activity or client boundary: one pydantic model each.

Names follow ``<Verb><Noun>Input`` / ``...Result``; adding a field later breaks no caller.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from governance._charter import Baseline, Charter
from governance._earned_value import EarnedValue
from governance._iteration import MAX_ITEMS
from governance._model import Ceremony, GovernanceModel, Tolerances
from governance._rag import AspectStatus, Colour
from governance._reports import ExceptionOption
from governance._types import (
    Duration,
    Line,
    NonNegDuration,
    NotificationKind,
    Percent,
    Slug,
    Text,
)
from governance._velocity import Forecast
from governance.audit import GENESIS_HASH, AuditEventIn, GateTaskIn, ReportIn

Decision = Literal["approve", "reject", "rework"]
"""A vote on a phase gate (a formal change is approved or rejected)."""
DecisionKind = Literal["gate", "change", "exception"]
"""The kinds of decision one mechanism keeps (workflows/_decisions.py)."""
Action = Literal[
    "request_gate",
    "approve",
    "reject",
    "rework",
    "hold",
    "resume",
    "cancel",
    "report_progress",
    "request_change",
    "decide_change",
    "decide_exception",
    "complete_task",
]
MAX_COMMENT = 4000
LEDGER_MEMO = "phasegate_ledger_id"
"""Memo key of the ledger a project writes to: a worker on another ledger refuses to start."""


class Message(BaseModel):
    """Base of every message. Each model's validator is built when first used
    (``defer_build``), as are those of the model language's classes (``_types.Strict``):
    building all ~100 when the module is imported cost a short command (``project status``)
    ~50 ms, and it uses a handful."""

    model_config = ConfigDict(defer_build=True, extra="forbid")


# -- activity names: workflows call activities by name only ----------------------------------


class ActivityName:
    RECORD = "record"
    DAYS_OFF = "days_off"


class DaysOffInput(Message):
    country: str
    first: date
    last: date


class DaysOffResult(Message):
    days: list[date] = Field(description="Public holidays on weekdays, sorted.")


class NotifyInput(Message):
    project_id: str
    kind: NotificationKind
    recipients: list[str] = Field(description="Person ids from the charter.")
    subject: str
    body: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    chain: str | None = Field(None, description="The ledger chain whose step sent it.")
    event_seq: int | None = Field(
        None, ge=0, description="The chain's last event queued when it was sent: its cause."
    )
    ordinal: int | None = Field(
        None, ge=0, description="The chain's count of notifications before this one."
    )
    model: str | None = Field(None, description="The governance model (name@version).")
    title: str | None = Field(None, description="The project's title.")
    people: list[NotifyPerson] = Field(
        default_factory=list, description="The recipients as the charter names them."
    )

    def key(self) -> str | None:
        """The idempotency key: ``<chain>#<event seq>.<ordinal>``, fixed in the workflow's
        history with the rest of the input (None for inputs queued before it existed)."""
        if self.chain is None or self.event_seq is None or self.ordinal is None:
            return None
        return f"{self.chain}#{self.event_seq}.{self.ordinal}"


class NotifyPerson(Message):
    """A recipient of a notification: the charter's person, with the roles routes match."""

    id: str
    name: str
    email: str | None = None
    roles: list[str] = Field(default_factory=list)


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
    reports: list[ReportIn] = Field(
        default_factory=list, description="Reports issued, stored with their events."
    )
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
    decision: Decision | ExceptionOption
    comment: str | None = None
    at: datetime
    level: str | None = Field(None, description="Escalation level the actor decided at.")
    by: str | None = Field(
        None, description="The substitute who cast it for ``actor`` (a delegation), if one."
    )
    counted: bool = Field(
        True,
        description="False for an adviser's vote (a rule's `consult:`): recorded, not counted.",
    )


class Escalation(Message):
    level: str
    at: datetime
    deadline: datetime | None


class DecisionState(Message):
    """One open decision: a phase gate, a formal change or an exception (``kind``). The same
    rounds, votes, SLA, reminder and escalation for each (workflows/_decisions.py)."""

    kind: DecisionKind = "gate"
    id: str | None = Field(None, description="The change's or exception's id (CR-1, EX-1).")
    phase: str = Field(description="A gate's phase; else the phase it was opened in.")
    round: int = Field(ge=1, description="How many times this phase's gate has opened.")
    opened_at: datetime
    requested_by: str
    votes: list[Vote] = Field(default_factory=list)
    deadline: datetime | None = None
    reminder_at: datetime | None = None
    reminded: bool = False
    level: str | None = Field(None, description="Escalation level now holding the decision.")
    escalations: list[Escalation] = Field(default_factory=list)
    overdue_since: datetime | None = Field(
        None,
        description="The deadline that passed with nobody above to escalate to: the decision "
        "waits, overdue since then.",
    )
    tasks_done: list[str] = Field(
        default_factory=list,
        description="A gate's review tasks completed so far, as ``task<i>/<person>`` (the "
        "key without the gate's group, so a reset that renames the group does not issue "
        "them again).",
    )


GateState = DecisionState


class ChainState(Message):
    """What a workflow that writes its own ledger chain keeps about it (workflows/_recording)."""

    seq: int = Field(0, ge=0, description="Last audit sequence number written.")
    task_epoch: int = Field(0, ge=0, description="Bumped when a reset re-issues the tasks.")
    renumbered: int = Field(
        0, ge=0, description="How far a reset moved queued events along the chain, in all."
    )
    outbox: RecordInput = Field(default_factory=RecordInput, description="Not yet written.")
    recorded: ChainHeadMessage = Field(default_factory=ChainHeadMessage)
    ledger_id: str | None = None
    ledger_error: str | None = None
    ledger_error_since: datetime | None = None
    updates_handled: int = 0
    notified: int = Field(0, ge=0, description="Notifications queued on this chain, in all.")


class ProjectState(ChainState):
    """All of a project's workflow state, carried whole across continue-as-new."""

    lifecycle: dict[str, Any]
    started_at: datetime
    phase_started_at: datetime
    phase_opens_at: datetime | None = None
    gate: GateState | None = None
    gate_rounds: dict[str, int] = Field(default_factory=dict)
    held_at: datetime | None = None
    outcome: Literal["closed", "rejected", "cancelled"] | None = None
    held_by: str | None = None
    held_reason: str | None = None
    ended: Ending | None = Field(None, description="Who ended the project, when and why.")
    last_gate: GateOutcome | None = Field(None, description="The last gate decided.")
    execution: ExecutionState = Field(default_factory=lambda: ExecutionState())
    deliverables: list[Deliverable] = Field(default_factory=list, description="Every version.")
    delegations: list[Delegation] = Field(default_factory=list, description="Every one.")
    control: ControlState | None = Field(
        None, description="Progress, baseline, changes, exceptions (made at the first use)."
    )


class Ending(Message):
    """How a project ended: cancelled by the board's executive, or closed by a gate."""

    outcome: Literal["closed", "rejected", "cancelled"]
    by: str
    at: datetime
    phase: str | None = Field(description="The phase it ended in.")
    comment: str | None = None


class GateOutcome(Message):
    """How the last gate was decided: what a deciding vote's answer says it did."""

    gate: str
    round: int
    outcome: str = Field(description="approve, reject or rework.")
    to_state: str
    at: datetime
    by: str | None = Field(None, description="Whose vote decided it.")
    comment: str | None = Field(None, description="The deciding vote's reason.")

    def describe(self) -> str:
        """``gate passed: planning started``, ``rework: back to pre_study``, ``rejected:
        project closed``."""
        if self.to_state == "closed":
            return (
                "gate passed: project closed"
                if self.outcome == "approve"
                else ("rejected: project closed")
            )
        if self.outcome == "approve":
            return f"gate passed: {self.to_state} started"
        if self.outcome == "rework":
            return f"rework: back to {self.to_state}"
        return f"rejected: back to {self.to_state}"


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
    started_by: Line | None = Field(
        None, max_length=64, description="Who started the project (recorded as its actor)."
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


class OnBehalf(Command):
    """A vote a substitute may cast for someone who delegated to them (``phasegate
    delegate``): ``actor`` is who votes, ``on_behalf_of`` whose vote it is."""

    on_behalf_of: Line | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The delegator this vote is cast for; the actor must be their substitute "
        "now (recorded as 'actor for delegator').",
    )


class DecideGateInput(OnBehalf):
    decision: Decision
    round: int | None = Field(
        None, ge=1, description="The gate round the vote is for; a vote for another is refused."
    )


class ActorInput(Command):
    """hold / resume / cancel."""


class DelegateInput(Command):
    """``actor`` (the delegator) lets ``to`` decide what they could, from ``starts_at`` until
    ``ends_at`` (``phasegate delegate``)."""

    to: Line = Field(min_length=1, max_length=64, description="The substitute, a charter person.")
    starts_at: datetime
    ends_at: datetime

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2027-03-01T00:00:00+01:00)")
        return value


class RevokeDelegationInput(Command):
    """End delegation ``delegation_id`` now: its delegator or its substitute."""

    delegation_id: int = Field(ge=1, le=1_000_000)


class Delegation(Message):
    """One delegation, as the project keeps it (and its status shows it)."""

    id: int = Field(ge=1)
    delegator: str
    substitute: str
    roles: list[str] = Field(description="The delegator's roles: what the substitute may do.")
    starts_at: datetime
    ends_at: datetime
    reason: str | None = None
    granted_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    expired: bool = Field(False, description="Its window has passed (its task copies withdrawn).")
    copy_suffix: str = Field(
        "",
        description="Ends its task copies' keys: empty, or /d<id> for a delegation to a "
        "substitute the delegator had delegated to before (whose copies hold the plain keys).",
    )

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


class CompleteTaskInput(Command):
    """Finish one of the open gate's review tasks: its assignee, or the project manager."""

    key: Line = Field(
        min_length=1,
        max_length=500,
        description="The task's key in the project's inbox, e.g. ``idea_gate/1/task1/anna``.",
    )


# -- control: progress, changes, exceptions ---------------------------------------------------

MAX_FIGURE = 1e13
"""Largest money or scope figure a report or change may carry."""
MAX_LISTED = 200
CHANGE_ID = r"^CR-[1-9][0-9]{0,5}$"
MAX_OPEN_CHANGES = 50


class Risk(Message):
    title: Line = Field(min_length=1, max_length=200)
    probability: float = Field(ge=0, le=1, description="0 to 1.")
    impact: float = Field(ge=0, le=MAX_FIGURE, description="Cost if it happens.")


class QualityIssue(Message):
    title: Line = Field(min_length=1, max_length=200)
    scope: float = Field(
        0.0, ge=0, le=MAX_FIGURE, description="Scope failing its quality criteria."
    )


class ReportProgressInput(Command):
    """The project manager's progress report: figures to date, cumulative."""

    as_of: date
    actual_cost: float = Field(ge=0, le=MAX_FIGURE)
    earned_scope: float = Field(ge=0, le=MAX_FIGURE, description="In the charter's unit.")
    risks: list[Risk] = Field(default_factory=list, max_length=MAX_LISTED)
    quality_issues: list[QualityIssue] = Field(default_factory=list, max_length=MAX_LISTED)
    benefits_forecast: float | None = Field(
        None, ge=0, le=1000, description="Expected benefits, percent of the business case's."
    )
    work_package: Slug | None = Field(
        None,
        description="A work package's own figures, reported by its manager (or the project "
        "manager); none: the project's.",
    )


class ProgressRecord(Message):
    number: int = Field(ge=1)
    as_of: date
    actual_cost: float
    earned_scope: float
    risks: list[Risk] = Field(default_factory=list)
    quality_issues: list[QualityIssue] = Field(default_factory=list)
    benefits_forecast: float | None = None
    by: str
    at: datetime
    comment: str | None = None


class RequestChangeInput(Command):
    title: Line = Field(min_length=1, max_length=200)
    reason: Text | None = Field(None, max_length=MAX_COMMENT)
    cost_impact: float = Field(0.0, ge=0, le=MAX_FIGURE)
    time_impact: NonNegDuration = Field(timedelta(0), description="In whole days.")
    scope_impact: float = Field(
        0.0, ge=-MAX_FIGURE, le=MAX_FIGURE, description="In the charter's unit (< 0: descoped)."
    )

    @field_validator("time_impact")
    @classmethod
    def _whole_days(cls, value: timedelta) -> timedelta:
        if value % timedelta(days=1):
            raise ValueError("must be whole days (P3D, P2W): a plan's dates are days")
        return value


class DecideChangeInput(OnBehalf):
    change_id: str = Field(pattern=CHANGE_ID)
    decision: Literal["approve", "reject"]


class ChangeRecord(Message):
    id: str
    title: str
    reason: str | None = None
    cost_impact: float
    time_impact: timedelta
    scope_impact: float
    requested_by: str
    requested_at: datetime
    classification: Literal["minor", "formal"]
    machine: dict[str, Any] = Field(description="The ChangeRequest machine (states/).")
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    exception: str | None = Field(None, description="The exception it was referred to.")
    decision: DecisionState | None = Field(None, description="Open while it is decided.")


class ExceptionPlan(Message):
    """An exception plan's new baseline: what is not given stays as it is."""

    planned_end: date | None = None
    budget: float | None = Field(None, gt=0, le=MAX_FIGURE)
    scope: float | None = Field(None, gt=0, le=MAX_FIGURE)


class DecideExceptionInput(Command):
    exception_id: str | None = Field(
        None,
        pattern=r"^EX-[1-9][0-9]{0,5}$",
        description="Which open exception; none: the project's, or the only one open.",
    )
    decision: ExceptionOption
    plan: ExceptionPlan | None = Field(None, description="With approve_plan: the new baseline.")
    tolerances: Tolerances | None = Field(
        None, description="With widen_tolerance: the new tolerances of the breached level."
    )
    change_budget: Percent | None = Field(
        None, description="With widen_tolerance: a new minor-change budget, % of budget."
    )


class ExceptionRecord(Message):
    id: str
    machine: dict[str, Any] = Field(description="The ExceptionCase machine (states/).")
    levels: list[str] = Field(description="The tolerance levels breached (project, stage).")
    aspects: list[str]
    cause: Literal["tolerance", "change_budget"]
    change_id: str | None = None
    raised_at: datetime
    raised_by: str | None = None
    from_state: str | None = Field(None, description="The lifecycle state it was raised in.")
    report: int = Field(ge=1, description="The number of its exception report.")
    decision: DecisionState | None = None
    outcome: ExceptionOption | None = None
    decided_by: str | None = None
    package: str | None = Field(None, description="The work package it is about, if one.")


class PackageState(Message):
    """One work package's control: its baseline now, its last report, its RAG against the
    work-package tolerances, its exception."""

    baseline: Baseline
    baseline_version: int = Field(1, ge=1)
    progress: int = Field(0, ge=0)
    last: ProgressRecord | None = None
    forecast: EarnedValue | None = None
    rag: dict[str, AspectStatus] = Field(default_factory=dict)
    worst: Colour | None = None
    widened: Tolerances | None = None
    exception: ExceptionRecord | None = None
    closed_by: str | None = Field(None, description="The exception that closed it.")


class ControlState(Message):
    """A project's control: its baseline now, its last report, changes and exceptions."""

    baseline: Baseline
    baseline_version: int = Field(1, ge=1)
    progress: int = Field(0, ge=0, description="Progress reports so far.")
    last: ProgressRecord | None = None
    forecast: EarnedValue | None = None
    rag: dict[str, dict[str, AspectStatus]] = Field(default_factory=dict)
    worst: Colour | None = None
    widened: dict[str, Tolerances] = Field(
        default_factory=dict, description="level -> tolerances widened by an exception."
    )
    change_budget: float | None = Field(None, description="Widened minor-change budget, %.")
    minor_spent: float = 0.0
    changes: list[ChangeRecord] = Field(default_factory=list)
    exceptions: int = Field(0, ge=0, description="Exceptions raised so far (the last id).")
    exception: ExceptionRecord | None = Field(None, description="The open one.")
    closing_early: str | None = Field(
        None, description="The exception whose decision closes the project early."
    )
    packages: dict[str, PackageState] = Field(
        default_factory=dict, description="Work packages that have reported, by id."
    )
    highlights: int = Field(0, ge=0)
    highlight_due: datetime | None = None
    last_highlight_at: datetime | None = None
    since_highlight: list[str] = Field(default_factory=list, description="Capped.")


class GateStatus(Message):
    kind: DecisionKind = "gate"
    id: str | None = None
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
    reminded: bool = Field(False, description="Whether the reminder has gone out.")
    overdue_since: datetime | None = Field(
        None, description="Past its last deadline with nobody above to escalate to."
    )
    advisers: list[str] = Field(
        default_factory=list,
        description="People of the rule's `consult:` roles: their votes are advice, not counted.",
    )
    advice_awaited: list[str] = Field(
        default_factory=list, description="Advisers who have not given their advice yet."
    )


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
    held_since: datetime | None = None
    held_by: str | None = None
    held_reason: str | None = None
    ended: Ending | None = None
    last_gate: GateOutcome | None = Field(None, description="The last gate decided.")
    deliverables: list[DeliverableStatus] = Field(
        default_factory=list, description="What the current phase's gate lists, present or not."
    )
    execution: ExecutionStatus | None = Field(
        None, description="Iterations, burn-up and forecast (projects that ran iterations)."
    )
    forecast: EarnedValue | None = Field(None, description="Of the last progress report.")
    rag: dict[str, Colour] = Field(
        default_factory=dict, description="The worst colour of each aspect over the levels."
    )
    control: ControlStatus | None = None
    delegations: list[Delegation] = Field(
        default_factory=list, description="Delegations not yet ended (revoked or expired)."
    )
    decisions: list[GateStatus] = Field(
        default_factory=list, description="Every open decision: the gate, changes, exception."
    )


DecisionStatus = GateStatus


class ChangeStatus(Message):
    id: str
    title: str
    reason: str | None
    cost_impact: float
    time_impact: timedelta
    scope_impact: float
    requested_by: str
    requested_at: datetime
    classification: Literal["minor", "formal"]
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    exception: str | None
    decision: GateStatus | None


class ExceptionStatus(Message):
    id: str
    state: str
    level: str = Field(description="The escalation level holding it.")
    role: str = Field(description="The role deciding at that level.")
    levels: list[str]
    aspects: list[str]
    cause: str
    change_id: str | None
    raised_at: datetime
    report: int
    decision: GateStatus | None
    package: str | None = None


class PackageStatus(Message):
    id: str
    title: str
    manager: str
    baseline: Baseline
    baseline_version: int
    progress: int
    last_report: ProgressRecord | None
    forecast: EarnedValue | None
    rag: dict[str, AspectStatus]
    worst: Colour | None
    tolerances: Tolerances | None
    closed_by: str | None
    exception: ExceptionStatus | None


class ControlStatus(Message):
    baseline: Baseline
    baseline_version: int
    progress: int
    last_report: ProgressRecord | None
    rag_levels: dict[str, dict[str, AspectStatus]]
    worst: Colour | None
    tolerances: dict[str, Tolerances] = Field(description="In force, per level.")
    change_budget: float = Field(description="Minor-change budget, in the currency.")
    change_budget_left: float
    changes: list[ChangeStatus]
    exception: ExceptionStatus | None
    highlights: int
    next_highlight: datetime | None
    packages: list[PackageStatus] = Field(
        default_factory=list, description="The charter's work packages."
    )


class ProjectResult(Message):
    project_id: str
    outcome: Literal["closed", "rejected", "cancelled"]
    last_seq: int


# -- deliverables (product-based work) ---------------------------------------------------------

SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
MAX_URL = 2000


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://[^\s\x00-\x1f\x7f]+$")
_SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})


def _url(value: Any) -> Any:
    """An address with a scheme (https://, file://, smb://...), no spaces or control
    characters, and never a script a browser would run."""
    if not isinstance(value, str):
        return value
    found = _URL.match(value)
    if found is None:
        raise ValueError(
            "must be a URL with a scheme and no spaces, like https://wiki.example.org/plan"
        )
    if found.group(1).lower() in _SCRIPT_SCHEMES:
        raise ValueError(f"a {found.group(1)}: URL is not a document's address")
    return value


class SubmitDeliverableInput(Command):
    """A deliverable a gate of the current phase lists: a file's SHA-256 and size (never its
    content), or a URL as given."""

    name: Line = Field(min_length=1, max_length=200)
    sha256: SHA256 | None = None
    size: int | None = Field(None, ge=0)
    url: Annotated[str, BeforeValidator(_url)] | None = Field(None, max_length=MAX_URL)


class Deliverable(Message):
    phase: str
    name: str
    version: int = Field(ge=1)
    sha256: str | None = None
    size: int | None = None
    url: str | None = None
    submitted_by: str
    at: datetime
    comment: str | None = None


class DeliverableStatus(Message):
    name: str
    present: bool
    current: Deliverable | None = None
    versions: int = 0


# -- iterations (the execution phase) ----------------------------------------------------------

ITEM_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_EFFORT = 1000.0


class WorkItem(Message):
    """One piece of planned work: estimated in person-days, owned by a charter person."""

    id: str = Field(pattern=ITEM_ID, description="Unique in its iteration, e.g. AUTH-12.")
    title: Line = Field(min_length=1, max_length=200)
    owner: Slug
    estimate: float = Field(gt=0, le=MAX_EFFORT, description="Person-days.")
    points: float | None = Field(
        None,
        ge=0,
        le=MAX_EFFORT,
        description="Its size in the charter's scope points (needed when the charter's scope "
        "is measured in points; its burn-up and forecast count these).",
    )


class PlanIterationInput(Command):
    goal: Line | None = Field(None, max_length=500)
    length: Duration | None = Field(None, description="Default: the phase's iteration length.")
    items: list[WorkItem] = Field(default_factory=list, max_length=MAX_ITEMS)


class ReportDoneInput(Command):
    item_ids: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)


class AddItemsInput(Command):
    items: list[WorkItem] = Field(default_factory=list, max_length=MAX_ITEMS)


class Feedback(Message):
    person: Line = Field(min_length=1, max_length=200, description="Who said it.")
    text: Text = Field(min_length=1, max_length=MAX_COMMENT)


class RecordDemoInput(Command):
    attendees: list[Line] = Field(default_factory=list, max_length=200)
    feedback: list[Feedback] = Field(default_factory=list, max_length=MAX_ITEMS)


class DecideDeliveryInput(Command):
    decision: Literal["deliver", "hold"]


class Obstacle(Message):
    text: Line = Field(min_length=1, max_length=500)
    role: str = Field(description="The role that must clear it.")


class RecordRetroInput(Command):
    keep: list[Line] = Field(default_factory=list, max_length=100)
    change: list[Line] = Field(default_factory=list, max_length=100)
    obstacles: list[Obstacle] = Field(default_factory=list, max_length=100)


class ItemState(WorkItem):
    added: bool = Field(False, description="Added during execution (a scope change).")
    done_at: datetime | None = None
    done_by: str | None = None


class DemoRecord(Message):
    recorded_by: str
    at: datetime
    attendees: list[str]
    feedback: list[Feedback]


class RetroRecord(Message):
    recorded_by: str
    at: datetime
    keep: list[str]
    change: list[str]
    obstacles: list[Obstacle]


class Velocity(Message):
    """One finished iteration, as the project keeps it: the velocity history."""

    number: int
    outcome: Literal["done", "closed", "abandoned"]
    opened_at: datetime
    ended_at: datetime
    length: timedelta | None = Field(None, description="The planned timebox.")
    committed_items: int = 0
    completed_items: int = 0
    committed_effort: float = 0.0
    completed_effort: float = 0.0
    added_items: int = 0
    added_effort: float = 0.0
    committed_points: float = 0.0
    completed_points: float = 0.0
    added_points: float = 0.0
    delivered: bool = False


class IterationResult(Velocity):
    """What an iteration returns to its project."""

    project_id: str
    goal: str | None = None
    demo: DemoRecord | None = None
    retro: RetroRecord | None = None
    delivery_comment: str | None = None
    item_ids: list[str] = Field(default_factory=list, description="Every item it held.")
    unfinished: list[WorkItem] = Field(default_factory=list, description="Back to the backlog.")
    chain: ChainHeadMessage = Field(description="The head of the iteration's ledger chain.")


class StartIterationInput(Message):
    project_id: str
    number: int = Field(ge=1)
    phase: str
    charter: Charter
    model: GovernanceModel
    model_hash: str
    ledger_id: str | None = None
    backlog: list[WorkItem] = Field(default_factory=list)
    days_off: list[date] = Field(
        default_factory=list,
        description="Public holidays the model's calendar counts, for the year ahead.",
    )


class IterationWorkflowState(ChainState):
    loop: dict[str, Any]
    opened_at: datetime
    goal: str | None = None
    length: timedelta | None = None
    planned_by: str | None = None
    planned_at: datetime | None = None
    execute_ends_at: datetime | None = None
    execution_ended_at: datetime | None = None
    items: list[ItemState] = Field(default_factory=list)
    standups: list[datetime] = Field(default_factory=list, description="Still to come.")
    standups_sent: int = 0
    demo_deadline: datetime | None = None
    demo_reminder_at: datetime | None = None
    demo_level: str | None = None
    demo: DemoRecord | None = None
    delivery: Literal["deliver", "hold"] | None = None
    delivery_by: str | None = None
    delivery_comment: str | None = None
    retro: RetroRecord | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    held_at: datetime | None = Field(None, description="Its project is on hold since then.")


class IterationStatus(Message):
    project_id: str
    number: int
    phase: str
    state: str
    goal: str | None
    opened_at: datetime
    planned_by: str | None
    planned_at: datetime | None
    length: timedelta | None
    execute_ends_at: datetime | None
    days_left: float | None = Field(None, description="Of the execution timebox.")
    items: list[ItemState]
    committed_items: int
    completed_items: int
    committed_effort: float
    completed_effort: float
    added_items: int
    added_effort: float
    committed_points: float = 0.0
    completed_points: float = 0.0
    added_points: float = 0.0
    standups_sent: int
    next_standup: datetime | None
    standups_ahead: list[datetime] = Field(
        default_factory=list, description="Every stand-up still to come, in order."
    )
    ceremonies: list[Ceremony] = Field(
        default_factory=list, description="The phase's ceremonies (cadence and timebox)."
    )
    team: list[str] = Field(
        default_factory=list, description="Who the ceremonies are for: planners, item owners."
    )
    demo_deadline: datetime | None
    demo_level: str | None
    demo: DemoRecord | None
    delivery: Literal["deliver", "hold"] | None
    delivery_by: str | None
    retro: RetroRecord | None
    ended_at: datetime | None
    end_reason: str | None
    last_seq: int
    recorded_seq: int
    ledger_error: str | None = None


class CloseIterationInput(Message):
    """From the project to its open iteration: end it now, closed (its phase's gate was
    requested) or abandoned (the project was cancelled)."""

    reason: str
    actor: str | None = Field(None, description="Who asked for it (the gate's requester).")
    abandon: bool = False


class HoldIterationInput(Message):
    """From the project to its open iteration: the project was held (clocks stop) or resumed."""

    held: bool


class ExecutionState(Message):
    """The project's side of its iterations, carried across continue-as-new."""

    phase: str | None = Field(None, description="The iterative phase the iterations belong to.")
    started: int = Field(0, ge=0, description="Iterations started so far (the last number).")
    open: int | None = Field(None, description="The number of the iteration running now.")
    history: list[Velocity] = Field(default_factory=list)
    backlog: list[WorkItem] = Field(default_factory=list)
    added_scope: float = 0.0
    completed_scope: float = 0.0
    forecast: Forecast | None = None


class BurnUp(Message):
    unit: Literal["points", "items"]
    baseline: float
    added: float
    total: float
    completed: float


class ExecutionStatus(Message):
    phase: str | None
    open_iteration: int | None
    iterations: int
    history: list[Velocity]
    backlog: list[WorkItem]
    burn_up: BurnUp
    forecast: Forecast | None
