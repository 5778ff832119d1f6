"""How exceptions are raised and decided (PRINCE2's management by exception).

A forecast breach of a tolerance, or a minor change that would overdraw the change budget,
raises an exception: the project enters the lifecycle's exception state (from a phase; while a
gate is open the gate goes on beside it), an exception report is issued, and the level above
the one whose tolerance broke decides it (a stage tolerance: the board; the project's: the level
above the board). It is a decision of the one mechanism (workflows/_decisions.py): its SLA, its
reminder, its escalation up the chain when nobody decides in time. The decision approves an
exception plan (the new baseline), widens the tolerance, or closes the project through its
closing phase. A breach while an exception is open adds to it; it is never raised twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import (
        ASPECTS,
        Baseline,
        ChangeOverdraw,
        EscalationLevel,
        Tolerances,
        exception_report,
    )
    from governance._rag import AspectStatus
    from governance._reports import raised_level
    from governance.audit import EventKind
    from governance.messages import (
        ChangeRecord,
        DecideExceptionInput,
        DecisionState,
        ExceptionRecord,
        ExceptionStatus,
    )
    from states import EXCEPTION, ChangeRequest, ExceptionCase
    from workflows._steps import Part, Project, iso, person_roles, reject

if TYPE_CHECKING:
    from workflows._changes import Changes
    from workflows._control import Control
    from workflows._decisions import Decisions

TRIGGERS = {"approve_plan": "approve_plan", "widen_tolerance": "widen_tolerance",
            "close": "close_project"}  # fmt: skip


def go_up(record: ExceptionRecord) -> None:
    """The exception's decision went one level up: its machine follows."""
    case = ExceptionCase.from_dict(record.machine)
    if case.may("escalate"):
        case.fire("escalate")
        record.machine = case.to_dict()


def settle(record: ExceptionRecord, outcome: str, actor: str) -> None:
    """The level holding the exception decided ``outcome``: its machine resolves it."""
    case = ExceptionCase.from_dict(record.machine)
    case.fire(TRIGGERS[outcome])
    record.machine = case.to_dict()
    record.outcome = outcome  # type: ignore[assignment]
    record.decided_by = actor


