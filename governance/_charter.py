"""The project charter: which model, who plays which role, and the baseline."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, PositiveInt, model_validator

from governance._errors import GovernanceError, Issue
from governance._model import ASPECTS, GovernanceModel, Tolerances
from governance._quorum import escalation_shortfalls, gate_shortfalls
from governance._types import (
    Currency,
    Day,
    Email,
    Ident,
    Line,
    ModelRef,
    Money,
    Slug,
    Strict,
    Text,
    format_duration,
)

_ITERATION_SUFFIX = re.compile(r"-it-[0-9]+$")


class Person(Strict):
    id: Slug
    name: Line = Field(min_length=1)
    roles: list[Ident] = Field(min_length=1)
    email: Email | None = None


class Scope(Strict):
    unit: Literal["points", "items"] = "items"
    amount: PositiveInt


class PlannedValue(Strict):
    """One point of a planned-value curve: the budget planned to be spent by ``date``."""

    date: Day
    amount: Money = Field(description="Cumulative: everything planned up to this date.")


class Baseline(Strict):
    start: Day
    planned_end: Day
    budget: Money
    currency: Currency = "EUR"
    scope: Scope
    team_size: PositiveInt
    planned_value: list[PlannedValue] = Field(
        default_factory=list,
        description="The planned-value curve (cumulative); none: the budget spread linearly "
        "from start to planned_end.",
    )


class WorkPackage(Strict):
    """A piece of the project's work a team manager runs and reports on, within the
    work-package tolerances (PRINCE2's work package)."""

    id: Slug
    title: Line = Field(min_length=1)
    manager: Slug = Field(description="The person (a team manager) who runs it and reports on it.")
    budget: Money
    scope: PositiveInt = Field(description="Its share of the project's scope, in its unit.")
    start: Day
    planned_end: Day

    def baseline(self, project: Baseline) -> Baseline:
        """The work package as a baseline of its own (earned value, forecasts, RAG): its
        dates, budget and scope in the project's currency and unit; spread linearly."""
        return Baseline(
            start=self.start,
            planned_end=self.planned_end,
            budget=self.budget,
            currency=project.currency,
            scope=Scope(unit=project.scope.unit, amount=self.scope),
            team_size=1,
        )


class ToleranceOverrides(Strict):
    project: Tolerances | None = None
    stage: Tolerances | None = None
    work_package: Tolerances | None = None


class Waiver(Strict):
    rule: Literal["human_scale", "tolerances"]
    reason: Text = Field(min_length=10, description="Why the rule does not apply here.")
    granted_by: Slug = Field(description="A person holding the board's executive role.")


class Charter(Strict):
    """A project started under a governance model."""

    model: ModelRef
    id: Slug
    title: Line = Field(min_length=1)
    description: Text = ""
    people: list[Person] = Field(min_length=1)
    baseline: Baseline
    tolerances: ToleranceOverrides = ToleranceOverrides()
    waivers: list[Waiver] = Field(default_factory=list)
    work_packages: list[WorkPackage] = Field(default_factory=list, max_length=50)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def holders(self, role: str) -> list[str]:
        """Ids of the people who hold ``role``, in charter order."""
        return [p.id for p in self.people if role in p.roles]

    def work_package(self, package_id: str) -> WorkPackage | None:
        return next((w for w in self.work_packages if w.id == package_id), None)

    def waived(self, rule: str) -> bool:
        return any(w.rule == rule for w in self.waivers)

    @model_validator(mode="after")
    def _self_consistent(self) -> Charter:
        issues: list[Issue] = []
        ids: set[str] = set()
        for i, person in enumerate(self.people):
            if person.id in ids:
                issues.append(Issue(f"people[{i}].id", f'duplicate person "{person.id}"'))
            ids.add(person.id)
        if _ITERATION_SUFFIX.search(self.id):
            issues.append(
                Issue(
                    "id",
                    f'"{self.id}" ends like an iteration\'s name ("-it-<n>" is how a project '
                    "names its iterations' workflows); choose another id",
                )
            )
        if self.baseline.planned_end <= self.baseline.start:
            issues.append(Issue("baseline.planned_end", "must be after baseline.start"))
        else:
            issues += _curve_issues(self.baseline)
        for i, w in enumerate(self.waivers):
            if w.granted_by not in ids:
                issues.append(
                    Issue(f"waivers[{i}].granted_by", f'"{w.granted_by}" is not in people')
                )
        issues += _package_issues(self, ids)
        if issues:
            raise GovernanceError(issues)
        return self


def _package_issues(c: Charter, people: set[str]) -> Iterator[Issue]:
    """Work packages have ids of their own and a manager among the people, and lie inside
    the project: within its dates, their budgets and scopes together within its own."""
    b = c.baseline
    ids: set[str] = set()
    budget, scope = Decimal(0), 0
    for i, w in enumerate(c.work_packages):
        path = f"work_packages[{i}]"
        if w.id in ids:
            yield Issue(f"{path}.id", f'duplicate work package "{w.id}"')
        ids.add(w.id)
        if w.manager not in people:
            yield Issue(f"{path}.manager", f'"{w.manager}" is not in people')
        if w.planned_end <= w.start:
            yield Issue(f"{path}.planned_end", f"must be after its start ({w.start})")
        if not b.start <= w.start <= b.planned_end:
            yield Issue(
                f"{path}.start",
                f"must lie between baseline.start ({b.start}) and baseline.planned_end "
                f"({b.planned_end}), got {w.start}",
            )
        if not b.start <= w.planned_end <= b.planned_end:
            yield Issue(
                f"{path}.planned_end",
                f"must lie between baseline.start ({b.start}) and baseline.planned_end "
                f"({b.planned_end}), got {w.planned_end}",
            )
        budget += w.budget
        scope += w.scope
        if budget > b.budget and budget - w.budget <= b.budget:
            yield Issue(
                f"{path}.budget",
                f"brings the work packages' budgets to {budget}, over baseline.budget ({b.budget})",
            )
        if scope > b.scope.amount >= scope - w.scope:
            yield Issue(
                f"{path}.scope",
                f"brings the work packages' scopes to {scope} {b.scope.unit}, over "
                f"baseline.scope.amount ({b.scope.amount})",
            )


def _curve_issues(b: Baseline) -> Iterator[Issue]:
    """A planned-value curve lies inside the baseline: dates strictly increasing within
    [start, planned_end], amounts never falling and never above the budget."""
    for i, point in enumerate(b.planned_value):
        path = f"baseline.planned_value[{i}]"
        before = b.planned_value[i - 1] if i else None
        if not b.start <= point.date <= b.planned_end:
            yield Issue(
                f"{path}.date",
                f"must lie between baseline.start ({b.start}) and baseline.planned_end "
                f"({b.planned_end}), got {point.date}",
            )
        elif before is not None and point.date <= before.date:
            yield Issue(
                f"{path}.date",
                f"must come after the point before it ({before.date}), got {point.date}",
            )
        if point.amount > b.budget:
            yield Issue(
                f"{path}.amount",
                f"must not exceed baseline.budget ({b.budget}), got {point.amount}",
            )
        elif before is not None and point.amount < before.amount:
            yield Issue(
                f"{path}.amount",
                f"must not fall below the point before it ({before.amount}): the curve is "
                f"cumulative, got {point.amount}",
            )


def check_charter(charter: Charter, model: GovernanceModel) -> list[Issue]:
    """Everything a charter must agree with in its model. Empty when the pair is sound."""
    return list(_check(charter, model))


def _check(c: Charter, m: GovernanceModel) -> Iterator[Issue]:
    if c.model != m.ref:
        yield Issue("model", f'names "{c.model}" but the model given is "{m.ref}"')
    roles = {r.id for r in m.roles}
    for i, person in enumerate(c.people):
        for j, role in enumerate(person.roles):
            if role not in roles:
                yield Issue(
                    f"people[{i}].roles[{j}]",
                    f'unknown role "{role}" in {m.ref}; roles: {", ".join(sorted(roles))}',
                )

    def filled(path: str, role: str, why: str) -> Iterator[Issue]:
        if role in roles and not c.holders(role):
            yield Issue(path, f'nobody holds the role "{role}" ({why})')

    for role in m.board.members:
        yield from filled("people", role, "a board role")
    yield from filled("people", m.project_manager, "the project manager")
    for lvl in m.escalation:
        yield from filled("people", lvl.role, f"decides at escalation level {lvl.id}")
    for phase in m.phases:
        gate = phase.gate
        for role in gate.required:
            yield from filled("people", role, f"required at gate {phase.gate_state}")
        for task in gate.tasks:
            yield from filled("people", task.role, f"has a task at gate {phase.gate_state}")
    for role in m.change_rule().required:
        yield from filled("people", role, "required to approve formal changes")
    yield from _passable(c, m)

    executives = set(c.holders(m.board.executive))
    for i, waiver in enumerate(c.waivers):
        if waiver.granted_by not in executives and c.person(waiver.granted_by) is not None:
            yield Issue(
                f"waivers[{i}].granted_by",
                f'"{waiver.granted_by}" does not hold the executive role "{m.board.executive}"',
            )

    yield from _check_tolerances(c, m)
    yield from _check_packages(c, m)

    scale = m.human_scale
    if scale is not None and not c.waived("human_scale"):
        if scale.max_budget is not None and c.baseline.budget > scale.max_budget:
            yield Issue(
                "baseline.budget",
                f"{c.baseline.budget} is over the human-scale limit of {scale.max_budget}; "
                "split the project or grant a human_scale waiver",
            )
        if scale.max_people is not None and c.baseline.team_size > scale.max_people:
            yield Issue(
                "baseline.team_size",
                f"{c.baseline.team_size} people is over the human-scale limit of "
                f"{scale.max_people}; split the project or grant a human_scale waiver",
            )
        if scale.max_people is not None and len(c.people) > scale.max_people:
            yield Issue(
                "people",
                f"{len(c.people)} people are listed, over the human-scale limit of "
                f"{scale.max_people}; split the project or grant a human_scale waiver",
            )


def _passable(c: Charter, m: GovernanceModel) -> Iterator[Issue]:
    """Every gate can pass whoever of the project managers requests it (four eyes)."""
    seen: set[str] = set()
    requesters: list[str | None] = [*c.holders(m.project_manager)] or [None]
    for requester in requesters:
        for phase in m.phases:
            for message in gate_shortfalls(phase, m, c, requester):
                if message not in seen:
                    seen.add(message)
                    yield Issue("people", message)
        if requester is not None:
            for message in escalation_shortfalls(m, c, requester):
                yield Issue("people", message)


def _check_tolerances(c: Charter, m: GovernanceModel) -> Iterator[Issue]:
    """Overrides name levels and aspects the model has, stay within the model's unless a
    tolerances waiver is granted, and keep every level inside the one it is delegated from."""
    effective: list[tuple[str, dict[str, Any], Tolerances | None]] = []
    for name, model_level in m.tolerances.levels():
        override = getattr(c.tolerances, name)
        values = dict(model_level.items())
        effective.append((name, values, override))
        if override is None:
            continue
        for aspect, value in override.items():
            limit = values.get(aspect)
            path = f"tolerances.{name}.{aspect}"
            if limit is None:
                yield Issue(path, f"{m.ref} sets no {aspect} tolerance at {name} level")
                continue
            if value > limit and not c.waived("tolerances"):
                yield Issue(
                    path,
                    f"may only be tighter than the model's ({_show(limit)}) "
                    "unless a tolerances waiver is granted",
                )
            values[aspect] = value
    for name in ("stage", "work_package"):
        if getattr(c.tolerances, name) is not None and getattr(m.tolerances, name) is None:
            yield Issue(f"tolerances.{name}", f"{m.ref} has no {name} tolerances")
    for (upper, up, up_set), (lower, low, low_set) in itertools.pairwise(effective):
        for aspect in ASPECTS:
            u, v = up.get(aspect), low.get(aspect)
            if u is None or v is None or v <= u:
                continue
            if low_set is not None and getattr(low_set, aspect) is not None:
                yield Issue(
                    f"tolerances.{lower}.{aspect}",
                    f"must not exceed the {upper} tolerance it is delegated from ({_show(u)})",
                )
            elif up_set is not None and getattr(up_set, aspect) is not None:
                yield Issue(
                    f"tolerances.{upper}.{aspect}",
                    f"must not be tighter than the {lower} tolerance delegated from it "
                    f"({_show(v)}); tighten tolerances.{lower}.{aspect} too",
                )


def _check_packages(c: Charter, m: GovernanceModel) -> Iterator[Issue]:
    """Work packages need the model's work-package tolerances, and each is run by a team
    manager: a holder of the role of the level just below the project manager's (the
    project manager's own role where the chain has no level below it)."""
    if not c.work_packages:
        return
    if m.tolerances.work_package is None:
        yield Issue(
            "work_packages", f"{m.ref} has no work_package tolerances to run work packages within"
        )
    team = m.team_level()
    role = team.role if team is not None else m.project_manager
    why = (
        f"team managers decide at escalation level {team.id}"
        if team is not None
        else f"{m.ref} has no level below the project manager's"
    )
    for i, w in enumerate(c.work_packages):
        person = c.person(w.manager)
        if person is not None and role not in person.roles:
            yield Issue(
                f"work_packages[{i}].manager",
                f'"{w.manager}" does not hold the role "{role}" ({why})',
            )


def _show(value: object) -> str:
    return format_duration(value) if isinstance(value, timedelta) else f"{value:g}%"


def ensure_valid(charter: Charter, model: GovernanceModel, source: str | None = None) -> None:
    """``GovernanceError`` (from ``source``, e.g. the charter's path) unless the pair is sound."""
    issues = check_charter(charter, model)
    if issues:
        raise GovernanceError(issues, source)
