"""The project's side of its iterations: while an iterative phase runs, one iteration after
another as a child workflow (workflows/iteration.py); the velocity history, the backlog of
unfinished work, the burn-up and the completion forecast.

The project records in its own chain when it starts an iteration, when it closes one early
(its phase's gate was requested, or the project was cancelled) and what each one returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from governance import Charter, Forecast, GovernanceModel, Phase, forecast
    from governance.audit import EventKind
    from governance.messages import (
        ActivityName,
        BurnUp,
        CloseIterationInput,
        DaysOffInput,
        DaysOffResult,
        ExecutionStatus,
        HoldIterationInput,
        IterationResult,
        ProjectState,
        StartIterationInput,
        Velocity,
    )
    from states import Lifecycle
    from workflows._recording import Recording
    from workflows.iteration import IterationWorkflow, iteration_chain, iteration_workflow_id


MAX_BACKLOG = 1000
"""Unfinished items the project keeps; past it the oldest are dropped (and named in the
``iteration_finished`` event): the backlog travels in the workflow's state."""
CALENDAR_AHEAD = timedelta(days=400)
"""How far ahead an iteration knows the public holidays: beyond it (an iteration planned more
than a year after it opened) only weekends are days off."""


class Execution:
    """Starts, closes and keeps the results of a project's iterations."""

    def __init__(
        self,
        state: ProjectState,
        charter: Charter,
        model: GovernanceModel,
        model_hash: str,
        machine: Lifecycle,
        rec: Recording,
        wake: Callable[[], None],
    ) -> None:
        self._s = state
        self._charter = charter
        self._model = model
        self._model_hash = model_hash
        self._machine = machine
        self._rec = rec
        self._wake = wake
        self._driver: asyncio.Task[None] | None = None
        self._handle: workflow.ChildWorkflowHandle[IterationWorkflow, IterationResult] | None = None
        self._closing: str | None = None
        self._closing_actor: str | None = None
        self._abandoning: str | None = None
        self._held: bool | None = None
        self._signalling: asyncio.Task[None] | None = None

    def iterative_phase(self) -> Phase | None:
        """The phase the project is in, when it runs iterations (not at its gate)."""
        state = self._machine.state
        if state not in {p.id for p in self._model.phases}:
            return None
        phase = self._model.phase(state)
        return phase if phase.iterative else None

    @property
    def quiet(self) -> bool:
        """No signal to an iteration is on its way (the project may end)."""
        return self._signalling is None or self._signalling.done()

    @property
    def running(self) -> bool:
        return self._s.execution.open is not None

    def due(self) -> bool:
        """Whether the next iteration should open now."""
        s = self._s
        opens = s.phase_opens_at
        return (
            self.iterative_phase() is not None
            and not self.running
            and s.gate is None
            and not self._machine.terminal
            and self._machine.state != "on_hold"
            and (opens is None or workflow.now() >= opens)
        )

    # -- starting and ending ------------------------------------------------------------------

    def start(self) -> None:
        """A step: the next iteration opens for planning (its child workflow starts)."""
        phase = self.iterative_phase()
        assert phase is not None
        x = self._s.execution
        x.phase = phase.id
        x.started += 1
        x.open = x.started
        self._closing = None
        self._rec.event(
            EventKind.iteration_started,
            phase.id,
            phase.id,
            payload={
                "number": x.open,
                "chain": iteration_chain(self._charter.id, x.open),
                "backlog": [i.id for i in x.backlog],
            },
        )
        start = StartIterationInput(
            project_id=self._charter.id,
            number=x.open,
            phase=phase.id,
            charter=self._charter,
            model=self._model,
            model_hash=self._model_hash,
            ledger_id=self._s.ledger_id,
            backlog=list(x.backlog),
        )
        self._driver = asyncio.create_task(self._drive(start))

    async def _drive(self, start: StartIterationInput) -> None:
        """Run iteration ``start.number`` to its end. Whatever way it ends, the project
        records it and goes on: a child that failed, was terminated or could not start
        (``_lost``) never leaves the project waiting for it."""
        try:
            result = await self._run_child(start)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._handle = None
            self._lost(start.number, _why(exc))
            return
        self._handle = None
        self._finished(result)

    async def _run_child(self, start: StartIterationInput) -> IterationResult:
        country = self._model.calendar.country
        if country is not None:
            today = workflow.now().date()
            found: DaysOffResult = await workflow.execute_activity(
                ActivityName.DAYS_OFF,
                DaysOffInput(country=country, first=today, last=today + CALENDAR_AHEAD),
                result_type=DaysOffResult,
                start_to_close_timeout=timedelta(seconds=30),
            )
            start.days_off = found.days
        self._handle = await workflow.start_child_workflow(
            IterationWorkflow.run,
            start,
            id=iteration_workflow_id(self._charter.id, start.number),
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
        # Closed or abandoned while it was being started: tell it now.
        if self._abandoning is not None:
            await self._signal_close(self._abandoning, abandon=True)
        elif self._closing is not None:
            await self._signal_close(self._closing, self._closing_actor)
        elif self._held is not None:
            await self._signal_hold(self._held)
        return await self._handle

    def _lost(self, number: int, reason: str) -> None:
        """A step: iteration ``number`` ended without a result (its workflow failed, was
        terminated, or did not start): recorded as abandoned, its work not counted."""
        x = self._s.execution
        if self._machine.terminal or x.open != number:
            return
        x.open = None
        now = workflow.now()
        x.history.append(Velocity(number=number, outcome="abandoned", opened_at=now, ended_at=now))
        self._rec.event(
            EventKind.iteration_finished,
            self._machine.state,
            self._machine.state,
            payload={
                "number": number,
                "outcome": "lost",
                "reason": reason,
                "chain": iteration_chain(self._charter.id, number),
            },
        )
        self._s.updates_handled += 1
        self._wake()

    def close(self, reason: str, actor: str | None) -> None:
        """A step: the open iteration ends now (the phase's gate was requested); recorded
        here at once, and in the iteration's own chain when it has closed."""
        x = self._s.execution
        if x.open is None:
            return
        self._rec.event(
            EventKind.iteration_closed,
            self._machine.state,
            self._machine.state,
            actor=actor,
            payload={"number": x.open, "reason": reason},
        )
        self._closing, self._closing_actor = reason, actor
        if self._handle is not None:  # else _drive signals it once the child has started
            self._signalling = asyncio.create_task(self._signal_close(reason, actor))

    async def _signal_close(
        self, reason: str, actor: str | None = None, *, abandon: bool = False
    ) -> None:
        handle = self._handle
        if handle is None:
            return
        try:
            await handle.signal(
                IterationWorkflow.close,
                CloseIterationInput(reason=reason, actor=actor, abandon=abandon),
            )
        except FailureError:
            # It ended meanwhile (its retro came first): its result says how it ended.
            workflow.logger.info("iteration had already ended when asked to close")

    def hold(self, held: bool) -> None:
        """Part of the project's hold or resume: the open iteration's clocks stop or go on."""
        if self._s.execution.open is None:
            return
        self._held = held
        if self._handle is not None:  # else _run_child tells it once the child has started
            self._signalling = asyncio.create_task(self._signal_hold(held))

    async def _signal_hold(self, held: bool) -> None:
        handle = self._handle
        if handle is None:
            return
        try:
            await handle.signal(IterationWorkflow.hold, HoldIterationInput(held=held))
        except FailureError:
            workflow.logger.info("iteration had already ended when told of the hold")

    def abandon(self, reason: str) -> None:
        """A step of the project's cancellation: its open iteration is abandoned."""
        x = self._s.execution
        if x.open is None:
            return
        self._rec.event(
            EventKind.iteration_closed,
            self._machine.state,
            self._machine.state,
            payload={"number": x.open, "reason": reason},
        )
        x.open = None
        self._abandoning = reason
        if self._handle is not None:  # else _drive signals it once the child has started
            self._signalling = asyncio.create_task(self._signal_close(reason, abandon=True))

    def _finished(self, result: IterationResult) -> None:
        """A step: an iteration returned; keep its velocity, unfinished work and scope."""
        x = self._s.execution
        if self._machine.terminal or x.open != result.number:
            return
        x.open = None
        x.history.append(Velocity.model_validate(result.model_dump(include=_VELOCITY)))
        held = set(result.item_ids)
        backlog = [i for i in x.backlog if i.id not in held] + list(result.unfinished)
        dropped = [i.id for i in backlog[:-MAX_BACKLOG]] if len(backlog) > MAX_BACKLOG else []
        x.backlog = backlog[-MAX_BACKLOG:]
        points = self._charter.baseline.scope.unit == "points"
        x.added_scope += result.added_points if points else result.added_items
        x.completed_scope += result.completed_points if points else result.completed_items
        x.forecast = self._forecast()
        self._rec.event(
            EventKind.iteration_finished,
            self._machine.state,
            self._machine.state,
            payload={
                "number": result.number,
                "outcome": result.outcome,
                "committed_items": result.committed_items,
                "completed_items": result.completed_items,
                "committed_effort": result.committed_effort,
                "completed_effort": result.completed_effort,
                "added_items": result.added_items,
                "added_effort": result.added_effort,
                "completed_points": result.completed_points,
                "added_points": result.added_points,
                "delivered": result.delivered,
                "backlog": [i.id for i in x.backlog],
                "dropped_from_backlog": dropped,
                "chain": iteration_chain(self._charter.id, result.number),
                "chain_head": {"seq": result.chain.seq, "hash": result.chain.hash},
                "forecast": None if x.forecast is None else x.forecast.model_dump(mode="json"),
            },
        )
        self._s.updates_handled += 1
        self._wake()

    # -- figures ------------------------------------------------------------------------------

    def _burn_up(self) -> BurnUp:
        x = self._s.execution
        scope = self._charter.baseline.scope
        baseline = float(scope.amount)
        return BurnUp(
            unit=scope.unit,
            baseline=baseline,
            added=x.added_scope,
            total=baseline + x.added_scope,
            completed=x.completed_scope,
        )

    def _forecast(self) -> Forecast | None:
        x = self._s.execution
        points = self._charter.baseline.scope.unit == "points"
        done = [v for v in x.history if v.outcome == "done"]
        velocities = [v.completed_points if points else float(v.completed_items) for v in done]
        lengths = [v.length for v in done if v.length is not None]
        length = sum(lengths, timedelta()) / len(lengths) if lengths else self._policy_length()
        burn = self._burn_up()
        try:
            return forecast(
                velocities,
                max(burn.total - burn.completed, 0.0),
                as_of=workflow.now(),
                iteration_length=length,
                unit=burn.unit,
            )
        except (OverflowError, ValueError):  # a date past the calendar: no finish in sight
            return None

    def _policy_length(self) -> timedelta:
        phase = self._s.execution.phase
        policy = self._model.phase(phase).iteration if phase else None
        return policy.length if policy is not None else timedelta(weeks=2)

    def status(self) -> ExecutionStatus | None:
        x = self._s.execution
        if x.phase is None:
            return None
        return ExecutionStatus(
            phase=x.phase,
            open_iteration=x.open,
            iterations=x.started,
            history=list(x.history),
            backlog=list(x.backlog),
            burn_up=self._burn_up(),
            forecast=x.forecast,
        )


_VELOCITY = set(Velocity.model_fields)


def _why(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    return f"{type(cause).__name__}: {cause}"
