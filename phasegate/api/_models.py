"""Request bodies and the API's own answers (a status is the workflow's ``ProjectStatus``, a
task the ledger's ``Task``). A body never names who acts: that is the authenticated person,
and a field it does not know (``actor``) is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance import Text
from governance.messages import MAX_COMMENT, Action, Decision
from ledger import VerifyReport
from phasegate.api._deps import PERSON_ID
from phasegate.choices import missing_reason
from phasegate.service import ProjectRow

__all__ = [
    "AllowedActions",
    "AuditVerification",
    "CommentBody",
    "DelegationBody",
    "EndedOutside",
    "GateDecisionBody",
    "HistoryEntry",
    "Page",
    "ProjectRow",
]

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
    limit: int = Field(50, ge=1, le=500, description="How many projects at most.")
    offset: int = Field(0, ge=0, description="How many projects to skip.")