class Exceptions(Part):
    def __init__(
        self,
        project: Project,
        decisions: Decisions,
        control: Control,
        *,
        close_early: Callable[[str], None],
        upsert_search: Callable[[], None],
    ) -> None:
        super().__init__(project)
        self._d = decisions
        self._control = control
        self._close_early = close_early
        self._upsert_search = upsert_search
        self.changes: Changes

    @property
    def open(self) -> ExceptionRecord | None:
        return self._control.c.exception

    # -- raising --------------------------------------------------------------------------------

    def breached(self, breaches: list[AspectStatus], actor: str | None) -> None:
        """Forecast breaches: a new exception, or more of the open one."""
        levels = sorted({b.level for b in breaches}, key=("project", "stage").index)
        aspects = sorted({b.aspect for b in breaches}, key=ASPECTS.index)
        current = self.open
        if current is not None:
            new_aspects = [a for a in aspects if a not in current.aspects]
            new_levels = [lvl for lvl in levels if lvl not in current.levels]
            if new_aspects or new_levels:
                current.aspects = sorted({*current.aspects, *aspects}, key=ASPECTS.index)
                current.levels = sorted({*current.levels, *levels}, key=("project", "stage").index)
                state = self._machine.state
                self._rec.event(
                    EventKind.exception_raised,
                    state,
                    state,
                    actor=actor,
                    payload={
                        "id": current.id,
                        "added_aspects": new_aspects,
                        "added_levels": new_levels,
                        "breaches": [self._control.breach_text(b) for b in breaches],
                    },
                )
                self._control.note(
                    f"exception {current.id} widened to {', '.join(current.aspects)}"
                )
            return
        self._raise("tolerance", levels, aspects, actor, breaches=breaches)

    def change_overdraws(self, change: ChangeRecord, actor: str) -> None:
        """A minor change would overdraw the change budget: it waits for the exception."""
        current = self.open
        if current is not None:
            change.exception = current.id
            state = self._machine.state
            self._rec.event(
                EventKind.exception_raised,
                state,
                state,
                actor=actor,
                payload={"id": current.id, "added_change": change.id},
            )
            return
        change.exception = self._raise("change_budget", ["stage"], ["cost"], actor, change=change)

    def _raise(
        self,
        cause: str,
        levels: list[str],
        aspects: list[str],
        actor: str | None,
        *,
        breaches: list[AspectStatus] | None = None,
        change: ChangeRecord | None = None,
    ) -> str:
        c = self._control.c
        now = workflow.now()
        c.exceptions += 1
        ex_id = f"EX-{c.exceptions}"
        case = self._case("project" in levels)
        to = self._model.level(case.level)
        before = self._machine.state
        if self._machine.may("raise_exception"):
            self._machine.fire("raise_exception")
        decision = self._d.new(
            "exception",
            id=ex_id,
            phase=self._machine.phase or "",
            requested_by=actor or "",
            level=to,
        )
        record = ExceptionRecord(
            id=ex_id,
            machine=case.to_dict(),
            levels=levels,
            aspects=aspects,
            cause=cause,
            change_id=change.id if change is not None else None,
            raised_at=now,
            raised_by=actor,
            from_state=before,
            report=c.exceptions,
            decision=decision,
        )
        c.exception = record
        after = self._machine.state
        self._rec.event(
            EventKind.exception_raised,
            before,
            after,
            actor=actor,
            payload={
                "id": ex_id,
                "cause": cause,
                "levels": levels,
                "aspects": aspects,
                "to_level": to.id,
                "deadline": iso(decision.deadline),
                **({"change": change.id} if change is not None else {}),
                "breaches": [self._control.breach_text(b) for b in breaches or []],
            },
        )
        report = exception_report(
            model=self._model,
            charter=self._charter,
            exception_id=ex_id,
            raised_at=now,
            level="project" if "project" in levels else "stage",
            breaches=breaches or [],
            change=ChangeOverdraw(
                id=change.id,
                title=change.title,
                cost_impact=change.cost_impact,
                budget_left=self._control.change_budget_left(),
            )
            if change is not None
            else None,
            figures=c.forecast,
            rag=self._control.rag_report(),
            lessons=self._lessons(),
        )
        self._rec.report("exception", c.exceptions, report.model_dump(mode="json"), to_state=after)
        holders = self._charter.holders(to.role)
        self._rec.open(self._d.decide_tasks(decision, holders, now, to.id))
        self._rec.notify(
            "exception",
            sorted({*holders, *self._charter.holders(self._model.project_manager)}),
            f"Exception {ex_id} of {self._charter.title}: {', '.join(aspects)} "
            f"({'change budget' if cause == 'change_budget' else 'forecast breach'})",
            level=to.id,
            deadline=iso(decision.deadline),
            report=c.exceptions,
        )
        self._control.note(f"exception {ex_id} raised ({', '.join(aspects)}) to {to.id}")
        self._upsert_search()
        return ex_id

    def _case(self, project_level: bool) -> ExceptionCase:
        """The levels an exception goes up: above the board's level for a project tolerance,
        above the project manager's for a stage tolerance or the change budget."""
        raised_at = raised_level(self._model, "project" if project_level else "stage")
        ids = [lvl.id for lvl in self._model.escalation]
        above = ids[ids.index(raised_at) + 1 :]
        return ExceptionCase(above or [raised_at])

    def _lessons(self) -> list[str]:
        """What the project's own record says so far: iterations that fell short, changes
        taken on, earlier exceptions."""
        c = self._control.c
        lessons: list[str] = []
        for v in self._s.execution.history[-3:]:
            if v.completed_items < v.committed_items:
                lessons.append(
                    f"iteration {v.number} completed {v.completed_items} of "
                    f"{v.committed_items} committed items"
                )
        approved = [ch for ch in c.changes if ch.decided_by is not None and ch.decision is None]
        if approved:
            lessons.append(
                f"{len(approved)} change(s) decided so far; {c.minor_spent:,.2f} of the "
                f"change budget spent on minor changes"
            )
        if c.exceptions > 1:
            lessons.append(f"this is exception {c.exceptions} of the project")
        if c.baseline_version > 1:
            lessons.append(f"the baseline has been changed {c.baseline_version - 1} time(s)")
        if not lessons:
            lessons.append(
                "none recorded yet: no iteration has fallen short, no change or earlier "
                "exception (add lessons to the exception plan)"
            )
        return lessons

    def on_escalated(self, d: DecisionState, target: EscalationLevel | None) -> None:
        current = self.open
        if current is None or d.kind != "exception" or d.id != current.id or target is None:
            return
        go_up(current)
        self._control.note(f"exception {current.id} escalated to {target.id}")

    # -- deciding -------------------------------------------------------------------------------

    def check_decide(self, input: DecideExceptionInput) -> None:
        person_roles(self._charter, input.actor)
        current = self.open
        if current is None or current.decision is None:
            raise reject(f"project {self._charter.id} has no open exception", "NoException")
        if input.exception_id is not None and input.exception_id != current.id:
            raise reject(
                f"project {self._charter.id} has no open exception {input.exception_id} (the "
                f"project's open exception is {current.id})",
                "NoException",
            )
        self._d.check_vote(current.decision, input.actor)
        own = [ch.id for ch in self._referred(current.id) if ch.requested_by == input.actor]
        if own and input.decision != "close":
            raise reject(
                f"four eyes: exception {current.id} decides change {', '.join(own)}, which "
                f'"{input.actor}" requested; someone else decides it (it goes up the chain '
                "when nobody does in time)",
                "SelfApproval",
            )
        c = self._control.c
        share_now = (
            c.change_budget
            if c.change_budget is not None
            else self._model.change_control.minor.budget
        )
        if input.decision == "approve_plan":
            plan = input.plan
            if plan is None or (plan.planned_end is None and plan.budget is None
                                and plan.scope is None):  # fmt: skip
                raise reject(
                    "approve_plan needs the exception plan's new baseline: planned_end, "
                    "budget and/or scope",
                    "InvalidDecision",
                )
            if plan.planned_end is not None and plan.planned_end <= c.baseline.start:
                raise reject(
                    f"plan.planned_end {plan.planned_end} must be after the start "
                    f"({c.baseline.start})",
                    "InvalidDecision",
                )
            if plan.scope is not None and c.last is not None and plan.scope < c.last.earned_scope:
                raise reject(
                    f"plan.scope {plan.scope:g} is below the scope earned already "
                    f"({c.last.earned_scope:g})",
                    "InvalidDecision",
                )
            new_baseline = self._plan_baseline(input)
            self._covers_referred(current, share_now, float(new_baseline.budget))
            self._still_breached(baseline=new_baseline, what="the plan")
        elif input.decision == "widen_tolerance":
            if input.tolerances is None and input.change_budget is None:
                raise reject(
                    "widen_tolerance needs the new tolerances (and/or change_budget)",
                    "InvalidDecision",
                )
            if current.cause == "change_budget" and input.change_budget is None:
                raise reject(
                    f"exception {current.id} is about the change budget: widen it with a new "
                    "change budget (a percentage of the budget)",
                    "InvalidDecision",
                )
            widened = self._widened(input)
            self._covers_referred(
                current,
                input.change_budget if input.change_budget is not None else share_now,
                float(c.baseline.budget),
            )
            if input.change_budget is not None:
                limit = self._control.tolerances()["project"].cost
                now_share = c.change_budget or self._model.change_control.minor.budget
                if input.change_budget < now_share:
                    raise reject(
                        f"change_budget {input.change_budget:g}% is not wider than the "
                        f"{now_share:g}% in force",
                        "InvalidDecision",
                    )
                if limit is not None and input.change_budget > limit:
                    raise reject(
                        f"change_budget {input.change_budget:g}% exceeds the project's cost "
                        f"tolerance ({limit:g}%)",
                        "InvalidDecision",
                    )
            self._still_breached(tolerances=widened, what="the widened tolerances")
        if input.plan is not None and input.decision != "approve_plan":
            raise reject("a plan goes with approve_plan only", "InvalidDecision")
        if input.decision != "widen_tolerance" and (
            input.tolerances is not None or input.change_budget is not None
        ):
            raise reject("tolerances go with widen_tolerance only", "InvalidDecision")

    def _widened(self, input: DecideExceptionInput) -> dict[str, Tolerances]:
        """The tolerances in force once ``input`` widens the breached levels; refused where a
        value would narrow one, or a stage tolerance outgrow the project's."""
        current = self.open
        assert current is not None
        in_force = self._control.tolerances()
        if input.tolerances is None:
            return in_force
        out = dict(in_force)
        for level in current.levels:
            base = in_force.get(level, Tolerances())
            values = dict(base.items())
            for aspect, value in input.tolerances.items():
                old = values.get(aspect)
                if old is None:
                    raise reject(
                        f"the {level} level has no {aspect} tolerance to widen",
                        "InvalidDecision",
                    )
                if value < old:
                    raise reject(
                        f"tolerances.{aspect} would narrow the {level} tolerance "
                        f"({_show(old)} -> {_show(value)})",
                        "InvalidDecision",
                    )
                values[aspect] = value
            out[level] = Tolerances(**values)
        if "stage" in out and "project" in out:
            for aspect, value in out["stage"].items():
                limit = getattr(out["project"], aspect)
                if limit is not None and value > limit:
                    raise reject(
                        f"the stage's {aspect} tolerance ({_show(value)}) would exceed the "
                        f"project's ({_show(limit)}), which only the level above the board "
                        "can widen",
                        "InvalidDecision",
                    )
        return out

    def _plan_baseline(self, input: DecideExceptionInput) -> Baseline:
        plan = input.plan
        assert plan is not None
        return self._control.new_baseline(
            budget=round(plan.budget, 4) if plan.budget is not None else None,
            planned_end=plan.planned_end,
            scope=plan.scope,
            what="the exception plan",
        )

    def _referred(self, exception_id: str) -> list[ChangeRecord]:
        """The changes waiting on exception ``exception_id`` (they overdrew the budget)."""
        return [
            ch
            for ch in self._control.c.changes
            if ch.exception == exception_id
            and ch.decision is None
            and ChangeRequest.from_dict(ch.machine).state == "assessed"
        ]

    def _covers_referred(self, current: ExceptionRecord, share: float, budget: float) -> None:
        """The change budget after the decision still pays for the minor changes taken on
        so far, and for the changes waiting on the exception."""
        referred = self._referred(current.id)
        need = sum(ch.cost_impact for ch in referred)
        left = share / 100 * budget - self._control.c.minor_spent
        if need > left + 1e-9:
            waiting = (
                f"{', '.join(ch.id for ch in referred)} waiting on exception {current.id} "
                f"need {need:,.2f} but "
                if referred
                else ""
            )
            raise reject(
                f"{waiting}the change budget ({share:g}% of {budget:,.2f}) would have "
                f"{left:,.2f} left after the {self._control.c.minor_spent:,.2f} spent on minor "
                "changes: widen the change budget with the decision, or close",
                "InvalidDecision",
            )

    def _still_breached(self, *, what: str, baseline=None, tolerances=None) -> None:  # type: ignore[no-untyped-def]
        assessed = self._control.assess(tolerances=tolerances, baseline=baseline)
        if assessed is None:
            return
        _, report = assessed
        red = [s for lvl in report.levels.values() for s in lvl.values() if s.colour == "red"]
        if red:
            raise reject(
                f"the last progress report's forecast still breaches {what}: "
                + "; ".join(self._control.breach_text(s) for s in red),
                "StillBreached",
            )

    def decide(self, input: DecideExceptionInput) -> None:
        current = self.open
        assert current is not None and current.decision is not None
        d = current.decision
        outcome = self._d.vote(d, input.actor, input.decision, input.comment)
        if outcome is None:  # pragma: no cover - an exception's level decides alone
            return
        settle(current, outcome, input.actor)
        c = self._control.c
        if outcome == "approve_plan":
            self._control.rebaseline(
                self._plan_baseline(input), {"exception": current.id}, input.actor
            )
        elif outcome == "widen_tolerance":
            old = self._control.tolerances()
            new = self._widened(input)
            for level in current.levels:
                if input.tolerances is not None:
                    c.widened[level] = new[level]
            if input.change_budget is not None:
                c.change_budget = input.change_budget
            state = self._machine.state
            self._rec.event(
                EventKind.tolerance_widened,
                state,
                state,
                actor=input.actor,
                comment=input.comment,
                payload={
                    "exception": current.id,
                    "levels": current.levels,
                    "old": {lvl: old[lvl].model_dump(mode="json") for lvl in current.levels
                            if lvl in old},
                    "new": {lvl: new[lvl].model_dump(mode="json") for lvl in current.levels
                            if lvl in new},
                    **({"change_budget": input.change_budget}
                       if input.change_budget is not None else {}),
                },
            )  # fmt: skip
        before = self._machine.state
        self._d.close_tasks(d, outcome)
        current.decision = None
        c.exception = None
        if outcome != "close" and before == EXCEPTION:
            self._machine.fire("resolve_exception")
        # Resolved first; closing early then moves the project (its own phase_started).
        self._rec.event(
            EventKind.exception_resolved,
            before,
            self._machine.state,
            actor=input.actor,
            comment=input.comment,
            payload={"id": current.id, "outcome": outcome, "level": d.level},
        )
        self._control.note(f"exception {current.id} decided: {outcome} by {input.actor}")
        self.changes.settle_referred(current.id, outcome != "close", input.actor)
        if outcome == "close":
            c.closing_early = current.id
            self._close_early(f"exception {current.id} decided: close the project")
        self._rec.notify(
            "decision",
            sorted({*self._charter.holders(self._model.project_manager),
                    *self._charter.holders(self._model.board.executive)}),
            f"Exception {current.id} of {self._charter.title}: {outcome}",
            outcome=outcome,
        )  # fmt: skip
        self._upsert_search()
        if outcome != "close":
            self._control.evaluate(input.actor)

    def end(self, reason: str, actor: str | None) -> None:
        """The project ends with the exception undecided: nobody is asked any more."""
        current = self.open
        if current is None:
            return
        if current.decision is not None:
            self._d.withdraw(current.decision)
            current.decision = None
        self._control.c.exception = None
        state = self._machine.state
        self._rec.event(
            EventKind.exception_resolved,
            state,
            state,
            actor=actor,
            payload={"id": current.id, "outcome": None, "reason": reason},
        )
        self._upsert_search()

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> ExceptionStatus | None:
        current = self.open
        return None if current is None else self.status_of(current)

    def status_of(self, current: ExceptionRecord) -> ExceptionStatus:
        case = ExceptionCase.from_dict(current.machine)
        level = self._model.level(case.level)
        return ExceptionStatus(
            id=current.id,
            state=case.state,
            level=level.id,
            role=level.role,
            levels=current.levels,
            aspects=current.aspects,
            cause=current.cause,
            change_id=current.change_id,
            raised_at=current.raised_at,
            report=current.report,
            decision=self._d.status(current.decision) if current.decision is not None else None,
            package=current.package,
        )


def _show(value: object) -> str:
    if isinstance(value, timedelta):
        return f"{value / timedelta(days=1):g} days"
    return f"{value:g}%"
