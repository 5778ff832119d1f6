"""The governance model: what an organisation writes once and every project runs under."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PositiveFloat, PositiveInt, Tag, model_validator

from governance._calendar import known_country
from governance._errors import GovernanceError, Issue
from governance._types import (
    Duration,
    Ident,
    Line,
    Money,
    NonNegDuration,
    Percent,
    Sla,
    Strict,
    Text,
    Version,
    format_duration,
)

RESERVED_STATES = frozenset({"exception", "on_hold", "closed", "cancelled"})
GATE_SUFFIX = "_gate"
ASPECTS = ("time", "cost", "scope", "quality", "risk", "benefits")
Aspect = Literal["time", "cost", "scope", "quality", "risk", "benefits"]


class Role(Strict):
    id: Ident
    title: Line
    description: Text = ""


class Board(Strict):
    """The project board (PRINCE2) or steering group (styrgrupp)."""

    name: Line = "Project board"
    executive: Ident = Field(description="The role with the final say (Executive, beställare).")
    members: list[Ident] = Field(min_length=1, description="Board roles; include the executive.")


class EscalationLevel(Strict):
    """One level of management by exception, lowest first: team, project, board, corporate."""

    id: Ident
    title: Line = ""
    role: Ident = Field(description="The role that decides at this level.")
    sla: Sla = Field(description="How long this level has to decide before it goes up.")


class AtLeast(Strict):
    at_least: PositiveInt


def _rule_kind(value: Any) -> str | None:
    if value in ("all", "majority"):
        return "Named"
    if isinstance(value, AtLeast | dict):
        return "AtLeast"
    return None


Rule = Annotated[
    Annotated[Literal["all", "majority"], Tag("Named")] | Annotated[AtLeast, Tag("AtLeast")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule",
        custom_error_message='must be "all", "majority" or a mapping {at_least: N}',
    ),
]
"""How many approvals pass a gate: all approvers, a majority, or at least N of them."""


class GateTask(Strict):
    """Work the gate asks for, created when the gate opens."""

    title: Line = Field(min_length=1)
    role: Ident
    due: Duration = Field(description="Due this long after the gate opens.")


class DecisionRule(Strict):
    """Who decides a question, counted how, within what time, and where it goes when that
    time passes: the one decision mechanism of gates, formal changes and exceptions."""

    approvers: list[Ident] = Field(min_length=1)
    rule: Rule = "all"
    required: list[Ident] = Field(
        default_factory=list, description="Roles that must approve (a veto)."
    )
    consult: list[Ident] = Field(
        default_factory=list,
        description="Roles that advise (PRINCE2's Senior User and Senior Supplier beside the "
        "Executive): their holders get a task and may vote, and the vote is recorded and "
        "shown as advice but never counted.",
    )
    forbid_self_approval: bool = True
    sla: Sla
    reminder: Duration | None = Field(None, description="Remind open approvers at this point.")
    escalate_to: Ident | None = Field(
        None, description="Escalation level that decides once the SLA passes (none: nobody)."
    )

    def quorum(self, eligible: int) -> int:
        """How many approvals out of ``eligible`` approvers pass this decision."""
        if self.rule == "all":
            return eligible
        if self.rule == "majority":
            return eligible // 2 + 1
        assert isinstance(self.rule, AtLeast)
        return self.rule.at_least


class Gate(DecisionRule):
    """The decision point that ends a phase."""

    title: Line = ""
    deliverables: list[Line] = Field(default_factory=list)
    tasks: list[GateTask] = Field(default_factory=list)
    escalate_to: Ident = Field(description="Escalation level that decides once the SLA passes.")
    on_reject: Literal["close", "back"] = "close"


class Ceremony(Strict):
    name: Ident
    every: Duration | None = Field(None, description="Cadence; none means once per iteration.")
    timebox: Duration


class DemoPolicy(Strict):
    """When the demo must be recorded after execution ends, and who is told when it is not."""

    window: Duration = Field(
        timedelta(days=3), description="Record the demo within this after execution ends."
    )
    reminder: Duration | None = Field(
        timedelta(days=2), description="Remind the project manager at this point."
    )
    escalate_to: Ident | None = Field(
        None,
        description="Escalation level that is told (and may record it) once the window "
        "passes; default: the level above the project manager's.",
    )


class IterationPolicy(Strict):
    length: Duration = timedelta(weeks=2)
    min_length: Duration = timedelta(weeks=2)
    max_length: Duration = timedelta(weeks=6)
    max_item_effort: PositiveFloat = Field(2.0, description="Largest work item, in person-days.")
    ceremonies: list[Ceremony] = Field(default_factory=list)
    planners: list[Ident] = Field(
        default_factory=list,
        description="Roles that plan iterations besides the project manager (team leads).",
    )
    delivery_role: Ident | None = Field(
        None, description="The role that decides delivery; default: the board's executive."
    )
    demo: DemoPolicy = DemoPolicy()

    def ceremony(self, name: str) -> Ceremony | None:
        return next((c for c in self.ceremonies if c.name == name), None)


class CalendarPolicy(Strict):
    """Working days for cadences counted in days: Monday to Friday, less the public holidays
    of ``country`` (ISO 3166-1 alpha-2, as the ``holidays`` library knows them)."""

    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")


class DelegationPolicy(Strict):
    """Who may stand in for an absent decider (``phasegate delegate``): the substitute decides
    what the delegator could, in the delegator's roles, within a window.

    ``allowed`` false: nobody delegates on projects under this model. ``within_roles``: the
    roles a substitute must hold one of (their "standing"); empty or absent: any person the
    charter names may stand in, which is what a PMO expects by default (the substitute is on
    the project, accountable in its ledger, and four eyes still holds)."""

    allowed: bool = True
    within_roles: list[Ident] = Field(default_factory=list)


class Phase(Strict):
    id: Ident
    title: Line
    description: Text = ""
    iterative: bool = False
    iteration: IterationPolicy | None = None
    starts_after: Duration | None = Field(
        None, description="Wait this long after the previous gate (e.g. benefits review)."
    )
    gate: Gate

    @property
    def gate_state(self) -> str:
        return f"{self.id}{GATE_SUFFIX}"


class Tolerances(Strict):
    """Allowed deviation from the baseline before an exception is raised (PRINCE2)."""

    time: NonNegDuration | None = None
    cost: Percent | None = None
    scope: Percent | None = None
    quality: Percent | None = None
    risk: Percent | None = None
    benefits: Percent | None = None

    def items(self) -> Iterator[tuple[Aspect, Any]]:
        for aspect in ASPECTS:
            value = getattr(self, aspect)
            if value is not None:
                yield aspect, value  # type: ignore[misc]


class ToleranceLevels(Strict):
    amber_at: Percent = Field(
        80.0, description="Amber once this share of a tolerance is used (0 < amber_at <= 100)."
    )
    project: Tolerances = Field(description="Given by corporate to the board.")
    stage: Tolerances | None = Field(None, description="Given by the board to the manager.")
    work_package: Tolerances | None = Field(None, description="Given by the manager to a team.")

    def levels(self) -> Iterator[tuple[str, Tolerances]]:
        for name in ("project", "stage", "work_package"):
            value = getattr(self, name)
            if value is not None:
                yield name, value


class MinorChangeLimits(Strict):
    max_cost: Percent = Field(description="Largest cost impact, % of budget, a manager decides.")
    max_time: NonNegDuration = Field(description="Largest time impact a manager decides.")
    budget: Percent = Field(description="Total change budget for minor changes, % of budget.")


class ChangeControl(Strict):
    authority: Ident = Field(description="Escalation level that decides formal changes.")
    minor: MinorChangeLimits
    formal: DecisionRule | None = Field(
        None,
        description="How formal changes are decided; default: the authority's role alone, "
        "within that level's SLA, escalating to the level above it.",
    )


class Reporting(Strict):
    highlight_every: Duration = timedelta(days=7)
    on_change: bool = True


class HumanScale(Strict):
    """Limits over which a project needs an explicit waiver (split it, or say why not)."""

    max_budget: Money | None = None
    max_people: PositiveInt | None = None


class GovernanceModel(Strict):
    """An organisation's governance model, validated as a whole."""

    name: Ident
    version: Version
    title: Line
    description: Text = ""
    roles: list[Role] = Field(min_length=1)
    board: Board
    project_manager: Ident = Field(description="The role that runs the project day to day.")
    escalation: list[EscalationLevel] = Field(min_length=1, description="Lowest level first.")
    phases: list[Phase] = Field(min_length=1)
    tolerances: ToleranceLevels
    change_control: ChangeControl
    reporting: Reporting = Reporting()
    human_scale: HumanScale | None = None
    calendar: CalendarPolicy = CalendarPolicy()
    delegation: DelegationPolicy = DelegationPolicy()
    closing_phase: Ident | None = Field(
        None, description="The phase a project closed early goes through; default: the last."
    )

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def canonical_json(self) -> str:
        """The model as canonical JSON (sorted keys, no spaces): what the registry stores.

        A rule's ``consult`` is left out when empty: it came after models were published, and
        a model that names no advisers must keep the hash it had (publishing the same file
        again would otherwise be refused as other content under the same version)."""
        data = self.model_dump(mode="json")
        rules = [phase["gate"] for phase in data["phases"]]
        if data["change_control"]["formal"] is not None:
            rules.append(data["change_control"]["formal"])
        for rule in rules:
            if not rule["consult"]:
                del rule["consult"]
        # Likewise delegation, which came later still: left out while it is the default.
        if data["delegation"] == DelegationPolicy().model_dump(mode="json"):
            del data["delegation"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form: equal models hash equal, whatever the YAML."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.id == role_id)

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)

    def phase_index(self, phase_id: str) -> int:
        return next(i for i, p in enumerate(self.phases) if p.id == phase_id)

    def level(self, level_id: str) -> EscalationLevel:
        return next(lvl for lvl in self.escalation if lvl.id == level_id)

    def team_level(self) -> EscalationLevel | None:
        """The level just below the project manager's: the team managers', who run work
        packages (None when the project manager's level is the lowest)."""
        i = next(i for i, lvl in enumerate(self.escalation) if lvl.role == self.project_manager)
        return self.escalation[i - 1] if i else None

    def demo_level(self, policy: IterationPolicy) -> EscalationLevel | None:
        """The level an overdue demo goes to: the policy's, else the one above the project
        manager's (None when the project manager's level is the top)."""
        if policy.demo.escalate_to is not None:
            return self.level(policy.demo.escalate_to)
        pm = next(lvl for lvl in self.escalation if lvl.role == self.project_manager)
        return self.level_above(pm.id)

    def delivery_role(self, policy: IterationPolicy) -> str:
        return policy.delivery_role or self.board.executive

    def closing(self) -> Phase:
        """The phase that closes a project, also one closed early (an exception's close)."""
        if self.closing_phase is None:
            return self.phases[-1]
        return self.phase(self.closing_phase)

    def change_rule(self) -> DecisionRule:
        """How a formal change is decided: ``change_control.formal``, else the authority
        level's role alone (one approval) within that level's SLA, escalating to the level
        above it (nowhere at the top of the chain)."""
        if self.change_control.formal is not None:
            return self.change_control.formal
        authority = self.level(self.change_control.authority)
        above = self.level_above(authority.id)
        return DecisionRule(
            approvers=[authority.role],
            rule=AtLeast(at_least=1),
            sla=authority.sla,
            escalate_to=above.id if above is not None else None,
        )

    def level_above(self, level_id: str) -> EscalationLevel | None:
        ids = [lvl.id for lvl in self.escalation]
        i = ids.index(level_id)
        return self.escalation[i + 1] if i + 1 < len(ids) else None

    @model_validator(mode="after")
    def _cross_references(self) -> GovernanceModel:
        issues = list(_check_model(self))
        if issues:
            raise GovernanceError(issues)
        return self


