"""How work packages are controlled: the lowest level of management by exception.

The project manager gives each team manager a work package (the charter's ``work_packages``)
with the model's work-package tolerances. Its manager (or the project manager) reports its own
progress; its forecast is judged against those tolerances, and a forecast breach raises an
exception about the work package alone: the project goes on, and the level above the team's
(the project manager's) decides it, with the same SLA and escalation as every decision. The
decision approves a plan (the work package's new baseline), widens its tolerance (never past
the stage's), or closes the work package.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from governance import (
        ASPECTS,
        Baseline,
        ControlFigures,
        EscalationLevel,
        Tolerances,
        WorkPackage,
        earned_value,
        exception_report,
        package_tolerances,
        rag,
    )
    from governance._rag import AspectStatus, RagReport
    from governance._reports import raised_level
    from governance.audit import EventKind
    from governance.messages import (
        DecideExceptionInput,
        DecisionState,
        ExceptionRecord,
        PackageState,
        PackageStatus,
        ProgressRecord,
        ReportProgressInput,
    )
    from states import ExceptionCase
    from workflows._exceptions import go_up, settle
    from workflows._steps import Part, Project, iso, money, person_roles, reject

if TYPE_CHECKING:
    from workflows._control import Control
    from workflows._decisions import Decisions
    from workflows._exceptions import Exceptions

LEVEL = "work_package"


class Packages(Part):
    def __init__(
        self,
        project: Project,
        decisions: Decisions,
        control: Control,
        exceptions: Exceptions,
        *,
        upsert_search: Callable[[], None],
    ) -> None:
        super().__init__(project)
        self._d = decisions
        self._control = control
        self._exceptions = exceptions
        self._upsert_search = upsert_search

    def _package(self, package_id: str) -> WorkPackage:
        wp = self._charter.work_package(package_id)
        if wp is None:
            known = ", ".join(w.id for w in self._charter.work_packages) or "none"
            raise reject(
                f"project {self._charter.id} has no work package {package_id} (work packages: "
                f"{known})",
                "UnknownWorkPackage",
            )
        return wp

    def _state(self, wp: WorkPackage) -> PackageState:
        packages = self._control.c.packages
        if wp.id not in packages:
            packages[wp.id] = PackageState(baseline=wp.baseline(self._charter.baseline))
        return packages[wp.id]

    # -- progress -------------------------------------------------------------------------------

    def check_report(self, input: ReportProgressInput) -> None:
        """A work package's report: by its manager or the project manager, on its own dates
        and scope (the project checked that it is active and not held)."""
        assert input.work_package is not None
        wp = self._package(input.work_package)
        roles = person_roles(self._charter, input.actor)
        if input.actor != wp.manager and self._model.project_manager not in roles:
            raise reject(
                f'"{input.actor}" neither manages work package {wp.id} ({wp.manager} does) nor '
                "is the project manager, and may not report its progress",
                "NotAuthorised",
            )
        pkg = self._control.c.packages.get(wp.id)
        if pkg is not None and pkg.closed_by is not None:
            raise reject(
                f"work package {wp.id} was closed (exception {pkg.closed_by})",
                "WorkPackageClosed",
            )
        baseline = pkg.baseline if pkg is not None else wp.baseline(self._charter.baseline)
        if input.benefits_forecast is not None:
            raise reject(
                "benefits_forecast is the project's: a work package reports no benefits",
                "InvalidProgress",
            )
        if input.as_of < baseline.start:
            raise reject(
                f"as_of {input.as_of} is before work package {wp.id}'s start ({baseline.start})",
                "InvalidProgress",
            )
        today = workflow.now().date()
        if input.as_of > today:
            raise reject(
                f"as_of {input.as_of} is in the future (today is {today})", "InvalidProgress"
            )
        last = pkg.last if pkg is not None else None
        if last is not None and input.as_of < last.as_of:
            raise reject(
                f"as_of {input.as_of} is before work package {wp.id}'s last report's "
                f"({last.as_of}, report {last.number})",
                "InvalidProgress",
            )
        if input.earned_scope > baseline.scope.amount:
            raise reject(
                f"earned_scope {input.earned_scope:g} is above work package {wp.id}'s scope "
                f"{baseline.scope.amount} {baseline.scope.unit}",
                "InvalidProgress",
            )

    def report(self, input: ReportProgressInput) -> None:
        assert input.work_package is not None
        wp = self._package(input.work_package)
        pkg = self._state(wp)
        pkg.progress += 1
        pkg.last = ProgressRecord(
            number=pkg.progress,
            as_of=input.as_of,
            actual_cost=input.actual_cost,
            earned_scope=input.earned_scope,
            risks=list(input.risks),
            quality_issues=list(input.quality_issues),
            by=input.actor,
            at=workflow.now(),
            comment=input.comment,
        )
        figures = self._figures(pkg)
        ev = figures.earned_value
        state = self._machine.state
        self._rec.event(
            EventKind.progress_reported,
            state,
            state,
            actor=input.actor,
            role=next(iter(person_roles(self._charter, input.actor)), None),
            comment=input.comment,
            payload={
                "work_package": wp.id,
                "number": pkg.progress,
                "as_of": input.as_of.isoformat(),
                "actual_cost": input.actual_cost,
                "earned_scope": input.earned_scope,
                "risks": len(input.risks),
                "quality_issues": len(input.quality_issues),
                "eac": ev.eac,
                "spi": ev.spi,
                "cpi": ev.cpi,
            },
        )
        self._control.note(f"work package {wp.id}: progress report {pkg.progress}")
        self.evaluate(wp, input.actor)

    def _figures(self, pkg: PackageState, baseline: Baseline | None = None) -> ControlFigures:
        last = pkg.last
        assert last is not None
        base = baseline or pkg.baseline
        return ControlFigures(
            earned_value=earned_value(base, last.as_of, last.actual_cost, last.earned_scope),
            total_scope=float(base.scope.amount),
            quality_scope=sum(q.scope for q in last.quality_issues),
            risk_exposure=sum(r.probability * r.impact for r in last.risks),
        )

    def tolerances(self, pkg: PackageState | None) -> Tolerances | None:
        return package_tolerances(
            self._model, self._charter, pkg.widened if pkg is not None else None
        )

    def _assess(
        self, pkg: PackageState, tol: Tolerances | None = None, baseline: Baseline | None = None
    ) -> RagReport | None:
        tolerances = tol if tol is not None else self.tolerances(pkg)
        if tolerances is None or pkg.last is None:
            return None
        figures = self._figures(pkg, baseline)
        return rag({LEVEL: tolerances}, self._model.tolerances.amber_at, figures)

    def evaluate(self, wp: WorkPackage, actor: str | None) -> None:
        """The work package's forecast and RAG; a breach raises its exception."""
        pkg = self._state(wp)
        report = self._assess(pkg)
        if report is None:
            return
        pkg.forecast = self._figures(pkg).earned_value
        before = pkg.worst
        pkg.rag = dict(report.levels.get(LEVEL, {}))
        pkg.worst = report.worst
        if pkg.worst != before:
            state = self._machine.state
            self._rec.event(
                EventKind.rag_changed,
                state,
                state,
                actor=actor,
                payload={"work_package": wp.id, "from": before, "to": pkg.worst},
            )
            self._control.note(f"work package {wp.id}: RAG {before or 'none'} -> {pkg.worst}")
        breaches = [s for s in pkg.rag.values() if s.colour == "red"]
        if breaches and pkg.closed_by is None and self._control.c.closing_early is None:
            self._breached(wp, pkg, breaches, actor)

    # -- exceptions -----------------------------------------------------------------------------

    def _breached(
        self, wp: WorkPackage, pkg: PackageState, breaches: list[AspectStatus], actor: str | None
    ) -> None:
        aspects = sorted({b.aspect for b in breaches}, key=ASPECTS.index)
        state = self._machine.state
        current = pkg.exception
        if current is not None:
            added = [a for a in aspects if a not in current.aspects]
            if added:
                current.aspects = sorted({*current.aspects, *added}, key=ASPECTS.index)
                self._rec.event(
                    EventKind.exception_raised,
                    state,
                    state,
                    actor=actor,
                    payload={"id": current.id, "work_package": wp.id, "added_aspects": added},
                )
            return
        c = self._control.c
        now = workflow.now()
        c.exceptions += 1
        ex_id = f"EX-{c.exceptions}"
        raised = raised_level(self._model, LEVEL)
        ids = [lvl.id for lvl in self._model.escalation]
        case = ExceptionCase(ids[ids.index(raised) + 1 :] or [raised])
        # Four eyes: neither who reported the breach nor the package's manager decides it; a
        # level where that leaves nobody is passed over.
        barred = {wp.manager, *([actor] if actor else [])}
        while case.may("escalate") and not (
            set(self._charter.holders(self._model.level(case.level).role)) - barred
        ):
            case.fire("escalate")
        to = self._model.level(case.level)
        decision = self._d.new(
            "exception",
            id=ex_id,
            phase=self._machine.phase or "",
            requested_by=actor or "",
            level=to,
        )
        pkg.exception = ExceptionRecord(
            id=ex_id,
            machine=case.to_dict(),
            levels=[LEVEL],
            aspects=aspects,
            cause="tolerance",
            raised_at=now,
            raised_by=actor,
            from_state=state,
            report=c.exceptions,
            decision=decision,
            package=wp.id,
        )
        self._rec.event(
            EventKind.exception_raised,
            state,
            state,
            actor=actor,
            payload={
                "id": ex_id,
                "work_package": wp.id,
                "cause": "tolerance",
                "levels": [LEVEL],
                "aspects": aspects,
                "to_level": to.id,
                "deadline": iso(decision.deadline),
                "breaches": [self._control.breach_text(b) for b in breaches],
            },
        )
        by_aspect = {s.aspect: s.colour for s in pkg.rag.values()}
        content = exception_report(
            model=self._model,
            charter=self._charter,
            exception_id=ex_id,
            raised_at=now,
            level=LEVEL,
            breaches=breaches,
            figures=pkg.forecast,
            rag=RagReport(levels={LEVEL: pkg.rag}, by_aspect=by_aspect, worst=pkg.worst or "red"),
            lessons=[f"work package {wp.id}: {pkg.progress} progress report(s) so far"],
            package=wp,
        )
        self._rec.report("exception", c.exceptions, content.model_dump(mode="json"), to_state=state)
        holders = self._charter.holders(to.role)
        self._rec.open(self._d.decide_tasks(decision, holders, now, to.id))
        self._rec.notify(
            "exception",
            sorted({*holders, wp.manager}),
            f"Exception {ex_id} of {self._charter.title}, work package {wp.id}: "
            f"{', '.join(aspects)} (forecast breach)",
            level=to.id,
            deadline=iso(decision.deadline),
            report=c.exceptions,
        )
        self._control.note(f"exception {ex_id} raised for work package {wp.id} to {to.id}")

    def closed(self, package_id: str) -> bool:
        pkg = self._control.c.packages.get(package_id)
        return pkg is not None and pkg.closed_by is not None

    def open_records(self) -> list[ExceptionRecord]:
        return [
            pkg.exception
            for pkg in self._control.c.packages.values()
            if pkg.exception is not None and pkg.exception.decision is not None
        ]

    def owns(self, input: DecideExceptionInput) -> bool:
        """Whether ``input`` is about a work package's exception: named, or the only one open
        when the project has none of its own."""
        records = self.open_records()
        if input.exception_id is not None:
            return any(r.id == input.exception_id for r in records)
        if self._control.c.exception is not None:
            return False
        if len(records) > 1:
            ids = ", ".join(r.id for r in records)
            raise reject(
                f"exceptions {ids} of work packages are open: say which one you decide",
                "WhichException",
            )
        return len(records) == 1

    def _find(self, input: DecideExceptionInput) -> tuple[WorkPackage, PackageState]:
        for pkg_id, pkg in self._control.c.packages.items():
            rec = pkg.exception
            if (
                rec is not None
                and rec.decision is not None
                and (input.exception_id in (None, rec.id))
            ):
                return self._package(pkg_id), pkg
        raise reject(f"project {self._charter.id} has no open exception", "NoException")

    def on_escalated(self, d: DecisionState, target: EscalationLevel | None) -> None:
        if d.kind != "exception" or target is None:
            return
        for pkg in self._control.c.packages.values():
            rec = pkg.exception
            if rec is not None and rec.id == d.id:
                go_up(rec)

    def _plan_baseline(self, pkg: PackageState, input: DecideExceptionInput) -> Baseline:
        plan = input.plan
        assert plan is not None
        old = pkg.baseline
        project = self._control.c.baseline
        end = plan.planned_end or old.planned_end
        amount = round(plan.scope) if plan.scope is not None else old.scope.amount
        budget = old.budget if plan.budget is None else Decimal(repr(round(plan.budget, 4)))
        others = [self._baseline_of(w) for w in self._charter.work_packages
                  if self._control.c.packages.get(w.id) is not pkg]  # fmt: skip
        problem = None
        if end > project.planned_end or end <= old.start:
            problem = (
                f"its planned end {end} must lie after its start {old.start} and by the "
                f"project's planned end {project.planned_end}"
            )
        elif amount < 1 or (pkg.last is not None and amount < pkg.last.earned_scope):
            problem = f"its scope {amount} leaves less than is earned already"
        elif budget + sum(b.budget for b in others) > project.budget:
            problem = (
                f"its budget {money(budget)} and the other work packages' would exceed the "
                f"project's {money(project.budget)}"
            )
        elif amount + sum(b.scope.amount for b in others) > project.scope.amount:
            problem = (
                f"its scope {amount} and the other work packages' would exceed the project's "
                f"{project.scope.amount}"
            )
        if problem is None:
            data = old.model_dump(mode="json") | {
                "budget": format(money(budget), "f"),
                "planned_end": end.isoformat(),
                "scope": {"unit": old.scope.unit, "amount": amount},
            }
            try:
                return Baseline.model_validate(data)
            except ValidationError as exc:
                problem = str(exc.errors()[0]["msg"])
        raise reject(f"the work package's plan would make an invalid baseline: {problem}",
                     "InvalidBaseline")  # fmt: skip

    def _baseline_of(self, wp: WorkPackage) -> Baseline:
        pkg = self._control.c.packages.get(wp.id)
        return pkg.baseline if pkg is not None else wp.baseline(self._charter.baseline)

    def _widened(self, pkg: PackageState, input: DecideExceptionInput) -> Tolerances:
        now = self.tolerances(pkg)
        assert now is not None and input.tolerances is not None
        values = dict(now.items())
        above = self._control.tolerances()
        cap = above.get("stage") or above.get("project")
        for aspect, value in input.tolerances.items():
            old = values.get(aspect)
            if old is None:
                raise reject(
                    f"work packages have no {aspect} tolerance to widen", "InvalidDecision"
                )
            if value < old:
                raise reject(
                    f"tolerances.{aspect} would narrow the work package's tolerance",
                    "InvalidDecision",
                )
            limit = getattr(cap, aspect) if cap is not None else None
            if limit is not None and value > limit:
                raise reject(
                    f"a work package's {aspect} tolerance may not exceed the one it is "
                    "delegated from (the stage's)",
                    "InvalidDecision",
                )
            values[aspect] = value
        return Tolerances(**values)

    def check_decide(self, input: DecideExceptionInput) -> None:
        person_roles(self._charter, input.actor)
        _, pkg = self._find(input)
        rec = pkg.exception
        assert rec is not None and rec.decision is not None
        self._d.check_vote(rec.decision, input.actor)
        wp = self._package(rec.package or "")
        if input.actor == wp.manager:
            raise reject(
                f'four eyes: "{input.actor}" manages work package {wp.id} and may not decide '
                f"its exception {rec.id}",
                "SelfApproval",
            )
        if input.change_budget is not None:
            raise reject("a work package's exception has no change budget", "InvalidDecision")
        if input.decision == "approve_plan":
            if input.plan is None or input.plan.model_dump(exclude_none=True) == {}:
                raise reject(
                    "approve_plan needs the work package's new baseline: planned_end, "
                    "budget and/or scope",
                    "InvalidDecision",
                )
            self._not_breached(pkg, baseline=self._plan_baseline(pkg, input), what="the plan")
        elif input.decision == "widen_tolerance":
            if input.tolerances is None:
                raise reject("widen_tolerance needs the new tolerances", "InvalidDecision")
            self._not_breached(pkg, tol=self._widened(pkg, input), what="the widened tolerance")
        if input.plan is not None and input.decision != "approve_plan":
            raise reject("a plan goes with approve_plan only", "InvalidDecision")
        if input.tolerances is not None and input.decision != "widen_tolerance":
            raise reject("tolerances go with widen_tolerance only", "InvalidDecision")

    def _not_breached(
        self,
        pkg: PackageState,
        *,
        what: str,
        tol: Tolerances | None = None,
        baseline: Baseline | None = None,
    ) -> None:
        report = self._assess(pkg, tol, baseline)
        red = [s for s in (report.levels.get(LEVEL, {}) if report else {}).values()
               if s.colour == "red"]  # fmt: skip
        if red:
            raise reject(
                f"the work package's last forecast still breaches {what}: "
                + "; ".join(self._control.breach_text(s) for s in red),
                "StillBreached",
            )

    def decide(self, input: DecideExceptionInput) -> None:
        wp, pkg = self._find(input)
        rec = pkg.exception
        assert rec is not None and rec.decision is not None
        d = rec.decision
        outcome = self._d.vote(d, input.actor, input.decision, input.comment)
        if outcome is None:  # pragma: no cover - an exception's level decides alone
            return
        settle(rec, outcome, input.actor)
        state = self._machine.state
        if outcome == "approve_plan":
            old = pkg.baseline
            pkg.baseline = self._plan_baseline(pkg, input)
            pkg.baseline_version += 1
            self._rec.event(
                EventKind.baseline_changed,
                state,
                state,
                actor=input.actor,
                payload={
                    "work_package": wp.id,
                    "version": pkg.baseline_version,
                    "old": old.model_dump(mode="json"),
                    "new": pkg.baseline.model_dump(mode="json"),
                    "exception": rec.id,
                },
            )
        elif outcome == "widen_tolerance":
            old_tol = self.tolerances(pkg)
            pkg.widened = self._widened(pkg, input)
            self._rec.event(
                EventKind.tolerance_widened,
                state,
                state,
                actor=input.actor,
                comment=input.comment,
                payload={
                    "exception": rec.id,
                    "work_package": wp.id,
                    "levels": [LEVEL],
                    "old": old_tol.model_dump(mode="json") if old_tol else None,
                    "new": pkg.widened.model_dump(mode="json"),
                },
            )
        else:
            pkg.closed_by = rec.id
        self._d.close_tasks(d, outcome)
        rec.decision = None
        pkg.exception = None
        self._rec.event(
            EventKind.exception_resolved,
            state,
            state,
            actor=input.actor,
            comment=input.comment,
            payload={"id": rec.id, "work_package": wp.id, "outcome": outcome, "level": d.level},
        )
        self._control.note(
            f"exception {rec.id} of work package {wp.id} decided: {outcome} by {input.actor}"
        )
        self._rec.notify(
            "decision",
            sorted({wp.manager, *self._charter.holders(self._model.project_manager)}),
            f"Exception {rec.id} of work package {wp.id}: {outcome}",
            outcome=outcome,
        )
        if outcome != "close":
            self.evaluate(wp, input.actor)

    def end(self, reason: str, actor: str | None) -> None:
        """The project ends: the work packages' open exceptions ask nobody any more."""
        state = self._machine.state
        for pkg_id, pkg in self._control.c.packages.items():
            rec = pkg.exception
            if rec is None:
                continue
            if rec.decision is not None:
                self._d.withdraw(rec.decision)
            pkg.exception = None
            self._rec.event(
                EventKind.exception_resolved,
                state,
                state,
                actor=actor,
                payload={"id": rec.id, "work_package": pkg_id, "outcome": None, "reason": reason},
            )

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> list[PackageStatus]:
        out: list[PackageStatus] = []
        for wp in self._charter.work_packages:
            pkg = self._control.c.packages.get(wp.id)
            out.append(
                PackageStatus(
                    id=wp.id,
                    title=wp.title,
                    manager=wp.manager,
                    baseline=pkg.baseline if pkg else wp.baseline(self._charter.baseline),
                    baseline_version=pkg.baseline_version if pkg else 1,
                    progress=pkg.progress if pkg else 0,
                    last_report=pkg.last if pkg else None,
                    forecast=pkg.forecast if pkg else None,
                    rag=dict(pkg.rag) if pkg else {},
                    worst=pkg.worst if pkg else None,
                    tolerances=self.tolerances(pkg),
                    closed_by=pkg.closed_by if pkg else None,
                    exception=self._exceptions.status_of(pkg.exception)
                    if pkg is not None and pkg.exception is not None
                    else None,
                )
            )
        return out
