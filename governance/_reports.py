"""Exception and highlight reports: their content (PRINCE2's headings) as pydantic models, the
builders that derive it from the figures, and one deterministic Markdown rendering.

The content is what the ledger keeps as JSON (and hashes); the Markdown is rendered from it
alone, so the same content always reads the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from governance._charter import Charter, WorkPackage
from governance._earned_value import EarnedValue
from governance._model import GovernanceModel
from governance._rag import AspectStatus, Colour, RagReport

ExceptionOption = Literal["approve_plan", "widen_tolerance", "close"]
"""What the level holding an exception decides: the options its report sets out. Here rather
than with the messages that carry it, so that reading a model needs no messages module."""
WIDEN_UP_TO = 1.5
"""Recommend widening the tolerance when every breach uses at most this share of it (150 %);
beyond that the plan no longer holds and an exception plan is recommended."""
ReportKind = Literal["highlight", "exception"]


class _Content(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)


class Breach(_Content):
    """One aspect forecast outside its tolerance at one level."""

    kind: Literal["tolerance"] = "tolerance"
    aspect: str
    level: str
    deviation: float | None = Field(description="Days (time) or percent; None if unbounded.")
    tolerance: float
    used: float | None = Field(description="deviation / tolerance; None if unbounded.")
    text: str


class ChangeOverdraw(_Content):
    """A change whose cost impact is more than the change budget has left."""

    id: str
    title: str
    cost_impact: float
    budget_left: float


class ChangeBudgetCause(_Content):
    kind: Literal["change_budget"] = "change_budget"
    change: ChangeOverdraw
    text: str


Cause = Annotated[Breach | ChangeBudgetCause, Field(discriminator="kind")]


class Option(_Content):
    option: ExceptionOption
    effect: str


class Recommendation(_Content):
    option: ExceptionOption
    reason: str


class PackageRef(_Content):
    """The work package an exception at the work_package level is about."""

    id: str
    title: str
    manager: str


class ExceptionReport(_Content):
    """PRINCE2's exception report: what is forecast to break, what it means, what can be done."""

    title: str
    project_id: str
    project_title: str
    exception_id: str
    raised_at: datetime
    level: str = Field(description="The tolerance level breached (project, stage, work_package).")
    work_package: PackageRef | None = Field(
        None, description="The work package breached, at the work_package level."
    )
    to_level: str = Field(description="The escalation level that decides.")
    to_role: str = Field(description="The role deciding at that level.")
    cause: list[Cause]
    consequences: list[str]
    options: list[Option]
    recommendation: Recommendation
    lessons: list[str]
    figures: EarnedValue | None
    rag: dict[str, Colour]

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A project or stage exception's content stays as it was before work packages
        # (the ledger hashes it), so an absent work package is left out, not written null.
        data: dict[str, Any] = handler(self)
        if self.work_package is None:
            data.pop("work_package", None)
        return data

    def where(self) -> str:
        """The tolerance breached, in words: "the stage tolerance", "the tolerance of work
        package wp-import (Import the register)"."""
        return _where(self.level, self.work_package)


class HighlightReport(_Content):
    """A highlight report to the board: status, RAG, forecast, what waits and what changed."""

    project_id: str
    project_title: str
    number: int = Field(ge=1)
    period_start: date
    period_end: date
    reason: Literal["cadence", "rag_change"]
    state: str
    phase: str | None
    rag: dict[str, Colour]
    worst: Colour
    forecast: EarnedValue | None
    open_decisions: list[str]
    changes_since_last: list[str]


# -- words ------------------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _amount(aspect: str, value: float | None) -> str:
    if value is None:
        return "unbounded"
    return f"{value:g} days" if aspect == "time" else f"{value:.1f}%"


def _pct(used: float | None) -> str:
    return "an unbounded share" if used is None else f"{used * 100:.0f}%"


def _where(level: str, package: PackageRef | None) -> str:
    if package is None:
        return f"the {level} tolerance"
    return f"the tolerance of work package {package.id} ({package.title})"


