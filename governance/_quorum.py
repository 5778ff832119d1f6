"""Who decides a question (a gate, a formal change, an exception), and whether the people of
a charter can pass a gate at all.

One rule, shared by the charter check (before a project starts) and the tally (while a
decision is open). Under four eyes (a rule's ``forbid_self_approval``) whoever requested the
decision takes no part in it: not as an approver, not as an adviser, not at an escalation
level. Every person counts once, however many of the rule's roles they hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from governance._model import DecisionRule, EscalationLevel, GovernanceModel, Phase

if TYPE_CHECKING:
    from governance._charter import Charter


def four_eyes(rule: DecisionRule, requester: str | None) -> str | None:
    """The person four eyes keeps from deciding under ``rule`` (a gate is one): its
    requester, when the rule forbids self-approval."""
    return requester if rule.forbid_self_approval else None


def gate_voters(rule: DecisionRule, charter: Charter, requester: str | None = None) -> list[str]:
    """The people who decide under ``rule`` (a gate is one) as approvers, in charter order:
    each holder of an approver role once, less the requester under four eyes."""
    out = four_eyes(rule, requester)
    return [
        p.id
        for p in charter.people
        if p.id != out and any(role in p.roles for role in rule.approvers)
    ]


def advisers(rule: DecisionRule, charter: Charter, requester: str | None = None) -> list[str]:
    """The people who advise under ``rule``, in charter order: each holder of a ``consult``
    role who holds none of its approver roles (who holds both decides, and is counted), less
    the requester under four eyes. Their votes are recorded and shown, never counted."""
    out = four_eyes(rule, requester)
    return [
        p.id
        for p in charter.people
        if p.id != out
        and any(role in p.roles for role in rule.consult)
        and not any(role in p.roles for role in rule.approvers)
    ]


def escalation_deciders(
    rule: DecisionRule, level: EscalationLevel, charter: Charter, requester: str | None = None
) -> list[str]:
    """The people who decide alone once a decision under ``rule`` has escalated to
    ``level``: the holders of the level's role, less the requester under four eyes."""
    out = four_eyes(rule, requester)
    return [p for p in charter.holders(level.role) if p != out]


def gate_shortfalls(
    phase: Phase, model: GovernanceModel, charter: Charter, requester: str | None
) -> Iterator[str]:
    """Why ``phase``'s gate could never pass when ``requester`` asks for it; nothing if it can.

    The others must be enough for the rule's quorum and hold every required role; under
    ``rule: all`` every approver role needs a holder among them (else "all" would silently
    mean fewer roles). A role nobody holds at all is the charter check's own complaint.
    """
    gate, name = phase.gate, phase.gate_state
    out = four_eyes(gate, requester)
    everyone = gate_voters(gate, charter)
    voters = gate_voters(gate, charter, requester)
    by = f'"{out}", who requests it as {model.project_manager},'
    if not everyone:
        yield f"nobody can approve gate {name}"
        return
    if not voters:
        yield f"nobody but {by} can approve gate {name} (four eyes)"
        return
    needed = gate.quorum(len(voters))
    if needed > len(voters):
        but = f" ({by} does not count: four eyes)" if out in everyone else ""
        people = "1 person" if len(voters) == 1 else f"{len(voters)} people"
        yield f"gate {name} needs {needed} approvals but only {people} can approve it{but}"
    for role in gate.required:
        holders = charter.holders(role)
        if holders and set(holders) <= {out}:
            yield (
                f'gate {name} requires an approval of role "{role}", which only {by} holds '
                "(four eyes)"
            )
    if gate.rule == "all":
        for role in gate.approvers:
            holders = charter.holders(role)
            if role in gate.required:
                continue
            if not holders:
                yield f'gate {name} needs all approvers but nobody holds the approver role "{role}"'
            elif set(holders) <= {out}:
                yield (
                    f"gate {name} needs all approvers but only {by} holds the approver role "
                    f'"{role}" (four eyes)'
                )


def escalation_shortfalls(
    model: GovernanceModel, charter: Charter, requester: str
) -> Iterator[str]:
    """Escalation levels only ``requester`` could decide at, for the four-eyes gates that can
    reach them (their ``escalate_to`` and every level above it)."""
    ids = [lvl.id for lvl in model.escalation]
    stranded: dict[str, list[str]] = {}
    for phase in model.phases:
        gate = phase.gate
        if not gate.forbid_self_approval or gate.escalate_to not in ids:
            continue
        for level in model.escalation[ids.index(gate.escalate_to) :]:
            holders = charter.holders(level.role)
            if holders and not escalation_deciders(gate, level, charter, requester):
                stranded.setdefault(level.id, []).append(phase.gate_state)
    for level_id, gates in stranded.items():
        role = model.level(level_id).role
        yield (
            f'only "{requester}" holds "{role}", the role deciding at escalation level '
            f"{level_id}, and requests as {model.project_manager} the gates that reach it "
            f"({', '.join(gates)}): four eyes leaves nobody to decide them there"
        )
