"""What every step of phasegate's workflows shares: how a request is refused, which requests
are no longer taken, who the actor is, and how times and roles are written in events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from governance import Charter, GovernanceModel
    from governance.messages import Command, ProjectState
    from states import Lifecycle
    from workflows._recording import Recording


def reject(message: str, kind: str) -> ApplicationError:
    """A refusal: typed, non-retryable; from a validator it leaves no trace in history."""
    return ApplicationError(message, type=kind, non_retryable=True)


def check_taken(input: Command | None, rec: Recording) -> None:
    """Refuse a request that expired before a worker took it, or that the ledger cannot take
    now (it keeps failing, or is too far behind): nothing is applied."""
    if input is not None and input.expires_at is not None and workflow.now() > input.expires_at:
        raise reject(
            f"the request expired at {input.expires_at.isoformat()} before a worker took "
            "it; nothing was applied",
            "RequestExpired",
        )
    waiting = rec.refusal()
    if waiting is not None:
        raise reject(f"{waiting}; nothing was applied", "LedgerUnavailable")


def person_roles(charter: Charter, actor: str) -> list[str]:
    """``actor``'s roles, or a refusal when ``actor`` is not a person in the charter."""
    person = charter.person(actor)
    if person is None:
        raise reject(f'"{actor}" is not a person in the charter of {charter.id}', "UnknownActor")
    return list(person.roles)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def money(amount: Decimal) -> Decimal:
    """``amount`` without trailing zeros (1450000, not 1450000.0): how the ledger shows it."""
    whole = amount.to_integral_value()
    return whole.quantize(Decimal(1)) if amount == whole else amount.normalize()


def first(items: list[str]) -> str | None:
    return items[0] if items else None


@dataclass(frozen=True, slots=True)
class Project:
    """What every part of a project workflow works on: its state (carried across
    continue-as-new), charter, model, lifecycle and outbox."""

    state: ProjectState
    charter: Charter
    model: GovernanceModel
    machine: Lifecycle
    rec: Recording


class Part:
    """A part of the project workflow (its gates, decisions, control, changes, exceptions)."""

    def __init__(self, project: Project) -> None:
        self._s = project.state
        self._charter = project.charter
        self._model = project.model
        self._machine = project.machine
        self._rec = project.rec