def raised_level(model: GovernanceModel, tolerance_level: str) -> str:
    """The escalation level an exception at ``tolerance_level`` is raised at: a work
    package breach at the team managers' (the level below the project manager's; the
    project manager's where there is none), a stage breach at the project manager's, a
    project breach at the board's (the executive's)."""
    roles = {"stage": model.project_manager, "project": model.board.executive}
    if tolerance_level == "work_package":
        team = model.team_level()
        if team is not None:
            return team.id
        tolerance_level = "stage"
    if tolerance_level not in roles:
        raise ValueError(
            f"tolerance level must be project, stage or work_package, got {tolerance_level!r}"
        )
    return next(lvl.id for lvl in model.escalation if lvl.role == roles[tolerance_level])


def _breach(status: AspectStatus) -> Breach:
    dev, used = _finite(status.deviation), _finite(status.used)
    text = (
        f"{status.aspect}: forecast deviation {_amount(status.aspect, dev)} against a "
        f"{status.level} tolerance of {_amount(status.aspect, status.tolerance)} "
        f"({_pct(used)} of it)"
    )
    return Breach(
        aspect=status.aspect,
        level=status.level,
        deviation=dev,
        tolerance=status.tolerance,
        used=used,
        text=text,
    )


def _consequences(
    figures: EarnedValue | None,
    currency: str,
    causes: Sequence[Breach | ChangeBudgetCause],
    package: PackageRef | None,
) -> Iterable[str]:
    for cause in causes:
        if isinstance(cause, ChangeBudgetCause):
            c = cause.change
            yield (
                f"Change {c.id} costs {_money(c.cost_impact, currency)}, "
                f"{_money(c.cost_impact - c.budget_left, currency)} more than the change "
                f"budget has left ({_money(c.budget_left, currency)}); it cannot be decided "
                "within the project's delegation."
            )
    if figures is None:
        yield "No progress has been reported yet: no forecast."
        return
    f = figures
    over = "over" if f.eac > f.bac else "within"
    yield (
        f"Cost: forecast at completion (EAC) {_money(f.eac, currency)} against the budget "
        f"(BAC) {_money(f.bac, currency)}, {_money(abs(f.vac), currency)} {over} budget."
    )
    if f.forecast_end is None:
        yield f"Time: no forecast end yet (nothing earned); planned end {f.planned_end}."
    else:
        late = (f.forecast_end - f.planned_end).days
        when = f"{late} days late" if late > 0 else "on time or early"
        yield (
            f"Time: forecast end {f.forecast_end} against the planned end {f.planned_end}, {when}."
        )
    if f.tcpi is not None and f.tcpi > 0:
        yield (
            f"To finish within budget the rest must be done at a cost performance (TCPI) of "
            f"{f.tcpi:.2f}; so far it is {_num(f.cpi)} (CPI)."
        )
    what = "the project" if package is None else f"work package {package.id}"
    yield f"If nothing is done, {what} goes on outside the tolerances it was given."


def _options(
    model: GovernanceModel, breaches: Sequence[Breach], level: str, package: PackageRef | None
) -> list[Option]:
    # One line per aspect: its largest deviation over the levels is what widening must cover.
    largest: dict[str, Breach] = {}
    for b in breaches:
        if b.aspect not in largest or (b.deviation or 0) > (largest[b.aspect].deviation or 0):
            largest[b.aspect] = b
    widen = ", ".join(
        f"{b.aspect} to at least {_amount(b.aspect, b.deviation)}" for b in largest.values()
    )
    widened = f" ({widen})" if widen else ""
    if package is not None:
        return [
            Option(
                option="approve_plan",
                effect=f"An exception plan becomes the new baseline of work package "
                f"{package.id} (budget, planned end, scope); its old baseline stays in the "
                "ledger beside it.",
            ),
            Option(
                option="widen_tolerance",
                effect=f"The tolerance of work package {package.id} is widened{widened}; "
                "its baseline stays, and who widened it and why is recorded.",
            ),
            Option(
                option="close",
                effect=f"Work package {package.id} is closed; what is spent on it stays "
                "spent, and the project goes on.",
            ),
        ]
    closing = model.closing()
    return [
        Option(
            option="approve_plan",
            effect="An exception plan becomes the new baseline (budget, planned end, scope); "
            "the old baseline stays in the ledger beside it.",
        ),
        Option(
            option="widen_tolerance",
            effect=f"The {level} tolerance is widened{widened}; the baseline stays, and who "
            "widened it and why is recorded.",
        ),
        Option(
            option="close",
            effect=f"The project closes early through its closing phase "
            f"({closing.title}); what is spent stays spent.",
        ),
    ]


