"""Counting the votes on a decision (a gate, a formal change, an exception) against its rule:
pure, so it is tested without Temporal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from governance._charter import Charter
from governance._model import DecisionRule, EscalationLevel
from governance._quorum import escalation_deciders, gate_voters

Outcome = Literal["approve", "reject", "rework"]


class CastVote(Protocol):
    @property
    def actor(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def level(self) -> str | None: ...
    @property
    def counted(self) -> bool: ...
    @property
    def by(self) -> str | None:
        """Who cast it for ``actor``, as their substitute (a delegation); None: ``actor``."""
        ...


@dataclass(frozen=True, slots=True)
class Tally:
    eligible: list[str]
    """People who decide now: the rule's approvers, or the people of the level the decision
    escalated to; never its requester under four eyes."""
    needed: int
    approvals: int
    required_missing: list[str]
    """Required roles no holder of which has approved yet."""
    outcome: str | None
    """The decision once it is reached; None while it is still open. ``approve``, ``reject``
    or ``rework`` from the approvers; at an escalated level the deciding vote's decision as
    cast (e.g. an exception's ``approve_plan``, ``widen_tolerance`` or ``close``)."""


def one_each(votes: Sequence[CastVote]) -> list[CastVote]:
    """``votes`` less any a person cast after their first: one person, one vote per
    decision, also when a substitute casts someone else's (``by``). The workflow refuses such
    a vote before it is recorded; the count holds the rule on its own too."""
    cast: set[str] = set()
    kept: list[CastVote] = []
    for v in votes:
        who = v.by or v.actor
        if who not in cast:
            cast.add(who)
            kept.append(v)
    return kept


def eligible_approvers(rule: DecisionRule, charter: Charter) -> list[str]:
    """Holders of the rule's approver roles, each once, in charter order."""
    return gate_voters(rule, charter)


def tally(
    rule: DecisionRule,
    charter: Charter,
    votes: Sequence[CastVote],
    requester: str | None = None,
    level: EscalationLevel | None = None,
) -> Tally:
    """The state of a decision under ``rule`` (a gate is one) after ``votes``.

    - ``requester`` (who asked for the decision) takes no part under four eyes: the quorum is
      counted over the other approvers, and a vote of theirs counts for nothing.
    - Advice (a vote not ``counted``: an adviser's, of the rule's ``consult`` roles) counts
      for nothing either; only the approvers' votes do.
    - One person, one vote: a second vote cast by the same person (for themselves or as
      someone's substitute, ``by``) counts for nothing (:func:`one_each`).
    - It passes when approvals reach the rule's quorum of those approvers and every
      ``required`` role has an approving holder among them.
    - A required role whose every (eligible) holder voted against it vetoes: the decision is
      theirs (reject over rework if they differ).
    - When the quorum can no longer be reached, the more common of the no-votes wins
      (rework on a tie: the softer decision).
    - Once the decision has escalated to ``level``, that level has taken it over: the first
      vote of one of its people decides, as cast, and no other vote counts.
    """
    if level is not None:
        deciders = escalation_deciders(rule, level, charter, requester)
        cast = one_each(
            [v for v in votes if v.counted and v.level == level.id and v.actor in deciders]
        )
        approvals = sum(1 for v in cast if v.decision == "approve")
        return Tally(deciders, 1, approvals, [], cast[0].decision if cast else None)

    eligible = gate_voters(rule, charter, requester)
    needed = max(rule.quorum(len(eligible)), 1)  # nobody to decide never passes
    by_actor = {
        v.actor: v
        for v in one_each([v for v in votes if v.counted and v.level is None])
        if v.actor in eligible
    }
    approvals = sum(1 for v in by_actor.values() if v.decision == "approve")
    missing: list[str] = []
    veto: Outcome | None = None
    for role in rule.required:
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
