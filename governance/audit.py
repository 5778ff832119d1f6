"""Audit trail and task inbox models: pure pydantic, no I/O.

Every phase transition, vote and escalation becomes one `AuditEventIn`; the ledger chains them
per project with `event_hash`, so editing, deleting or reordering a stored event is detectable.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
)

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditEventIn",
    "ChainBreak",
    "EventKind",
    "GateTaskIn",
    "Task",
    "TaskStatus",
    "VerifyReport",
    "canonical_time",
    "event_hash",
]

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first event (seq 1) of every project."""

_SHA256_HEX = r"^[0-9a-f]{64}$"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _json_able(value: dict[str, Any]) -> dict[str, Any]:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"payload must be plain JSON (str, number, bool, null, list, dict): {exc}"
        ) from exc
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC (so storage round-trips compare equal)."""

JsonObject = Annotated[dict[str, Any], AfterValidator(_json_able)]


class EventKind(StrEnum):
    project_started = "project_started"
    gate_opened = "gate_opened"
    vote_cast = "vote_cast"
    gate_passed = "gate_passed"
    gate_rejected = "gate_rejected"
    gate_rework = "gate_rework"
    reminder_sent = "reminder_sent"
    escalated = "escalated"
    phase_started = "phase_started"
    held = "held"
    resumed = "resumed"
    cancelled = "cancelled"
    closed = "closed"
    exception_raised = "exception_raised"
    exception_resolved = "exception_resolved"
    task_created = "task_created"
    task_completed = "task_completed"
    """A person finished a gate's review task (its assignee, or the project manager)."""
    deliverable_submitted = "deliverable_submitted"
    # the project's side of its iterations (in the project's chain)
    iteration_started = "iteration_started"
    iteration_closed = "iteration_closed"
    iteration_finished = "iteration_finished"
    # an iteration's own chain (``<project>/it-<n>``)
    iteration_opened = "iteration_opened"
    iteration_planned = "iteration_planned"
    items_added = "items_added"
    items_done = "items_done"
    standup = "standup"
    execution_ended = "execution_ended"
    demo_recorded = "demo_recorded"
    delivery_decided = "delivery_decided"
    retro_recorded = "retro_recorded"
    iteration_ended = "iteration_ended"
    # control: progress, changes, exceptions, reports
    progress_reported = "progress_reported"
    rag_changed = "rag_changed"
    change_requested = "change_requested"
    change_decided = "change_decided"
    baseline_changed = "baseline_changed"
    tolerance_widened = "tolerance_widened"
    exception_decided = "exception_decided"
    report_issued = "report_issued"
    history_reset = "history_reset"
    """A Temporal reset rewound the workflow: the events it payload names stay in the chain
    (they happened) and the reset run goes on after them."""
    # delegation: a substitute decides for an absent person (its use: a vote_cast whose payload
    # has ``on_behalf_of``, the event's actor being the substitute)
    delegation_granted = "delegation_granted"
    delegation_revoked = "delegation_revoked"
    delegation_ended = "delegation_ended"
    """Its window passed: the substitute's copies of the delegator's tasks are withdrawn."""


class AuditEventIn(BaseModel):
    """One fact to record; `seq` is the per-project position the workflow assigns (1, 2, ...)."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", protected_namespaces=()
    )

    project_id: str = Field(min_length=1, max_length=200)
    seq: int = Field(ge=1)
    at: UtcDatetime
    kind: EventKind
    from_state: str | None = None
    to_state: str | None = None
    actor: str | None = None
    role: str | None = None
    comment: str | None = Field(default=None, max_length=4000)
    payload: JsonObject = Field(default_factory=dict)
    model: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="governance model name@version")
    model_hash: str = Field(pattern=_SHA256_HEX)
    workflow_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)


class AuditEvent(AuditEventIn):
    """A stored event: `hash` chains it to the project's previous event via `prev_hash`."""

    # Plain strings (no pattern): a tampered row must still load so `verify` can name it.
    prev_hash: str
    hash: str


# Only the fields of AuditEventIn take part in the hash. A field added later must be left out
# of the hash when it holds its default, or every older event would stop verifying.
_CONTENT_FIELDS = frozenset(AuditEventIn.model_fields)


def canonical_time(value: datetime) -> str:
    """UTC ISO-8601 with microseconds: identical for every database round trip."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: AuditEventIn, prev_hash: str) -> str:
    """SHA-256 hex of the event's canonical JSON plus `prev_hash`."""
    doc = event.model_dump(mode="json", include=set(_CONTENT_FIELDS))
    doc["at"] = canonical_time(event.at)
    doc["prev_hash"] = prev_hash
    text = json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ChainBreak(BaseModel):
    """The first event of a project's chain that does not verify, and why."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    project_id: str
    seq: int
    reason: str


class VerifyReport(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    ok: bool
    projects: int
    chains: int = Field(0, description="A project's chain and one per iteration it ran.")
    events_checked: int
    broken: list[ChainBreak] = Field(default_factory=list)
    """One entry per broken project (its first broken event), in project order."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_broken(self) -> ChainBreak | None:
        return self.broken[0] if self.broken else None


TaskStatus = Literal["open", "done", "cancelled", "withdrawn"]


class GateTaskIn(BaseModel):
    """A task for a person or role; `key` is unique per project, e.g. `idea_gate/1/review`."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    project_id: str = Field(min_length=1, max_length=200)
    key: str = Field(min_length=1, max_length=500)
    title: str = Field(min_length=1)
    assignee: str | None = None
    role: str = Field(min_length=1)
    gate: str | None = None
    due: UtcDatetime | None = None
    created_at: UtcDatetime


class Task(GateTaskIn):
    id: int
    status: TaskStatus = "open"
    closed_at: UtcDatetime | None = None


ReportKind = Literal["highlight", "exception"]


class ReportIn(BaseModel):
    """A report a project issued (highlight or exception): its content as JSON, kept in the
    ledger's store beside the event that records it (``report_issued``, carrying the content's
    SHA-256); ``number`` counts per project and kind from 1."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    project_id: str = Field(min_length=1, max_length=200)
    kind: ReportKind
    number: int = Field(ge=1)
    at: UtcDatetime
    content: JsonObject


class Report(ReportIn):
    markdown: str


def digest(content: dict[str, Any]) -> str:
    """SHA-256 of ``content`` as canonical JSON (sorted keys, no spaces, UTF-8): what the
    ``report_issued`` event carries and the ledger stores beside the report."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
