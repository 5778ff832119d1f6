"""What a person types for the control commands (a figure, a date, a risk as
``TITLE:PROB:IMPACT``, an exception plan file), read and checked before anything is sent: a
problem is ``ProjectError("InvalidInput")`` naming the option. Light (no Temporal SDK): the
command line checks its input here in the API mode too; `phasegate.control` sends it.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

import governance as g
from governance.messages import (
    CHANGE_ID,
    MAX_FIGURE,
    DecideChangeInput,
    DecideExceptionInput,
    ExceptionPlan,
    QualityIssue,
    ReportProgressInput,
    RequestChangeInput,
    Risk,
)
from phasegate.choices import ALIASES, EXCEPTION_DECISIONS, ExceptionChoice
from phasegate.errors import ProjectError, command_input, pydantic_message

INVALID = "InvalidInput"
M = TypeVar("M", Risk, QualityIssue)


PARTS = ("--risk", "--quality-issue", "--tolerance")
"""Options whose value has parts: shown in double quotes, as ``--feedback`` is."""


def _invalid(option: str, value: object, problem: str) -> ProjectError:
    """``--option VALUE: problem``; a value of several parts (a risk) in double quotes."""
    if isinstance(value, float):
        shown = f"{value:g}"
    elif option in PARTS or (isinstance(value, str) and not value.strip()):
        shown = f'"{value}"'
    else:
        shown = str(value)
    return ProjectError(f"{option} {shown}: {problem}", INVALID)


# -- reading what a person typed ----------------------------------------------------------------


def figure(option: str, value: float, *, negative: bool = False) -> float:
    """``value`` if it is a finite amount from 0 (or from -MAX_FIGURE with ``negative``) to
    ``MAX_FIGURE``."""
    if not math.isfinite(value):
        raise _invalid(option, value, "must be a finite number")
    if value < 0 and not negative:
        raise _invalid(option, value, "must not be negative")
    if abs(value) > MAX_FIGURE:
        raise _invalid(option, value, f"must be at most {MAX_FIGURE:g}")
    return value


def parse_day(option: str, text: str) -> date:
    """A calendar date written ``YYYY-MM-DD``."""
    day, reason = _day(text)
    if day is None:
        raise _invalid(option, text, f"not a date as YYYY-MM-DD{reason}")
    return day


def _day(value: object) -> tuple[date | None, str]:
    """The date ``value`` writes as ``YYYY-MM-DD``, else None and why (or "")."""
    if not isinstance(value, str) or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is None:
        return None, ""
    try:
        return date.fromisoformat(value), ""
    except ValueError as exc:  # 2027-02-30: "day is out of range for month"
        return None, f" ({exc})"


def parse_duration(option: str, text: str) -> timedelta:
    try:
        return g.parse_duration(text)
    except ValueError:
        raise _invalid(option, text, "not an ISO-8601 duration (e.g. P5D, P2W)") from None


def _number(option: str, whole: str, part: str, what: str) -> float:
    try:
        value = float(part)
    except ValueError:
        raise _invalid(option, whole, f"{what} {part.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise _invalid(option, whole, f"{what} must be a finite number")
    return value


def parse_risk(text: str) -> Risk:
    """``TITLE:PROB:IMPACT``: the probability from 0 to 1 (or a percentage, ``30%``), the
    impact a cost; the title may itself hold colons (the last two separate)."""
    option = "--risk"
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0].strip():
        raise _invalid(
            option,
            text,
            'write it as "TITLE:PROBABILITY:IMPACT" (e.g. "Supplier late:0.3:50000")',
        )
    title, prob, impact = (p.strip() for p in parts)
    percent = prob.endswith("%")
    probability = _number(option, text, prob.removesuffix("%"), "the probability")
    probability = probability / 100 if percent else probability
    if not 0 <= probability <= 1:
        raise _invalid(option, text, "the probability must be from 0 to 1 (or 0% to 100%)")
    cost = _number(option, text, impact, "the impact")
    if cost < 0:
        raise _invalid(option, text, "the impact must not be negative")
    return _checked(Risk, option, text, title=title, probability=probability, impact=cost)


def parse_quality_issue(text: str) -> QualityIssue:
    """``TITLE:SCOPE``: the scope failing its quality criteria, in the charter's unit."""
    option = "--quality-issue"
    title, colon, scope = (p.strip() for p in text.rpartition(":"))
    if not colon or not title:
        raise _invalid(option, text, 'write it as "TITLE:SCOPE" (e.g. "Import loses rows:12")')
    amount = _number(option, text, scope, "the scope")
    if amount < 0:
        raise _invalid(option, text, "the scope must not be negative")
    return _checked(QualityIssue, option, text, title=title, scope=amount)


