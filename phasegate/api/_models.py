"""Request bodies and the API's own answers (a status is the workflow's ``ProjectStatus``, a
task the ledger's ``Task``). A body never names who acts: that is the authenticated person,
and a field it does not know (``actor``) is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance import Line, Text, Tolerances
from governance._iteration import MAX_ITEMS
from governance._types import Duration, NonNegDuration  # the messages' own duration types
from governance.audit import ReportKind
from governance.messages import (
    MAX_COMMENT,
    MAX_LISTED,
    MAX_URL,
    Action,
    ChangeStatus,
    Decision,
    ExceptionPlan,
    ExceptionStatus,
    ExecutionStatus,
    Feedback,
    IterationStatus,
    ModelSource,
    Obstacle,
    ProjectStatus,
    QualityIssue,
    Risk,
    WorkItem,
)
from ledger import VerifyReport
from phasegate.api._deps import PERSON_ID
from phasegate.choices import ExceptionChoice, missing_reason
from phasegate.service import ProjectRow
from phasegate.views import PORTFOLIO_PAGE

__all__ = [
    "AddItemsBody",
    "AllowedActions",
    "AuditVerification",
    "ChangeAnswer",
    "ChangeBody",
    "ChangeDecisionBody",
    "Changes",
    "CommentBody",
    "DelegationBody",
    "DeliverableBody",
    "DeliveryBody",
    "DemoBody",
    "EndedOutside",
    "ExceptionDecisionBody",
    "ExceptionView",
    "GateDecisionBody",
    "HistoryEntry",
    "ItemsDoneBody",
    "Iterations",
    "Page",
    "PlanIterationBody",
    "ProgressBody",
    "ProjectRow",
    "ProjectStarted",
    "ReportSummary",
    "ReportView",
    "RetroBody",
]

_NUMBER = r"(?:0|[1-9][0-9]{0,8})"
MODEL_REF = rf"^[a-z][a-z0-9_]{{0,62}}(?:@{_NUMBER}(?:\.{_NUMBER}){{0,2}})?$"
"""A model's name, or name@version, as governance's ``is_model_ref`` takes it."""

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommentBody(Body):
    """A request, the reason for the record with it."""

    comment: Text | None = Field(None, max_length=MAX_COMMENT)


class GateDecisionBody(CommentBody):
    """A vote on the open gate. A reject or a rework needs its comment."""

    decision: Decision
    round: int | None = Field(
        None, ge=1, description="The round voted on; a vote for another is refused (409)."
    )
    on_behalf_of: str | None = Field(
        None,
        pattern=PERSON_ID,
        description="Vote for this person, as their substitute now (they delegated to you).",
    )

    @model_validator(mode="after")
    def _reason(self) -> Self:
        if missing_reason(self.decision, self.comment):
            raise ValueError(
                f"{self.decision} needs a comment: say why, for the record (status and "
                "history show it)"
            )
        return self


class DelegationBody(CommentBody):
    """A delegation by the authenticated person; ``comment`` is its reason."""

    to: str = Field(pattern=PERSON_ID, description="The substitute.")
    starts_at: datetime = Field(description="With a time zone.")
    ends_at: datetime = Field(description="With a time zone; after starts_at, not past.")


class Page(BaseModel, Generic[T]):
    """A slice of a list: ``total`` counts the whole list (with the filters given)."""

    total: int
    limit: int
    offset: int
    items: list[T]


class AllowedActions(BaseModel):
    project_id: str
    person: str
    actions: list[Action]


class HistoryEntry(BaseModel):
    """One audit event as the timeline shows it (``phasegate project history --json``)."""

    at: datetime
    seq: int
    kind: str
    actor: str | None
    role: str | None
    from_state: str | None
    to_state: str | None
    comment: str | None
    text: str
    payload: dict[str, Any]


class EndedOutside(BaseModel):
    project_id: str
    status: str


class NotificationDelivery(BaseModel):
    """One notification to one channel target (``phasegate notify pending|failed``)."""

    id: int
    status: Literal["pending", "delivered", "dead"]
    channel: str
    target: str = Field(description="An e-mail address, or * for a webhook or chat channel.")
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    key: str = Field(description="The notification's idempotency key.")
    project_id: str
    kind: str
    subject: str


class AuditVerification(VerifyReport):
    """``audit verify``: the chains and reports, and the projects whose workflow ended outside
    governance (None when Temporal could not be asked)."""

    ended_outside_governance: list[EndedOutside] | None = None


class ListParams(Body):
    """The filters of ``project list``, and the page (a name it does not know is refused)."""

    phase: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,62}$", description="A phase id.")
    awaiting: str | None = Field(
        None,
        pattern=r"^(?:hold|(?:gate:)?[a-z][a-z0-9_]{0,62}|exception:EX-[1-9][0-9]{0,5})$",
        description="A gate (idea_gate or gate:idea_gate), hold, or exception:EX-n.",
    )
    rag: Annotated[Literal["red", "amber", "green"], "worst first"] | None = None
    """Annotated, so that it is not equal to governance's ``Colour`` (the same values, best
    first): typing caches ``X | None`` by equality, and whichever spelling was made first in a
    process would give its order to the other (in the document and in the errors)."""
    held: bool = False
    state: Literal["open", "closed", "rejected", "cancelled"] | None = None
    overdue: bool = False
    limit: int = Field(50, ge=1, le=PORTFOLIO_PAGE, description="How many projects at most.")
    offset: int = Field(0, ge=0, description="How many projects to skip.")


class ProjectStarted(BaseModel):
    """A project started: its id, the model pinned into it (its content hash) and where that
    model came from, and who started it."""

    project_id: str
    model: str
    model_hash: str
    model_source: ModelSource
    started_by: str


# -- iterations --------------------------------------------------------------------------------


class PlanIterationBody(CommentBody):
    """The open iteration's plan (`iteration plan`): its items, and its goal and length."""

    items: list[WorkItem] = Field(max_length=MAX_ITEMS)
    length: Duration | None = Field(
        None, description="ISO-8601 (P2W, P21D); none: the phase's iteration length."
    )
    goal: Line | None = Field(None, max_length=500)


