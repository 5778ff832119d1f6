"""Counting a gate's votes against the model's rule: pure, so it is tested without Temporal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from governance._charter import Charter
from governance._model import EscalationLevel, Gate
from governance._quorum import escalation_deciders, gate_voters

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
    """People who decide the gate now: its approvers, or the people of the level it escalated
    to; never its requester under four eyes."""
    needed: int
    approvals: int
    required_missing: list[str]
    """Required roles no holder of which has approved yet."""
    outcome: Outcome | None
    """The gate's decision once it is reached; None while it is still open."""


def eligible_approvers(gate: Gate, charter: Charter) -> list[str]:
    """Holders of the gate's approver roles, each once, in charter order."""
    return gate_voters(gate, charter)


def tally(
    gate: Gate,
    charter: Charter,
    votes: Sequence[CastVote],
    requester: str | None = None,
    level: EscalationLevel | None = None,
) -> Tally:
    """The state of a gate after ``votes``.

    - ``requester`` (who asked for the gate) takes no part under four eyes: the quorum is
      counted over the other approvers, and a vote of theirs counts for nothing.
    - The gate passes when approvals reach the rule's quorum of those approvers and every
      ``required`` role has an approving holder among them.
    - A required role whose every (eligible) holder voted against it vetoes: the gate takes
      that decision (reject over rework if they differ).
    - When the quorum can no longer be reached, the gate takes the more common of the
      no-votes (rework on a tie: the softer decision).
    - Once the gate has escalated to ``level``, that level has taken the decision over: the
      first vote of one of its people decides, and no other vote counts.
    """
    if level is not None:
        deciders = escalation_deciders(gate, level, charter, requester)
        cast = [v for v in votes if v.level == level.id and v.actor in deciders]
        approvals = sum(1 for v in cast if v.decision == "approve")
        return Tally(deciders, 1, approvals, [], _outcome(cast[0].decision) if cast else None)

    eligible = gate_voters(gate, charter, requester)
    needed = max(gate.quorum(len(eligible)), 1)  # nobody to decide never passes a gate
    by_actor = {v.actor: v for v in votes if v.level is None and v.actor in eligible}
    approvals = sum(1 for v in by_actor.values() if v.decision == "approve")
    missing: list[str] = []
    veto: Outcome | None = None
    for role in gate.required:
        holders = [h for h in charter.holders(role) if h in eligible]
        if any(h in by_actor and by_actor[h].decision == "approve" for h in holders):
            continue
        missing.append(role)
        decided = [by_actor[h].decision for h in holders if h in by_actor]
        if holders and len(decided) == len(holders):
            veto = "reject" if "reject" in decided else "rework"

    outcome: Outcome | None = None
    if veto is not None:
        outcome = veto
    elif approvals >= needed and not missing:
        outcome = "approve"
    else:
        undecided = sum(1 for p in eligible if p not in by_actor)
        if approvals + undecided < needed:
            rejects = sum(1 for v in by_actor.values() if v.decision == "reject")
            reworks = sum(1 for v in by_actor.values() if v.decision == "rework")
            outcome = "reject" if rejects > reworks else "rework"
    return Tally(eligible, needed, approvals, missing, outcome)


def _outcome(decision: str) -> Outcome:
    if decision == "approve":
        return "approve"
    return "reject" if decision == "reject" else "rework"
