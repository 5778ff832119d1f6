"""How a project is controlled: progress reports, the earned-value forecast, tolerances and
RAG, the baseline and its changes, and highlight reports (PRINCE2's management by exception).

The figures are governance's pure functions (earned value, RAG); this module keeps the state
they work on and records what follows from them. A forecast breach goes to
workflows/_exceptions.py; change requests are workflows/_changes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from governance import (
        ASPECTS,
        Baseline,
        Charter,
        ControlFigures,
        GovernanceModel,
        Tolerances,
        earned_value,
        effective_tolerances,
        highlight_report,
        rag,
    )
    from governance._rag import AspectStatus, Colour, RagReport
    from governance.audit import EventKind
    from governance.messages import (
        ControlState,
        ControlStatus,
        ProgressRecord,
        ReportProgressInput,
    )
    from workflows._steps import Part, Project, iso, money, person_roles, reject

if TYPE_CHECKING:
    from workflows._changes import Changes
    from workflows._decisions import Decisions
    from workflows._exceptions import Exceptions
    from workflows._packages import Packages

LAST_DAY = date(2999, 12, 31)
"""The latest planned end a baseline may have (dates beyond are a typing slip)."""
MAX_NOTES = 50
"""Lines a highlight report lists under "since the last report"; older ones are dropped."""
ORDER: dict[str, int] = {"green": 0, "amber": 1, "red": 2}


def new_control(
    charter: Charter, model: GovernanceModel, now: datetime, cadence: bool
) -> ControlState:
    """A project's control as it starts: the charter's baseline; highlight reports on the
    model's cadence from now (``cadence`` False: a project begun before they existed)."""
    return ControlState(
        baseline=charter.baseline,
        highlight_due=now + model.reporting.highlight_every if cadence else None,
        last_highlight_at=now,
    )


def worst_of(colours: list[Colour]) -> Colour | None:
    worst: Colour | None = None
    for colour in colours:
        if worst is None or ORDER[colour] > ORDER[worst]:
            worst = colour
    return worst