def recommend(breaches: Sequence[Breach], change: ChangeOverdraw | None) -> Recommendation:
    """Widen the tolerance when every breach uses at most 150 % of it; else an exception plan
    (a change beyond the change budget always needs one: it alters the baseline)."""
    if change is not None and not breaches:
        return Recommendation(
            option="approve_plan",
            reason=f"Change {change.id} alters the baseline beyond the change budget: an "
            "exception plan that includes it makes it the new baseline.",
        )
    over = [b for b in breaches if b.used is None or b.used > WIDEN_UP_TO]
    if not over:
        used = ", ".join(f"{b.aspect} {_pct(b.used)}" for b in breaches)
        return Recommendation(
            option="widen_tolerance",
            reason=f"Every breach uses at most {WIDEN_UP_TO:.0%} of its tolerance ({used}): "
            "a wider tolerance holds the forecast without re-planning.",
        )
    worst = ", ".join(f"{b.aspect} {_pct(b.used)}" for b in over)
    return Recommendation(
        option="approve_plan",
        reason=f"A breach uses more than {WIDEN_UP_TO:.0%} of its tolerance ({worst}): the "
        "plan no longer holds; re-plan rather than widen.",
    )


def exception_report(
    *,
    model: GovernanceModel,
    charter: Charter,
    exception_id: str,
    raised_at: datetime,
    level: str,
    breaches: Sequence[AspectStatus] = (),
    change: ChangeOverdraw | None = None,
    figures: EarnedValue | None = None,
    rag: RagReport | None = None,
    lessons: Sequence[str] = (),
    package: WorkPackage | None = None,
) -> ExceptionReport:
    """The exception report for tolerance ``breaches`` (red statuses) at ``level``, or for a
    ``change`` that would overdraw the change budget; it goes to the level above the one the
    exception is raised at (the top level decides its own). At the work_package level,
    ``package`` is the work package breached (and ``figures`` its own earned value); its
    report goes to the project manager's level where the model has a team level."""
    if not breaches and change is None:
        raise ValueError("an exception report needs breaches or a change")
    if (level == "work_package") != (package is not None):
        raise ValueError("a work package is given exactly for an exception at work_package level")
    ref = (
        PackageRef(id=package.id, title=package.title, manager=package.manager)
        if package is not None
        else None
    )
    raised = raised_level(model, level)
    to = model.level_above(raised) or model.level(raised)
    found = [_breach(s) for s in breaches]
    causes: list[Breach | ChangeBudgetCause] = list(found)
    if change is not None:
        text = (
            f"change {change.id} ({change.title}) costs {change.cost_impact:,.2f}, more than "
            f"the {change.budget_left:,.2f} left in the change budget"
        )
        causes.append(ChangeBudgetCause(change=change, text=text))
    aspects = ", ".join(dict.fromkeys(b.aspect for b in found))
    title = (
        f"Exception: {aspects} forecast outside {_where(level, ref)}"
        if found
        else f"Exception: change {change.id if change else ''} overdraws the change budget"
    )
    currency = charter.baseline.currency
    return ExceptionReport(
        title=title,
        project_id=charter.id,
        project_title=charter.title,
        exception_id=exception_id,
        raised_at=raised_at,
        level=level,
        work_package=ref,
        to_level=to.id,
        to_role=to.role,
        cause=causes,
        consequences=list(_consequences(figures, currency, causes, ref)),
        options=_options(model, found, level, ref),
        recommendation=recommend(found, change),
        lessons=list(lessons),
        figures=figures,
        rag=dict(rag.by_aspect) if rag is not None else {},
    )


def highlight_report(
    *,
    charter: Charter,
    number: int,
    period_start: date,
    period_end: date,
    reason: Literal["cadence", "rag_change"],
    state: str,
    phase: str | None,
    rag: RagReport | None,
    forecast: EarnedValue | None,
    open_decisions: Sequence[str] = (),
    changes_since_last: Sequence[str] = (),
) -> HighlightReport:
    return HighlightReport(
        project_id=charter.id,
        project_title=charter.title,
        number=number,
        period_start=period_start,
        period_end=period_end,
        reason=reason,
        state=state,
        phase=phase,
        rag=dict(rag.by_aspect) if rag is not None else {},
        worst=rag.worst if rag is not None else "green",
        forecast=forecast,
        open_decisions=list(open_decisions),
        changes_since_last=list(changes_since_last),
    )