class ItemsDoneBody(Body):
    """The items done (`iteration done`), by id."""

    item_ids: list[str] = Field(min_length=1, max_length=MAX_ITEMS)


class AddItemsBody(CommentBody):
    """Work added while the iteration executes (`iteration add`): a scope change."""

    items: list[WorkItem] = Field(min_length=1, max_length=MAX_ITEMS)


class DemoBody(Body):
    """The demo (`iteration demo`): who attended and who said what."""

    attendees: list[Line] = Field(default_factory=list, max_length=200)
    feedback: list[Feedback] = Field(min_length=1, max_length=MAX_ITEMS)


class DeliveryBody(CommentBody):
    """The delivery decision (`iteration deliver`)."""

    decision: Literal["deliver", "hold"]


class RetroBody(Body):
    """The retrospective (`iteration retro`): what to keep, what to change, the obstacles
    (each a task for the role named)."""

    keep: list[Line] = Field(default_factory=list, max_length=100)
    change: list[Line] = Field(default_factory=list, max_length=100)
    obstacles: list[Obstacle] = Field(default_factory=list, max_length=100)


class Iterations(BaseModel):
    """The iterations so far (`iteration status --json`): velocity, burn-up, forecast and
    backlog, and the open iteration (none between iterations and after the phase)."""

    execution: ExecutionStatus
    iteration: IterationStatus | None


# -- deliverables ------------------------------------------------------------------------------


class FileRef(Body):
    """A file where it is: its SHA-256 and size (its content never travels)."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class DeliverableBody(CommentBody):
    """A deliverable of the current phase's gate (`deliverable submit`): a file (its hash
    and size) or a URL, exactly one."""

    name: Line = Field(min_length=1, max_length=200)
    file: FileRef | None = None
    url: str | None = Field(None, max_length=MAX_URL)


# -- control: progress, changes, exceptions ----------------------------------------------------


class ProgressBody(CommentBody):
    """A progress report (`progress`): figures to date, cumulative."""

    as_of: date
    actual_cost: float
    earned_scope: float
    risks: list[Risk] = Field(default_factory=list, max_length=MAX_LISTED)
    quality_issues: list[QualityIssue] = Field(default_factory=list, max_length=MAX_LISTED)
    benefits_forecast: float | None = None
    work_package: str | None = Field(None, pattern=PERSON_ID)


class ChangeBody(CommentBody):
    """A change request (`change request`); minor or formal is the model's to say."""

    title: Line = Field(min_length=1, max_length=200)
    reason: Text | None = Field(None, max_length=MAX_COMMENT)
    cost_impact: float = 0.0
    time_impact: NonNegDuration = Field(
        timedelta(0), description="ISO-8601, whole days (P3D, P2W)."
    )
    scope_impact: float = Field(0.0, description="In the charter's unit (< 0: descoped).")


class ChangeDecisionBody(CommentBody):
    """A decision (or a vote, for a formal change) on a change (`change decide`)."""

    decision: Literal["approve", "reject"]
    on_behalf_of: str | None = Field(
        None,
        pattern=PERSON_ID,
        description="Vote for this person, as their substitute now (they delegated to you).",
    )


class Changes(BaseModel):
    """Every change request, open and decided, in the order requested (`change list`)."""

    currency: str
    items: list[ChangeStatus]


class ChangeAnswer(BaseModel):
    """A change as it stands after the request (None: the status no longer lists it), and
    the project's status."""

    change: ChangeStatus | None
    status: ProjectStatus


class ExceptionView(BaseModel):
    """The project's open exception, if any (work packages' are in the status)."""

    exception: ExceptionStatus | None


class ExceptionDecisionBody(CommentBody):
    """The open exception's decision (`exception decide`): approve-plan takes a plan (the
    new baseline); widen new tolerances, a new change budget or both; close neither."""

    decision: ExceptionChoice
    exception_id: str | None = Field(None, pattern=r"^[Ee][Xx]-[1-9][0-9]{0,5}$")
    plan: ExceptionPlan | None = None
    tolerances: Tolerances | None = None
    change_budget: float | None = None


# -- reports -----------------------------------------------------------------------------------


class ReportSummary(BaseModel):
    """One report of a listing (`report --list --format json`)."""

    kind: ReportKind
    number: int
    at: datetime
    sha256: str
    title: str | None


class ReportView(ReportSummary):
    """A report (`report`): its content, as the chain vouches for it, and its Markdown (the
    rendering of that content; ``warning`` says when the stored Markdown differed)."""

    content: dict[str, Any]
    markdown: str
    warning: str | None