class Control(Part):
    def __init__(
        self,
        project: Project,
        *,
        handled: Callable[[], None],
        upsert_search: Callable[[], None],
    ) -> None:
        super().__init__(project)
        assert self._s.control is not None
        self.c: ControlState = self._s.control
        self._handled = handled
        self._upsert_search = upsert_search
        self.exceptions: Exceptions
        self.changes: Changes
        self.decisions: Decisions
        self.packages: Packages

    # -- progress reports -------------------------------------------------------------------

    def check_report(self, input: ReportProgressInput) -> None:
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if input.work_package is not None:
            self.packages.check_report(input)
            return
        roles = person_roles(self._charter, input.actor)
        if self._model.project_manager not in roles:
            raise reject(
                f'"{input.actor}" is not the project manager and may not report progress',
                "NotAuthorised",
            )
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        start = self._charter.baseline.start
        if input.as_of < start:
            raise reject(
                f"as_of {input.as_of} is before the project's start ({start})", "InvalidProgress"
            )
        today = workflow.now().date()
        if input.as_of > today:
            raise reject(
                f"as_of {input.as_of} is in the future (today is {today})", "InvalidProgress"
            )
        last = self.c.last
        if last is not None and input.as_of < last.as_of:
            raise reject(
                f"as_of {input.as_of} is before the last report's ({last.as_of}, report "
                f"{last.number})",
                "InvalidProgress",
            )
        total = float(self.c.baseline.scope.amount)
        if input.earned_scope > total:
            raise reject(
                f"earned_scope {input.earned_scope:g} is above the total scope {total:g} "
                f"{self.c.baseline.scope.unit}",
                "InvalidProgress",
            )

    def report(self, input: ReportProgressInput) -> None:
        """A step: keep the report, record it, and act on what its forecast says."""
        if input.work_package is not None:
            self.packages.report(input)
            self._handled()
            return
        c = self.c
        c.progress += 1
        c.last = ProgressRecord(
            number=c.progress,
            as_of=input.as_of,
            actual_cost=input.actual_cost,
            earned_scope=input.earned_scope,
            risks=list(input.risks),
            quality_issues=list(input.quality_issues),
            benefits_forecast=input.benefits_forecast,
            by=input.actor,
            at=workflow.now(),
            comment=input.comment,
        )
        state = self._machine.state
        figures = self.figures()
        ev = figures.earned_value if figures is not None else None
        self._rec.event(
            EventKind.progress_reported,
            state,
            state,
            actor=input.actor,
            role=self._model.project_manager,
            comment=input.comment,
            payload={
                "number": c.progress,
                "as_of": input.as_of.isoformat(),
                "actual_cost": input.actual_cost,
                "earned_scope": input.earned_scope,
                "risks": len(input.risks),
                "quality_issues": len(input.quality_issues),
                "benefits_forecast": input.benefits_forecast,
                **({"eac": ev.eac, "spi": ev.spi, "cpi": ev.cpi} if ev is not None else {}),
            },
        )
        self.note(f"progress report {c.progress} as of {input.as_of}")
        self._handled()
        self.evaluate(input.actor)

    # -- forecast and RAG -------------------------------------------------------------------

    def figures(self) -> ControlFigures | None:
        last = self.c.last
        if last is None:
            return None
        baseline = self.c.baseline
        ev = earned_value(baseline, last.as_of, last.actual_cost, last.earned_scope)
        forecast = self._s.execution.forecast
        velocity_end = (
            forecast.mean_date.date() if forecast is not None and forecast.mean_date else None
        )
        return ControlFigures(
            earned_value=ev,
            velocity_end=velocity_end,
            total_scope=float(baseline.scope.amount),
            added_scope=self._s.execution.added_scope,
            quality_scope=sum(q.scope for q in last.quality_issues),
            risk_exposure=sum(r.probability * r.impact for r in last.risks),
            benefits_forecast=last.benefits_forecast,
        )

    def tolerances(self) -> dict[str, Tolerances]:
        return effective_tolerances(self._model, self._charter, self.c.widened)

    def assess(
        self, tolerances: dict[str, Tolerances] | None = None, baseline: Baseline | None = None
    ) -> tuple[ControlFigures, RagReport] | None:
        """The RAG the last report gives under ``tolerances`` and ``baseline`` (default: those
        in force), or None before the first report."""
        saved = self.c.baseline
        if baseline is not None:
            self.c.baseline = baseline
        try:
            figures = self.figures()
        finally:
            self.c.baseline = saved
        if figures is None:
            return None
        return figures, rag(
            tolerances if tolerances is not None else self.tolerances(),
            self._model.tolerances.amber_at,
            figures,
        )

    def evaluate(self, actor: str | None) -> None:
        """Recompute the forecast and the RAG from the last report; record a change of RAG
        (a highlight report follows when the model says so); raise an exception for a
        forecast breach, or add it to the open one."""
        assessed = self.assess()
        if assessed is None:
            return
        figures, report = assessed
        c = self.c
        before = (c.worst, self.by_aspect())
        c.forecast = figures.earned_value
        c.rag = {level: dict(aspects) for level, aspects in report.levels.items()}
        c.worst = report.worst
        after = (c.worst, self.by_aspect())
        changed = after != before
        if changed:
            state = self._machine.state
            self._rec.event(
                EventKind.rag_changed,
                state,
                state,
                actor=actor,
                payload={"from": before[0], "to": after[0], "by_aspect": dict(after[1])},
            )
            self.note(f"RAG {before[0] or 'none'} -> {after[0]}")
            self._upsert_search()
        breaches = [s for aspects in report.levels.values() for s in aspects.values()
                    if s.colour == "red"]  # fmt: skip
        if breaches and c.closing_early is None:
            self.exceptions.breached(breaches, actor)
        if changed and self._model.reporting.on_change:
            # After the exception it raised: the report lists it among the open decisions.
            self.highlight("rag_change")

    def rag_report(self) -> RagReport | None:
        c = self.c
        if c.worst is None:
            return None
        return RagReport(levels=c.rag, by_aspect=self.by_aspect(), worst=c.worst)

    def by_aspect(self) -> dict[str, Colour]:
        out: dict[str, Colour] = {}
        for aspect in ASPECTS:
            colours = [lvl[aspect].colour for lvl in self.c.rag.values() if aspect in lvl]
            worst = worst_of(colours)
            if worst is not None:
                out[aspect] = worst
        return out

    # -- baseline -----------------------------------------------------------------------------

    def new_baseline(
        self,
        *,
        budget: float | None = None,
        add_budget: float = 0.0,
        planned_end: date | None = None,
        add_days: int = 0,
        scope: float | None = None,
        add_scope: float = 0.0,
        what: str,
    ) -> Baseline:
        """The baseline ``what`` (a plan, a change) would make, validated as a charter's is:
        a refusal naming the figure when it would not be one (no scope left, a budget past
        what money holds, an end before the start or past the year 2999)."""
        old = self.c.baseline
        try:
            end = (planned_end or old.planned_end) + timedelta(days=add_days)
        except OverflowError:
            end = date.max
        amount = (float(old.scope.amount) if scope is None else scope) + add_scope
        total = (old.budget if budget is None else Decimal(repr(budget))) + Decimal(
            repr(add_budget)
        )
        problem = None
        if end > LAST_DAY:
            problem = f"its planned end {end} lies past {LAST_DAY}"
        elif end <= old.start:
            problem = f"its planned end {end} is not after the start {old.start}"
        elif round(amount) < 1:
            problem = f"it would leave no scope ({amount:g} {old.scope.unit})"
        elif self.c.last is not None and round(amount) < self.c.last.earned_scope:
            problem = (
                f"its scope {round(amount)} is below the {self.c.last.earned_scope:g} "
                f"{old.scope.unit} earned already (progress report {self.c.last.number})"
            )
        if problem is None:
            data = old.model_dump(mode="json") | {
                "budget": format(money(total), "f"),
                "planned_end": end.isoformat(),
                "scope": {"unit": old.scope.unit, "amount": round(amount)},
                "planned_value": [],
            }
            try:
                return Baseline.model_validate(data)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"])
                problem = f"{field}: {err['msg']}"
        raise reject(f"{what} would make an invalid baseline: {problem}", "InvalidBaseline")

    def rebaseline(self, new: Baseline, why: dict[str, Any], actor: str) -> None:
        """The baseline changes (an approved exception plan or formal change): old and new
        side by side in the ledger."""
        c = self.c
        old = c.baseline
        c.baseline = new
        c.baseline_version += 1
        state = self._machine.state
        self._rec.event(
            EventKind.baseline_changed,
            state,
            state,
            actor=actor,
            payload={
                "version": c.baseline_version,
                "old": old.model_dump(mode="json"),
                "new": new.model_dump(mode="json"),
                **why,
            },
        )
        self.note(
            f"baseline {c.baseline_version} ({', '.join(f'{k} {v}' for k, v in why.items())})"
        )

    def change_budget(self) -> float:
        """The minor-change budget, in the currency: the model's share (or the share an
        exception widened it to) of the budget."""
        share = self.c.change_budget
        if share is None:
            share = self._model.change_control.minor.budget
        return share / 100 * float(self.c.baseline.budget)

    def change_budget_left(self) -> float:
        return self.change_budget() - self.c.minor_spent

    # -- highlight reports ----------------------------------------------------------------

    def note(self, line: str) -> None:
        """Something a highlight report lists under "since the last report"."""
        notes = self.c.since_highlight
        notes.append(f"{workflow.now().date().isoformat()} {line}")
        del notes[:-MAX_NOTES]

    def highlight_due(self) -> datetime | None:
        return self.c.highlight_due

    def on_timer(self, now: datetime) -> None:
        c = self.c
        if c.highlight_due is not None and now >= c.highlight_due:
            self.highlight("cadence")
            every = self._model.reporting.highlight_every
            while c.highlight_due <= now:
                c.highlight_due += every

    def shift(self, by: Any) -> None:
        if self.c.highlight_due is not None:
            self.c.highlight_due += by

    def highlight(self, reason: str) -> None:
        """Issue a highlight report to the board: status, RAG, forecast, open decisions and
        what changed since the last one."""
        c = self.c
        now = workflow.now()
        c.highlights += 1
        phase = self._machine.phase
        report = highlight_report(
            charter=self._charter,
            number=c.highlights,
            period_start=(c.last_highlight_at or self._s.started_at).date(),
            period_end=now.date(),
            reason=reason,  # type: ignore[arg-type]
            state=self._machine.state,
            phase=phase,
            rag=self.rag_report(),
            forecast=c.forecast,
            open_decisions=[
                f"{s.gate if s.kind == 'gate' else s.title} (awaiting "
                f"{', '.join(s.awaited) or 'nobody'}, due {iso(s.deadline) or 'none'})"
                for s in (self.decisions.status(d) for d in self.decisions.open_ones())
            ],
            changes_since_last=list(c.since_highlight),
        )
        state = self._machine.state
        self._rec.report("highlight", c.highlights, report.model_dump(mode="json"), to_state=state)
        c.since_highlight = []
        c.last_highlight_at = now
        board = sorted(
            {p for role in self._model.board.members for p in self._charter.holders(role)}
        )
        self._rec.notify(
            "highlight_report",
            board,
            f"Highlight report {c.highlights} of {self._charter.title}",
            number=c.highlights,
            reason=reason,
            rag=c.worst,
        )

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> ControlStatus:
        c = self.c
        return ControlStatus(
            baseline=c.baseline,
            baseline_version=c.baseline_version,
            progress=c.progress,
            last_report=c.last,
            rag_levels=c.rag,
            worst=c.worst,
            tolerances=self.tolerances(),
            change_budget=self.change_budget(),
            change_budget_left=self.change_budget_left(),
            changes=[self.changes.status(ch) for ch in c.changes],
            exception=self.exceptions.status(),
            highlights=c.highlights,
            next_highlight=c.highlight_due,
            packages=self.packages.status(),
        )

    def breach_text(self, s: AspectStatus) -> str:
        unit = " days" if s.aspect == "time" else "%"
        shown = "none" if s.deviation is None else f"{s.deviation:.4g}{unit}"
        return (
            f"{s.aspect} at {s.level} level: {shown} against a tolerance of {s.tolerance:g}{unit}"
        )