def parse_tolerances(values: Sequence[str]) -> g.Tolerances | None:
    """``ASPECT=VALUE`` pairs (``cost=15%``, ``time=P6W``) as one Tolerances; None for none."""
    option = "--tolerance"
    given: dict[str, str] = {}
    for text in values:
        aspect, eq, value = (p.strip() for p in text.partition("="))
        if not eq or not aspect or not value:
            raise _invalid(option, text, 'write it as "ASPECT=VALUE" (e.g. "cost=15%", "time=P6W")')
        if aspect not in g.ASPECTS:
            raise _invalid(option, text, f"unknown aspect {aspect!r} ({', '.join(g.ASPECTS)})")
        if aspect in given:
            raise _invalid(option, text, f"{aspect} is given twice")
        given[aspect] = value
    if not given:
        return None
    try:
        return g.Tolerances.model_validate(given)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        aspect = str(err["loc"][0]) if err["loc"] else ""
        text = f"{aspect}={given.get(aspect, '')}"
        raise _invalid(option, text, pydantic_message(err)) from None


def change_id(text: str) -> str:
    """``CR-3`` (``cr-3`` too)."""
    value = text.strip().upper()
    if re.match(CHANGE_ID, value) is None:
        raise _invalid("CHANGE_ID", text, "not a change id (CR-1, CR-2, ...)")
    return value