# -- Markdown ---------------------------------------------------------------------------------


def _bullets(items: Iterable[str], empty: str = "none") -> list[str]:
    lines = [f"- {item}" for item in items]
    return lines or [f"- {empty}"]


def _rag_table(rag: Mapping[str, Colour]) -> list[str]:
    if not rag:
        return ["No RAG yet: no progress reported."]
    rows = [f"| {aspect} | {colour.upper()} |" for aspect, colour in rag.items()]
    return ["| aspect | RAG |", "|---|---|", *rows]


def _figures_table(f: EarnedValue | None) -> list[str]:
    if f is None:
        return ["No forecast yet: no progress reported."]
    rows = [
        ("as of", str(f.as_of)),
        ("BAC (budget)", _num(f.bac)),
        ("PV (planned value)", _num(f.pv)),
        ("EV (earned value)", _num(f.ev)),
        ("AC (actual cost)", _num(f.ac)),
        ("SV / CV", f"{_num(f.sv)} / {_num(f.cv)}"),
        ("SPI / CPI", f"{_num(f.spi, 3)} / {_num(f.cpi, 3)}"),
        ("EAC (BAC/CPI)", _num(f.eac)),
        ("EAC (AC + BAC - EV)", _num(f.eac_atypical)),
        ("ETC / VAC", f"{_num(f.etc)} / {_num(f.vac)}"),
        ("TCPI", _num(f.tcpi, 3)),
        ("complete / planned", f"{f.percent_complete:.1f}% / {f.percent_planned:.1f}%"),
        ("planned end / forecast end", f"{f.planned_end} / {f.forecast_end or 'n/a'}"),
    ]
    return ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def _exception_md(r: ExceptionReport) -> list[str]:
    rec = r.recommendation
    wp = r.work_package
    at = f"the {r.level} tolerance level" if wp is None else f"{r.where()}, run by {wp.manager}"
    return [
        f"# {r.title}",
        "",
        f"Project **{r.project_title}** ({r.project_id}), exception {r.exception_id}, raised "
        f"{r.raised_at.isoformat()} at {at}; for decision by "
        f"**{r.to_role}** at level {r.to_level}.",
        "",
        "## Cause",
        *_bullets(c.text for c in r.cause),
        "",
        "## Consequences",
        *_bullets(r.consequences),
        "",
        "## Options",
        *_bullets(f"**{o.option}**: {o.effect}" for o in r.options),
        "",
        "## Recommendation",
        f"**{rec.option}**: {rec.reason}",
        "",
        "## Lessons",
        *_bullets(r.lessons),
        "",
        "## RAG",
        *_rag_table(r.rag),
        "",
        "## Figures",
        *_figures_table(r.figures),
    ]


def _highlight_md(r: HighlightReport) -> list[str]:
    why = "on the reporting cadence" if r.reason == "cadence" else "on a change of RAG"
    return [
        f"# Highlight report {r.number}: {r.project_title}",
        "",
        f"Project {r.project_id}, period {r.period_start} to {r.period_end} ({why}).",
        f"State **{r.state}**" + (f", phase {r.phase}" if r.phase else "") + ".",
        f"Overall RAG: **{r.worst.upper()}**.",
        "",
        "## RAG",
        *_rag_table(r.rag),
        "",
        "## Forecast",
        *_figures_table(r.forecast),
        "",
        "## Open decisions",
        *_bullets(r.open_decisions),
        "",
        "## Changes since the last report",
        *_bullets(r.changes_since_last),
    ]


def render_report(kind: ReportKind, content: Mapping[str, Any]) -> str:
    """A report's content (as kept: JSON-able) as Markdown; the content is validated first."""
    if kind == "exception":
        lines = _exception_md(ExceptionReport.model_validate(content))
    elif kind == "highlight":
        lines = _highlight_md(HighlightReport.model_validate(content))
    else:
        raise ValueError(f"kind must be highlight or exception, got {kind!r}")
    return "\n".join(lines) + "\n"
