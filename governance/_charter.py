"""The project charter: which model, who plays which role, and the baseline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PositiveInt, model_validator
from pydantic_core import PydanticCustomError

from governance._errors import GovernanceError, Issue, shown
from governance._model import GovernanceModel, Tolerances
from governance._types import Ident, Money, Slug, Strict, format_duration

_REF = re.compile(r"^([a-z][a-z0-9_]{0,62})@([0-9]+(?:\.[0-9]+){0,2})$")


def _model_ref(value: Any) -> Any:
    if not isinstance(value, str) or not _REF.match(value):
        raise PydanticCustomError(
            "model_ref",
            'must name a governance model as "name@version" (e.g. "projektflodet@1.0"), '
            "got {value}",
            {"value": shown(value)},
        )
    return value


ModelRef = Annotated[str, BeforeValidator(_model_ref)]


def split_ref(ref: str) -> tuple[str, str]:
    name, _, version = ref.partition("@")
    return name, version


def is_model_ref(text: str) -> bool:
    """Whether ``text`` names a model (``prince2``, ``prince2@1.0``) rather than a file path."""
    return _REF.match(text if "@" in text else f"{text}@0") is not None


class Person(Strict):
    id: Slug
    name: str = Field(min_length=1)
    roles: list[Ident] = Field(min_length=1)
    email: str | None = None


class Scope(Strict):
    unit: Literal["points", "items"] = "items"
    amount: PositiveInt


class Baseline(Strict):
    start: date
    planned_end: date
    budget: Money
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    scope: Scope
    team_size: PositiveInt


class ToleranceOverrides(Strict):
    project: Tolerances | None = None
    stage: Tolerances | None = None
    work_package: Tolerances | None = None


class Waiver(Strict):
    rule: Literal["human_scale", "tolerances"]
    reason: str = Field(min_length=10, description="Why the rule does not apply here.")
    granted_by: Slug = Field(description="A person holding the board's executive role.")


class Charter(Strict):
    """A project started under a governance model."""

    model: ModelRef
    id: Slug
    title: str = Field(min_length=1)
    description: str = ""
    people: list[Person] = Field(min_length=1)
    baseline: Baseline
    tolerances: ToleranceOverrides = ToleranceOverrides()
    waivers: list[Waiver] = Field(default_factory=list)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def holders(self, role: str) -> list[str]:
        """Ids of the people who hold ``role``, in charter order."""
        return [p.id for p in self.people if role in p.roles]

    def waived(self, rule: str) -> bool:
        return any(w.rule == rule for w in self.waivers)

    @model_validator(mode="after")
    def _self_consistent(self) -> Charter:
        issues: list[Issue] = []
        ids = [p.id for p in self.people]
        for i, pid in enumerate(ids):
            if pid in ids[:i]:
                issues.append(Issue(f"people[{i}].id", f'duplicate person "{pid}"'))
        if self.baseline.planned_end <= self.baseline.start:
            issues.append(Issue("baseline.planned_end", "must be after baseline.start"))
        for i, w in enumerate(self.waivers):
            if w.granted_by not in ids:
                issues.append(
                    Issue(f"waivers[{i}].granted_by", f'"{w.granted_by}" is not in people')
                )
        if issues:
            raise GovernanceError(issues)
        return self


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
        eligible = {pid for role in gate.approvers for pid in c.holders(role)}
        if not eligible:
            yield Issue("people", f"nobody can approve gate {phase.gate_state}")
        elif gate.quorum(len(eligible)) > len(eligible):
            yield Issue(
                "people",
                f"gate {phase.gate_state} needs {gate.quorum(len(eligible))} approvals "
                f"but only {len(eligible)} people can approve it",
            )
        for task in gate.tasks:
            yield from filled("people", task.role, f"has a task at gate {phase.gate_state}")

    executives = set(c.holders(m.board.executive))
    for i, waiver in enumerate(c.waivers):
        if waiver.granted_by not in executives and c.person(waiver.granted_by) is not None:
            yield Issue(
                f"waivers[{i}].granted_by",
                f'"{waiver.granted_by}" does not hold the executive role "{m.board.executive}"',
            )

    if not c.waived("tolerances"):
        for level_name, override in (
            ("project", c.tolerances.project),
            ("stage", c.tolerances.stage),
            ("work_package", c.tolerances.work_package),
        ):
            if override is None:
                continue
            model_level = getattr(m.tolerances, level_name)
            for aspect, value in override.items():
                limit = getattr(model_level, aspect) if model_level is not None else None
                if limit is not None and value > limit:
                    yield Issue(
                        f"tolerances.{level_name}.{aspect}",
                        f"may only be tighter than the model's ({_show(limit)}) "
                        "unless a tolerances waiver is granted",
                    )

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


def _show(value: object) -> str:
    return format_duration(value) if isinstance(value, timedelta) else f"{value:g}%"


def ensure_valid(charter: Charter, model: GovernanceModel, source: str | None = None) -> None:
    """``GovernanceError`` (from ``source``, e.g. the charter's path) unless the pair is sound."""
    issues = check_charter(charter, model)
    if issues:
        raise GovernanceError(issues, source)