def read_plan(path: Path) -> ExceptionPlan:
    """The exception plan in ``path`` (YAML or JSON: ``planned_end``, ``budget``, ``scope``,
    each optional): a problem is a GovernanceError naming the file and the key."""
    source = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO would hang, a device never end
            raise g.GovernanceError([g.Issue("(file)", "is not a regular file")], source)
        with path.open("rb") as fh:
            data = fh.read(g.MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise g.GovernanceError([g.Issue("(file)", exc.strerror or str(exc))], source) from None
    content = g.read_yaml(data, source)  # JSON is YAML; the size limit is checked there
    issues: list[g.Issue] = []
    if "planned_end" in content:  # a date as text only: pydantic would take 20271031 too
        end = content.pop("planned_end")
        day, reason = _day(end)
        if day is None:
            problem = f"must be a date as YYYY-MM-DD{reason}, got {end!r}"
            issues.append(g.Issue("planned_end", problem))
        else:
            content["planned_end"] = day
    try:
        plan = ExceptionPlan.model_validate(content)
    except ValidationError as exc:
        issues += [
            g.Issue(
                g.format_path(err["loc"]),
                _message(pydantic_message(err), err["input"], err["type"]),
            )
            for err in exc.errors(include_url=False)
        ]
    if issues:
        raise g.GovernanceError(issues, source)
    if plan == ExceptionPlan():
        raise g.GovernanceError(
            [g.Issue("(document)", "gives none of planned_end, budget, scope")], source
        )
    return plan


def _message(msg: str, value: object, kind: str) -> str:
    if kind == "extra_forbidden":
        return "unknown key (planned_end, budget and scope are known)"
    return f"{msg}, got {value!r}"


def _checked(cls: type[M], option: str, text: str, **data: object) -> M:
    try:
        return command_input(cls, **data)
    except ProjectError as exc:
        raise _invalid(option, text, str(exc)) from None


OPTIONS = {
    "actor": "--as",
    "as_of": "--as-of",
    "actual_cost": "--actual-cost",
    "earned_scope": "--earned-scope",
    "risks": "--risk",
    "quality_issues": "--quality-issue",
    "benefits_forecast": "--benefits-forecast",
    "comment": "--comment",
    "title": "--title",
    "reason": "--reason",
    "cost_impact": "--cost-impact",
    "time_impact": "--time-impact",
    "scope_impact": "--scope-impact",
    "change_id": "CHANGE_ID",
    "work_package": "--work-package",
    "exception_id": "--exception",
    "decision": "--decision",
    "plan": "--plan",
    "tolerances": "--tolerance",
    "change_budget": "--change-budget",
}
"""The command line's name of each field of the control updates' inputs."""
C = TypeVar("C", ReportProgressInput, RequestChangeInput, DecideChangeInput, DecideExceptionInput)


def _input(cls: type[C], **data: object) -> C:
    """The update's input, or ProjectError("InvalidInput") naming the option of each problem
    (``--title: String should have at least 1 character``)."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{OPTIONS.get(str(err['loc'][0]), str(err['loc'][0])) if err['loc'] else '-'}"
            f"{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in err['loc'][1:])}: "
            f"{pydantic_message(err)}"
            for err in exc.errors(include_url=False)
        )
        raise ProjectError(f"invalid request: {problems}", INVALID) from None


# -- the updates' inputs ------------------------------------------------------------------------


def progress_report(
    actor: str,
    *,
    as_of: date,
    actual_cost: float,
    earned_scope: float,
    risks: Sequence[Risk] = (),
    quality_issues: Sequence[QualityIssue] = (),
    benefits_forecast: float | None = None,
    comment: str | None = None,
    work_package: str | None = None,
) -> ReportProgressInput:
    """The progress report's input, its figures checked (naming the option)."""
    figure("--actual-cost", actual_cost)
    figure("--earned-scope", earned_scope)
    if benefits_forecast is not None:
        figure("--benefits-forecast", benefits_forecast)
    return _input(
        ReportProgressInput,
        actor=actor,
        as_of=as_of,
        actual_cost=actual_cost,
        earned_scope=earned_scope,
        risks=list(risks),
        quality_issues=list(quality_issues),
        benefits_forecast=benefits_forecast,
        comment=comment,
        work_package=work_package,
    )


def change_request(
    actor: str,
    title: str,
    *,
    cost_impact: float = 0.0,
    time_impact: timedelta = timedelta(0),
    scope_impact: float = 0.0,
    reason: str | None = None,
    comment: str | None = None,
) -> RequestChangeInput:
    figure("--cost-impact", cost_impact)
    figure("--scope-impact", scope_impact, negative=True)
    return _input(
        RequestChangeInput,
        actor=actor,
        title=title,
        reason=reason,
        cost_impact=cost_impact,
        time_impact=time_impact,
        scope_impact=scope_impact,
        comment=comment,
    )


def exception_decision(
    actor: str,
    decision: ExceptionChoice,
    *,
    plan: ExceptionPlan | None = None,
    tolerances: g.Tolerances | None = None,
    change_budget: float | None = None,
    comment: str | None = None,
    exception_id: str | None = None,
) -> DecideExceptionInput:
    """``approve-plan`` takes a plan (the new baseline) and nothing else; ``widen`` new
    tolerances, a new change budget or both; ``close`` neither."""
    decision = ALIASES.get(decision, decision)  # type: ignore[assignment]
    if decision not in EXCEPTION_DECISIONS:
        raise _invalid("--decision", decision, "use approve-plan, widen or close")
    if decision == "approve-plan" and plan is None:
        raise ProjectError("--decision approve-plan needs --plan FILE (the new baseline)", INVALID)
    if decision == "widen" and tolerances is None and change_budget is None:
        raise ProjectError(
            "--decision widen needs --tolerance ASPECT=VALUE or --change-budget PCT", INVALID
        )
    if decision != "approve-plan" and plan is not None:
        raise misplaced_plan(decision)
    if decision != "widen" and (tolerances is not None or change_budget is not None):
        raise ProjectError(
            f"--tolerance and --change-budget go with --decision widen, not {decision}", INVALID
        )
    if change_budget is not None and not (
        math.isfinite(change_budget) and 0 <= change_budget <= 100
    ):
        raise _invalid("--change-budget", change_budget, "must be a percentage from 0 to 100")
    return _input(
        DecideExceptionInput,
        actor=actor,
        decision=EXCEPTION_DECISIONS[decision],
        plan=plan,
        tolerances=tolerances,
        change_budget=change_budget,
        comment=comment,
        exception_id=exception_id.upper() if exception_id else None,
    )


def misplaced_plan(decision: str) -> ProjectError:
    return ProjectError(f"--plan goes with --decision approve-plan, not {decision}", INVALID)
