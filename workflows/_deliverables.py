"""Product-based work at the gates: the deliverables a gate lists, submitted as versions (a
file's SHA-256 and size, or a URL), and the rule that a gate is not requested while one is
missing."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import Phase
    from governance.messages import Deliverable, DeliverableStatus, SubmitDeliverableInput
    from workflows._steps import reject


def current(submitted: list[Deliverable], phase: str, name: str) -> Deliverable | None:
    """The latest version of ``name`` submitted in ``phase``."""
    found = [d for d in submitted if d.phase == phase and d.name == name]
    return found[-1] if found else None


def missing(submitted: list[Deliverable], phase: Phase) -> list[str]:
    """What ``phase``'s gate lists and nobody has submitted yet, in the gate's order."""
    return [n for n in phase.gate.deliverables if current(submitted, phase.id, n) is None]


def statuses(submitted: list[Deliverable], phase: Phase) -> list[DeliverableStatus]:
    out = []
    for name in phase.gate.deliverables:
        versions = [d for d in submitted if d.phase == phase.id and d.name == name]
        out.append(
            DeliverableStatus(
                name=name,
                present=bool(versions),
                current=versions[-1] if versions else None,
                versions=len(versions),
            )
        )
    return out


MAX_VERSIONS = 20
"""Versions of one deliverable a phase keeps (they travel in the workflow's state)."""


def check(existing: list[Deliverable], phase: Phase, input: SubmitDeliverableInput) -> None:
    """A name the phase's gate lists, exactly one of a file (hash and size) or a URL, and
    room for another version."""
    listed = phase.gate.deliverables
    if input.name not in listed:
        raise reject(
            f'"{input.name}" is not a deliverable of gate {phase.gate_state}; it lists: '
            + (", ".join(listed) or "none"),
            "UnknownDeliverable",
        )
    has_file = input.sha256 is not None or input.size is not None
    if has_file == (input.url is not None):
        raise reject("give a file (its SHA-256 and size) or a URL, not both", "InvalidDeliverable")
    if has_file and (input.sha256 is None or input.size is None):
        raise reject("a file is given by its SHA-256 and its size, both", "InvalidDeliverable")
    versions = sum(1 for d in existing if d.phase == phase.id and d.name == input.name)
    if versions >= MAX_VERSIONS:
        raise reject(
            f'"{input.name}" has {versions} versions already, the most a phase keeps',
            "TooManyVersions",
        )


def at_gate(submitted: list[Deliverable], phase: Phase) -> list[dict[str, object]]:
    """The version of each deliverable the gate is decided on (recorded when it opens)."""
    out: list[dict[str, object]] = []
    for name in phase.gate.deliverables:
        d = current(submitted, phase.id, name)
        if d is not None:
            out.append(d.model_dump(mode="json", include={"name", "version", "sha256", "url"}))
    return out


def new_version(
    existing: list[Deliverable], phase: Phase, input: SubmitDeliverableInput, at: datetime
) -> Deliverable:
    """The new version: one more than the last of that name in that phase."""
    versions = [d for d in existing if d.phase == phase.id and d.name == input.name]
    return Deliverable(
        phase=phase.id,
        name=input.name,
        version=len(versions) + 1,
        sha256=input.sha256,
        size=input.size,
        url=input.url,
        submitted_by=input.actor,
        at=at,
        comment=_short(input.comment),  # whole in the ledger's event
    )


SHOWN_COMMENT = 500
"""Characters of a version's comment the workflow's state keeps (it travels in every
continue-as-new); the ledger's ``deliverable_submitted`` event holds all of it."""


def _short(comment: str | None) -> str | None:
    if comment is None or len(comment) <= SHOWN_COMMENT:
        return comment
    return comment[: SHOWN_COMMENT - 1] + "…"
