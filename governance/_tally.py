"""Counting a gate's votes against the model's rule: pure, so it is tested without Temporal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from governance._charter import Charter
from governance._model import Gate, GovernanceModel

Outcome = Literal["approve", "reject", "rework"]


class CastVote(Protocol):
    @property
    def actor(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def level(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Tally:
    eligible: list[str]
    """People who may vote as approvers (holders of the gate's approver roles)."""
    needed: int
    approvals: int
    required_missing: list[str]
    """Required roles no holder of which has approved yet."""
    outcome: Outcome | None
    """The gate's decision once it is reached; None while it is still open."""


def eligible_approvers(gate: Gate, charter: Charter) -> list[str]:
    return [p.id for p in charter.people if any(r in p.roles for r in gate.approvers)]


def escalation_deciders(
    model: GovernanceModel, charter: Charter, levels: Sequence[str]
) -> list[str]:
    """People who may decide because the gate was escalated to one of ``levels``."""
    roles = {model.level(lvl).role for lvl in levels}
    return [p.id for p in charter.people if roles & set(p.roles)]


def tally(
    gate: Gate, charter: Charter, votes: Sequence[CastVote], requester: str | None = None
) -> Tally:
    """The state of a gate after ``votes``.

    - A vote cast at an escalation level decides the gate on its own: the level above has
      taken the decision over.
    - The gate passes when approvals reach the rule's quorum of eligible approvers and every
      ``required`` role has an approving holder.
    - A required role whose every holder voted against it vetoes: the gate takes that
      holder's decision (reject over rework if they differ).
    - When the quorum can no longer be reached, the gate takes the more common of the
      no-votes (rework on a tie: the softer decision).
    - ``requester``, when given, may not approve (four eyes): they still vote, but the quorum
      is counted over the other approvers.
    """
    eligible = eligible_approvers(gate, charter)
    can_approve = [p for p in eligible if p != requester]
    needed = gate.quorum(len(can_approve))
    by_actor = {v.actor: v for v in votes}
    approvals = sum(1 for p in eligible if p in by_actor and by_actor[p].decision == "approve")
    missing: list[str] = []
    veto: Outcome | None = None
    for role in gate.required:
        holders = charter.holders(role)
        if any(h in by_actor and by_actor[h].decision == "approve" for h in holders):
            continue
        missing.append(role)
        decided = [by_actor[h].decision for h in holders if h in by_actor]
        if holders and len(decided) == len(holders):
            veto = "reject" if "reject" in decided else "rework"

    outcome: Outcome | None = None
    escalated = [v for v in votes if v.level is not None]
    if escalated:
        outcome = _outcome(escalated[-1].decision)
    elif veto is not None:
        outcome = veto
    elif approvals >= needed and not missing:
        outcome = "approve"
    else:
        undecided = sum(1 for p in can_approve if p not in by_actor)
        if approvals + undecided < needed:
            rejects = sum(1 for v in votes if v.decision == "reject")
            reworks = sum(1 for v in votes if v.decision == "rework")
            outcome = "reject" if rejects > reworks else "rework"
    return Tally(eligible, needed, approvals, missing, outcome)


def _outcome(decision: str) -> Outcome:
    if decision == "approve":
        return "approve"
    return "reject" if decision == "reject" else "rework"