def _duplicates(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    return {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]


def _check_model(m: GovernanceModel) -> Iterator[Issue]:
    roles = {r.id for r in m.roles}
    levels = {lvl.id for lvl in m.escalation}

    def role_ref(path: str, role: str) -> Iterator[Issue]:
        if role not in roles:
            yield Issue(path, f'unknown role "{role}"; declared roles: {", ".join(sorted(roles))}')

    def level_ref(path: str, level: str) -> Iterator[Issue]:
        if level not in levels:
            yield Issue(
                path,
                f'unknown escalation level "{level}"; levels: '
                + ", ".join(lvl.id for lvl in m.escalation),
            )

    for what, ids in (
        ("roles", [r.id for r in m.roles]),
        ("phases", [p.id for p in m.phases]),
        ("escalation", [lvl.id for lvl in m.escalation]),
    ):
        for dup in sorted(_duplicates(ids)):
            i = ids.index(dup, ids.index(dup) + 1)
            yield Issue(f"{what}[{i}].id", f'duplicate id "{dup}"')

    yield from role_ref("board.executive", m.board.executive)
    for i, member in enumerate(m.board.members):
        yield from role_ref(f"board.members[{i}]", member)
    if m.board.executive not in m.board.members:
        yield Issue("board.members", f'must include the executive "{m.board.executive}"')
    yield from role_ref("project_manager", m.project_manager)
    for i, lvl in enumerate(m.escalation):
        yield from role_ref(f"escalation[{i}].role", lvl.role)
    yield from level_ref("change_control.authority", m.change_control.authority)

    for i, phase in enumerate(m.phases):
        base = f"phases[{i}]"
        if phase.id in RESERVED_STATES or phase.id.endswith(GATE_SUFFIX):
            yield Issue(
                f"{base}.id",
                f'"{phase.id}" is reserved (exception, on_hold, closed, cancelled, *_gate)',
            )
        if phase.iterative and phase.iteration is None:
            yield Issue(f"{base}.iteration", "an iterative phase needs an iteration policy")
        if not phase.iterative and phase.iteration is not None:
            yield Issue(f"{base}.iteration", "only an iterative phase has an iteration policy")
        if phase.iteration is not None:
            it = phase.iteration
            if not it.min_length <= it.length <= it.max_length:
                yield Issue(
                    f"{base}.iteration.length",
                    f"must lie between min_length ({format_duration(it.min_length)}) and "
                    f"max_length ({format_duration(it.max_length)}), "
                    f"got {format_duration(it.length)}",
                )
            for j, role in enumerate(it.planners):
                yield from role_ref(f"{base}.iteration.planners[{j}]", role)
            if it.delivery_role is not None:
                yield from role_ref(f"{base}.iteration.delivery_role", it.delivery_role)
            if it.demo.escalate_to is not None:
                yield from level_ref(f"{base}.iteration.demo.escalate_to", it.demo.escalate_to)
            if it.demo.reminder is not None and it.demo.reminder >= it.demo.window:
                yield Issue(f"{base}.iteration.demo.reminder", "must come before the window ends")
            for j, ceremony in enumerate(it.ceremonies):
                cadence, what = (
                    (ceremony.every, "its cadence (every")
                    if ceremony.every is not None
                    else (it.min_length, "the shortest iteration (min_length")
                )
                if ceremony.timebox > cadence:
                    yield Issue(
                        f"{base}.iteration.ceremonies[{j}].timebox",
                        f"must fit in {what} {format_duration(cadence)}), "
                        f"got {format_duration(ceremony.timebox)}",
                    )
        gate = phase.gate
        g = f"{base}.gate"
        yield from _check_rule(g, gate, role_ref, level_ref)
        for j, task in enumerate(gate.tasks):
            yield from role_ref(f"{g}.tasks[{j}].role", task.role)
            if task.due > gate.sla:
                yield Issue(
                    f"{g}.tasks[{j}].due",
                    f"must fall within the gate's SLA ({format_duration(gate.sla)}), "
                    f"got {format_duration(task.due)}",
                )

    formal = m.change_control.formal
    if formal is not None:
        yield from _check_rule("change_control.formal", formal, role_ref, level_ref)
    phases = [p.id for p in m.phases]
    if m.closing_phase is not None and m.closing_phase not in phases:
        yield Issue(
            "closing_phase", f'unknown phase "{m.closing_phase}"; phases: {", ".join(phases)}'
        )
    if m.tolerances.amber_at <= 0:
        yield Issue(
            "tolerances.amber_at",
            "must be above 0% (the share of a tolerance used that turns an aspect amber)",
        )

    yield from _check_escalation(m)
    yield from _check_minor_changes(m)

    for i, role in enumerate(m.delegation.within_roles):
        yield from role_ref(f"delegation.within_roles[{i}]", role)
    if m.delegation.within_roles and not m.delegation.allowed:
        yield Issue("delegation.within_roles", "names roles, but delegation is not allowed")

    country = m.calendar.country
    if country is not None and not known_country(country):
        # known_country imports the holidays library on first use, not with governance.
        yield Issue(
            "calendar.country",
            f'"{country}" is not a country the holidays library knows '
            "(an ISO 3166-1 alpha-2 code, e.g. SE, NO, DE)",
        )

    # Delegated tolerances sit inside the ones they were delegated from.
    chain = list(m.tolerances.levels())
    for (upper_name, upper), (lower_name, lower) in itertools.pairwise(chain):
        for aspect, value in lower.items():
            limit = getattr(upper, aspect)
            if limit is not None and value > limit:
                yield Issue(
                    f"tolerances.{lower_name}.{aspect}",
                    f"must not exceed the {upper_name} tolerance it is delegated from",
                )


RefCheck = Callable[[str, str], Iterator[Issue]]


def _check_rule(
    path: str, rule: DecisionRule, role_ref: RefCheck, level_ref: RefCheck
) -> Iterator[Issue]:
    """What every decision rule (a gate, the formal change rule) must get right on its own."""
    for j, role in enumerate(rule.approvers):
        yield from role_ref(f"{path}.approvers[{j}]", role)
    for dup in sorted(_duplicates(rule.approvers)):
        yield Issue(f"{path}.approvers", f'role "{dup}" is listed twice')
    for j, role in enumerate(rule.consult):
        issues = list(role_ref(f"{path}.consult[{j}]", role))
        yield from issues
        if not issues and role in rule.approvers:
            yield Issue(
                f"{path}.consult[{j}]",
                f'"{role}" is one of the approvers; a role either decides or advises (an '
                "adviser's vote is not counted): list it under approvers or under consult",
            )
    for dup in sorted(_duplicates(rule.consult)):
        yield Issue(f"{path}.consult", f'role "{dup}" is listed twice')
    for j, role in enumerate(rule.required):
        issues = list(role_ref(f"{path}.required[{j}]", role))
        yield from issues
        if issues or role in rule.approvers:
            continue
        if role in rule.consult:
            yield Issue(
                f"{path}.required[{j}]",
                f'"{role}" only advises (consult), and an adviser\'s vote is not counted; a '
                "required role must be one of the approvers",
            )
        else:
            yield Issue(f"{path}.required[{j}]", f'"{role}" must also be one of the approvers')
    if rule.reminder is not None and rule.reminder >= rule.sla:
        yield Issue(f"{path}.reminder", "must come before the SLA passes")
    if rule.escalate_to is not None:
        yield from level_ref(f"{path}.escalate_to", rule.escalate_to)


def _decision_rules(m: GovernanceModel) -> Iterator[tuple[str, str, DecisionRule]]:
    """Every decision rule of the model: (path, what it decides, rule)."""
    for i, phase in enumerate(m.phases):
        yield f"phases[{i}].gate", "gate", phase.gate
    if m.change_control.formal is not None:
        yield "change_control.formal", "formal change", m.change_control.formal


def _check_escalation(m: GovernanceModel) -> Iterator[Issue]:
    """The chain runs upwards, and a gate escalates above whoever could decide it already.

    "Above" is the chain's order (lowest level first): each level has its own role, the
    board's roles decide above the project manager's level, and a gate's ``escalate_to`` lies
    above the project manager's level (the requester must not end up deciding their own gate)
    and at or above the highest level whose role approves the gate.
    """
    at: dict[str, int] = {}
    for i, lvl in enumerate(m.escalation):
        if lvl.role in at:
            yield Issue(
                f"escalation[{i}].role",
                f'"{lvl.role}" already decides at level {m.escalation[at[lvl.role]].id}; '
                "each level of the chain has a role of its own",
            )
        else:
            at[lvl.role] = i
    pm = at.get(m.project_manager)
    for role, what in ((m.project_manager, "project manager"), (m.board.executive, "executive")):
        if m.escalation and role not in at and role in {r.id for r in m.roles}:
            # Without it "above" cannot be judged: a gate could escalate to a team lead who
            # then passes the board's gate alone.
            yield Issue(
                "escalation",
                f'the {what}\'s role "{role}" has no level in the chain; give it one, so '
                "that escalation can be judged to go up",
            )
    for member in m.board.members:
        i = at.get(member, -1)
        if pm is not None and 0 <= i < pm:
            yield Issue(
                f"escalation[{i}].role",
                f'"{member}" is a board role and must decide above the project manager\'s '
                f"level {m.escalation[pm].id} (the chain is listed lowest first)",
            )
    index = {lvl.id: i for i, lvl in enumerate(m.escalation)}
    for base, what, rule in _decision_rules(m):
        target = index.get(rule.escalate_to) if rule.escalate_to is not None else None
        if target is None:
            continue  # none, or an unknown level: reported with the cross-references
        path = f"{base}.escalate_to"
        if pm is not None and target <= pm:
            where = (
                "is the project manager's own level"
                if target == pm
                else (f"is below the project manager's level {m.escalation[pm].id}")
            )
            yield Issue(
                path,
                f"level {rule.escalate_to} {where}: the requester would decide their own "
                f"{what}; escalate to a level above it",
            )
            continue
        approving = [at[role] for role in rule.approvers if role in at]
        if approving and target < max(approving):
            top = m.escalation[max(approving)]
            yield Issue(
                path,
                f"level {rule.escalate_to} is below the {what}'s approvers ({top.role} decides "
                f"at level {top.id}); escalate to that level or above it",
            )


def _check_minor_changes(m: GovernanceModel) -> Iterator[Issue]:
    """What the manager decides alone fits inside the project's tolerance and change budget."""
    minor, project = m.change_control.minor, m.tolerances.project
    base = "change_control.minor"
    if minor.max_cost > minor.budget:
        yield Issue(
            f"{base}.max_cost", f"must not exceed the minor-change budget ({minor.budget:g}%)"
        )
    for key, value, limit in (
        ("max_cost", minor.max_cost, project.cost),
        ("budget", minor.budget, project.cost),
    ):
        if limit is not None and value > limit:
            yield Issue(
                f"{base}.{key}", f"must not exceed the project's cost tolerance ({limit:g}%)"
            )
    if project.time is not None and minor.max_time > project.time:
        yield Issue(
            f"{base}.max_time",
            f"must not exceed the project's time tolerance ({format_duration(project.time)})",
        )
