"""ProjectWorkflow: one durable workflow per project, from the first phase to closure.

Decisions are updates with validators (a rejected update leaves no trace in history), status
is a query, SLAs and reminders are workflow timers. A step (an update, a timer step, a
cancellation) never awaits: it checks, changes the state and queues what it did in the
project's outbox (workflows/_recording.py), which a regular activity writes to the ledger in
order. So a step is accepted whole or not at all, whenever a worker dies.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from governance import (
        Charter,
        EscalationLevel,
        GovernanceModel,
        Phase,
    )
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        Action,
        ActorInput,
        CloseTasksInput,
        Command,
        CompleteTaskInput,
        DecideChangeInput,
        DecideExceptionInput,
        DecideGateInput,
        DecisionState,
        DelegateInput,
        Ending,
        ProjectResult,
        ProjectState,
        ProjectStatus,
        ReportProgressInput,
        RequestChangeInput,
        RequestGateInput,
        RevokeDelegationInput,
        StartProjectInput,
        SubmitDeliverableInput,
    )
    from states import Lifecycle
    from workflows import _deliverables, _search
    from workflows._changes import Changes
    from workflows._control import Control, new_control
    from workflows._decisions import Decisions
    from workflows._delegation import Delegations
    from workflows._exceptions import Exceptions
    from workflows._execution import Execution
    from workflows._gates import Gates
    from workflows._packages import Packages
    from workflows._recording import Recording
    from workflows._steps import Project, check_taken, first, iso, person_roles, reject


@workflow.defn
class ProjectWorkflow:
    @workflow.init
    def __init__(self, input: StartProjectInput) -> None:
        self._charter: Charter = input.charter
        self._model: GovernanceModel = input.model
        self._model_hash = input.model_hash
        self._model_source = input.model_source
        self._continue_after = input.continue_as_new_after
        now = workflow.now()
        self._s: ProjectState = input.state or ProjectState(
            lifecycle=Lifecycle(input.model).to_dict(),
            started_at=now,
            phase_started_at=now,
            ledger_id=input.ledger_id,
        )
        self._machine = Lifecycle.from_dict(self._model, self._s.lifecycle)
        if self._s.control is None:
            # A project begun before control existed replays without highlight timers.
            cadence = workflow.patched("control-highlight-reports")
            self._s.control = new_control(self._charter, self._model, now, cadence)
        self._rec = Recording(
            self._s,
            self._charter.id,
            self._model.ref,
            self._model_hash,
            self._current_tasks,
            charter=lambda: self._charter,
        )
        parts = Project(self._s, self._charter, self._model, self._machine, self._rec)
        self._delegations = Delegations(parts, tasks_now=self._current_tasks)
        self._decisions = Decisions(
            parts,
            on_escalated=self._on_escalated,
            delegations=self._delegations,
        )
        self._gates = Gates(
            parts,
            self._decisions,
            handled=self._handled,
            upsert_search=self._upsert_search,
            decided=self._gate_decided,
            ending=self._end_open_decisions,
        )
        self._control = Control(
            parts,
            handled=self._handled,
            upsert_search=self._upsert_search,
        )
        self._changes = Changes(
            parts,
            self._decisions,
            self._control,
        )
        self._exceptions = Exceptions(
            parts,
            self._decisions,
            self._control,
            close_early=self._close_early,
            upsert_search=self._upsert_search,
        )
        self._packages = Packages(
            parts,
            self._decisions,
            self._control,
            self._exceptions,
            upsert_search=self._upsert_search,
        )
        self._control.exceptions = self._exceptions
        self._control.packages = self._packages
        self._control.changes = self._changes
        self._control.decisions = self._decisions
        self._exceptions.changes = self._changes
        self._wake = False
        self._row: dict[str, Any] | None = None
        self._exec = Execution(
            self._s,
            self._charter,
            self._model,
            self._model_hash,
            self._machine,
            self._rec,
            self._set_wake,
        )
        if input.state is None:
            # Queued here, not in run: an update can be handled before run starts, and the
            # project's first events must come first in its chain.
            first = self._model.phases[0]
            if first.starts_after:
                self._s.phase_opens_at = now + first.starts_after
            starter = self._charter.person(input.started_by) if input.started_by else None
            self._rec.event(
                EventKind.project_started,
                None,
                self._machine.state,
                actor=input.started_by,
                role=starter.roles[0] if starter is not None else None,
                payload={
                    "title": self._charter.title,
                    "baseline": self._charter.baseline.model_dump(mode="json"),
                    **(
                        {"model_source": self._model_source.model_dump(mode="json")}
                        if self._model_source is not None
                        else {}
                    ),
                },
            )
            self._rec.event(
                EventKind.phase_started,
                None,
                first.id,
                payload={"phase": first.id, "opens_at": iso(self._s.phase_opens_at)},
            )

    # -- run ----------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: StartProjectInput) -> ProjectResult:
        writer = asyncio.create_task(self._rec.run())
        self._upsert_search()
        try:
            await self._live(input)
        except asyncio.CancelledError:
            # `temporal workflow cancel` (or a client's handle.cancel()): the project is
            # cancelled through governance, recorded and its tasks closed, then ends cancelled.
            self._cancelled_from_temporal()
            self._publish_row()
            await workflow.wait_condition(lambda: self._rec.idle and self._exec.quiet)
            writer.cancel()
            raise
        self._publish_row()
        await workflow.wait_condition(
            lambda: self._rec.idle and workflow.all_handlers_finished() and self._exec.quiet
        )
        writer.cancel()
        outcome = self._s.outcome or "closed"
        return ProjectResult(project_id=self._charter.id, outcome=outcome, last_seq=self._s.seq)

    async def _live(self, input: StartProjectInput) -> None:
        while not self._machine.terminal:
            self._publish_row()
            if self._should_continue_as_new() and not self._exec.running:
                # At an iteration boundary only: an open iteration is a child of this run.
                await workflow.wait_condition(
                    lambda: self._rec.idle and workflow.all_handlers_finished()
                )
                if not self._machine.terminal and not self._exec.running:
                    workflow.continue_as_new(self._carry(input))
            if self._exec.due():
                self._exec.start()
            deadline = self._next_deadline()
            timeout = None if deadline is None else max(deadline - workflow.now(), timedelta(0))
            self._wake = False
            try:
                await workflow.wait_condition(
                    lambda: self._wake or self._machine.terminal, timeout=timeout
                )
            except TimeoutError:
                self._on_timer()

    def _should_continue_as_new(self) -> bool:
        if self._continue_after is not None:
            return self._s.updates_handled >= self._continue_after
        return workflow.info().is_continue_as_new_suggested()

    def _set_wake(self) -> None:
        self._wake = True

    def _carry(self, input: StartProjectInput) -> StartProjectInput:
        self._s.lifecycle = self._machine.to_dict()
        state = self._s.model_copy(update={"updates_handled": 0})
        return input.model_copy(update={"state": state})

    # -- timers: phase opening, reminder, SLA escalation ----------------------------------------

    def _next_deadline(self) -> datetime | None:
        if self._machine.state == "on_hold":
            # The project's clocks stop while it is held; a delegation's window is the
            # delegator's own time and still ends (its copies withdrawn). Runs held before
            # this replay without that timer.
            ends = self._delegations.deadlines()
            if ends and workflow.patched("delegation-ends-on-hold"):
                return min(ends)
            return None
        times = self._decisions.deadlines()
        if self._s.phase_opens_at is not None:
            times.append(self._s.phase_opens_at)
        highlight = self._control.highlight_due()
        if highlight is not None:
            times.append(highlight)
        times += self._delegations.deadlines()  # none before the first delegation
        return min(times) if times else None

    def _on_timer(self) -> None:
        if self._machine.state == "on_hold":
            self._delegations.on_timer(workflow.now())
        elif not self._machine.terminal:
            self._timer_step(workflow.now())
        self._upsert_search()

    def _timer_step(self, now: datetime) -> None:
        if self._s.phase_opens_at is not None and now >= self._s.phase_opens_at:
            phase = self._current_phase()
            self._s.phase_opens_at = None
            self._rec.notify(
                "phase_opened",
                self._holders(self._model.project_manager),
                f"{self._charter.title}: {phase.title} is open",
                phase=phase.id,
            )
        self._decisions.on_timer(now)
        self._control.on_timer(now)
        self._delegations.on_timer(now)

    # -- updates ------------------------------------------------------------------------------

    @workflow.update
    async def request_gate(self, input: RequestGateInput) -> ProjectStatus:
        return await self._recorded(self._request_gate(input))

    def _request_gate(self, input: RequestGateInput) -> ProjectStatus:
        self._check_request(input)
        phase = self._current_phase()
        before = self._machine.state
        self._exec.close("the phase's gate was requested", input.actor)
        self._machine.fire("request_gate")
        self._gates.open(input, phase, before)
        return self.status()

    @request_gate.validator
    def _validate_request(self, input: RequestGateInput) -> None:
        self._check_request(input)

    @workflow.update
    async def decide_gate(self, input: DecideGateInput) -> ProjectStatus:
        return await self._recorded(self._decide_gate(input))

    def _decide_gate(self, input: DecideGateInput) -> ProjectStatus:
        self._check_decide(input)
        self._gates.vote(input)
        return self.status()

    @decide_gate.validator
    def _validate_decide(self, input: DecideGateInput) -> None:
        self._check_decide(input)

    @workflow.update
    async def submit_deliverable(self, input: SubmitDeliverableInput) -> ProjectStatus:
        return await self._recorded(self._submit_deliverable(input))

    @submit_deliverable.validator
    def _validate_submit_deliverable(self, input: SubmitDeliverableInput) -> None:
        self._check_submit(input)

    def _submit_deliverable(self, input: SubmitDeliverableInput) -> ProjectStatus:
        self._check_submit(input)
        phase = self._current_phase()
        version = _deliverables.new_version(self._s.deliverables, phase, input, workflow.now())
        self._s.deliverables.append(version)
        state = self._machine.state
        self._rec.event(
            EventKind.deliverable_submitted,
            state,
            state,
            actor=input.actor,
            role=first(person_roles(self._charter, input.actor)),
            comment=input.comment,
            payload=version.model_dump(
                mode="json", include={"phase", "name", "version", "sha256", "size", "url"}
            ),
        )
        self._handled()
        return self.status()

    def _check_submit(self, input: SubmitDeliverableInput) -> None:
        self._check_active(input)
        person_roles(self._charter, input.actor)
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if self._machine.gate_open:
            raise reject(
                f"gate {self._machine.state} is being decided on the versions it opened with; "
                "a new version comes after its decision (rework reopens the phase)",
                "GateOpen",
            )
        _deliverables.check(self._s.deliverables, self._current_phase(), input)

    @workflow.update
    async def complete_task(self, input: CompleteTaskInput) -> ProjectStatus:
        return await self._recorded(self._complete_task(input))

    @complete_task.validator
    def _validate_complete_task(self, input: CompleteTaskInput) -> None:
        self._check_complete_task(input)

    def _complete_task(self, input: CompleteTaskInput) -> ProjectStatus:
        self._gates.complete(input, self._check_complete_task(input))
        return self.status()

    def _check_complete_task(self, input: CompleteTaskInput) -> GateTaskIn:
        self._check_active(input)
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        return self._gates.check_complete(input)

    @workflow.update
    async def hold(self, input: ActorInput) -> ProjectStatus:
        return await self._recorded(self._board_action("hold", input))

    @hold.validator
    def _validate_hold(self, input: ActorInput) -> None:
        self._check_board_action("hold", input)

    @workflow.update
    async def resume(self, input: ActorInput) -> ProjectStatus:
        return await self._recorded(self._board_action("resume", input))

    @resume.validator
    def _validate_resume(self, input: ActorInput) -> None:
        self._check_board_action("resume", input)

    @workflow.update
    async def cancel(self, input: ActorInput) -> ProjectStatus:
        return await self._recorded(self._board_action("cancel", input))

    @cancel.validator
    def _validate_cancel(self, input: ActorInput) -> None:
        self._check_board_action("cancel", input)

    def _board_action(self, trigger: str, input: ActorInput) -> ProjectStatus:
        self._check_board_action(trigger, input)
        if trigger == "cancel":
            self._cancel(input.actor, self._model.board.executive, input.comment, {})
            self._handled()
            return self.status()
        now = workflow.now()
        before = self._machine.state
        self._machine.fire(trigger)
        after = self._machine.state
        payload: dict[str, Any] = {}
        self._exec.hold(trigger == "hold")
        if trigger == "hold":
            self._s.held_at, self._s.held_by = now, input.actor
            self._s.held_reason = input.comment
        elif trigger == "resume" and self._s.held_at is not None:
            # Clocks stop while a project is held: every deadline moves by the time held.
            paused = now - self._s.held_at
            self._s.held_at = self._s.held_by = self._s.held_reason = None
            self._shift_deadlines(paused)
            payload["paused_seconds"] = paused.total_seconds()
        kind = EventKind.held if trigger == "hold" else EventKind.resumed
        self._rec.event(
            kind,
            before,
            after,
            actor=input.actor,
            role=self._model.board.executive,
            comment=input.comment,
            payload=payload,
        )
        if trigger == "resume" and "paused_seconds" in payload:
            self._rec.shift_due(timedelta(seconds=payload["paused_seconds"]))
        self._handled()
        self._upsert_search()
        return self.status()

    # -- delegation: substitute approvers ------------------------------------------------------

    @workflow.update
    async def delegate(self, input: DelegateInput) -> ProjectStatus:
        return await self._recorded(self._delegate(input))

    @delegate.validator
    def _validate_delegate(self, input: DelegateInput) -> None:
        self._check_delegate(input)

    def _check_delegate(self, input: DelegateInput) -> None:
        self._check_active(input)
        self._delegations.check_grant(input)

    def _delegate(self, input: DelegateInput) -> ProjectStatus:
        self._check_delegate(input)
        # Marks the histories that hold delegations (none did before this update existed).
        workflow.patched("delegation")
        delegation = self._delegations.grant(input)
        now = workflow.now()
        mine = [t for t in self._current_tasks() if t.assignee == delegation.delegator]
        self._rec.open(self._delegations.copies(mine, now))
        self._handled()
        return self.status()

    @workflow.update
    async def revoke_delegation(self, input: RevokeDelegationInput) -> ProjectStatus:
        return await self._recorded(self._revoke_delegation(input))

    @revoke_delegation.validator
    def _validate_revoke_delegation(self, input: RevokeDelegationInput) -> None:
        self._check_revoke_delegation(input)

    def _check_revoke_delegation(self, input: RevokeDelegationInput) -> None:
        self._check_active(input)
        self._delegations.check_revoke(input)

    def _revoke_delegation(self, input: RevokeDelegationInput) -> ProjectStatus:
        self._check_revoke_delegation(input)
        workflow.patched("delegation")
        self._delegations.revoke(input)
        self._handled()
        return self.status()

    # -- control: progress, changes, exceptions -------------------------------------------------

    @workflow.update
    async def report_progress(self, input: ReportProgressInput) -> ProjectStatus:
        return await self._recorded(self._report_progress(input))

    @report_progress.validator
    def _validate_report_progress(self, input: ReportProgressInput) -> None:
        self._check_report(input)

    def _check_report(self, input: ReportProgressInput) -> None:
        self._check_active(input)
        self._control.check_report(input)

    def _report_progress(self, input: ReportProgressInput) -> ProjectStatus:
        self._check_report(input)
        self._control.report(input)
        return self.status()

    @workflow.update
    async def request_change(self, input: RequestChangeInput) -> ProjectStatus:
        return await self._recorded(self._request_change(input))

    @request_change.validator
    def _validate_request_change(self, input: RequestChangeInput) -> None:
        self._check_change_request(input)

    def _check_change_request(self, input: RequestChangeInput) -> None:
        self._check_active(input)
        self._changes.check_request(input)

    def _request_change(self, input: RequestChangeInput) -> ProjectStatus:
        self._check_change_request(input)
        self._changes.request(input)
        self._handled()
        return self.status()

    @workflow.update
    async def decide_change(self, input: DecideChangeInput) -> ProjectStatus:
        return await self._recorded(self._decide_change(input))

    @decide_change.validator
    def _validate_decide_change(self, input: DecideChangeInput) -> None:
        self._check_decide_change(input)

    def _check_decide_change(self, input: DecideChangeInput) -> None:
        self._check_active(input)
        self._changes.check_decide(input)

    def _decide_change(self, input: DecideChangeInput) -> ProjectStatus:
        self._check_decide_change(input)
        self._changes.decide(input)
        self._handled()
        return self.status()

    @workflow.update
    async def decide_exception(self, input: DecideExceptionInput) -> ProjectStatus:
        return await self._recorded(self._decide_exception(input))

    @decide_exception.validator
    def _validate_decide_exception(self, input: DecideExceptionInput) -> None:
        self._check_decide_exception(input)

    def _check_decide_exception(self, input: DecideExceptionInput) -> None:
        self._check_active(input)
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if self._packages.owns(input):
            self._packages.check_decide(input)
        else:
            self._exceptions.check_decide(input)

    def _decide_exception(self, input: DecideExceptionInput) -> ProjectStatus:
        self._check_decide_exception(input)
        if self._packages.owns(input):
            self._packages.decide(input)
        else:
            self._exceptions.decide(input)
        self._handled()
        return self.status()

    def _gate_decided(self, summary: str) -> None:
        """A gate was decided: a breach raised nothing while it was open (the board was
        deciding the stage); the forecast is looked at again now."""
        self._control.note(summary)
        if not self._machine.terminal:
            self._control.evaluate(None)

    def _end_open_decisions(self, reason: str, actor: str | None) -> None:
        """The project ends: the changes and the exception still open are withdrawn (their
        tasks with them), recorded before the project's last event."""
        self._changes.withdraw_open(reason, actor)
        self._exceptions.end(reason, actor)
        self._packages.end(reason, actor)

    def _on_escalated(self, d: DecisionState, target: EscalationLevel | None) -> None:
        self._exceptions.on_escalated(d, target)
        self._packages.on_escalated(d, target)

    def _close_early(self, reason: str) -> None:
        """An exception decided "close": the project goes to its closing phase now (an open
        gate and iteration end undecided)."""
        now = workflow.now()
        self._exec.close(reason, None)
        self._gates.drop()
        self._changes.withdraw_open(reason, None)
        self._packages.end(reason, None)
        before = self._machine.state
        self._machine.fire("close_early")
        closing = self._model.closing()
        self._s.phase_started_at = now
        self._s.phase_opens_at = None
        self._rec.event(
            EventKind.phase_started,
            before,
            self._machine.state,
            payload={"phase": closing.id, "opens_at": None, "reason": reason},
        )
        self._upsert_search()

    def _current_tasks(self) -> list[GateTaskIn]:
        """The tasks that should be open now (issued again after a Temporal reset): the
        gate's, and a decide task for everyone an open change or exception awaits."""
        tasks = self._gates.current_tasks()
        if not self._machine.terminal:
            for d in self._decisions.open_ones():
                if d.kind != "gate":
                    tasks += self._decisions.awaited_tasks(d)
        return tasks

    async def _recorded(self, st: ProjectStatus) -> ProjectStatus:
        """The step is applied (no await came before this); answer once the ledger holds what
        it did, or shows why it does not: a command that returns is in the audit trail."""
        await self._rec.recorded(st.last_seq)
        return self.status()

    def _cancel(
        self, actor: str, role: str | None, comment: str | None, payload: dict[str, Any]
    ) -> None:
        """End the project as cancelled. It awaits nobody: no open gate in status or search
        attributes, and no open task in anyone's inbox."""
        now = workflow.now()
        self._exec.abandon("the project was cancelled")
        self._end_open_decisions("the project was cancelled", actor)
        self._s.ended = Ending(
            outcome="cancelled", by=actor, at=now, phase=self._machine.phase, comment=comment
        )
        before = self._machine.state
        self._machine.fire("cancel")
        self._s.outcome = "cancelled"
        self._s.gate = None
        self._rec.event(
            EventKind.cancelled,
            before,
            self._machine.state,
            actor=actor,
            role=role,
            comment=comment,
            payload=payload,
        )
        self._rec.close(
            CloseTasksInput(project_id=self._charter.id, all_open=True, at=now, status="cancelled")
        )
        self._upsert_search()

    def _cancelled_from_temporal(self) -> None:
        """The cancellation Temporal delivered, recorded as governance records a cancel."""
        if not self._machine.terminal:
            self._cancel("temporal", None, None, {"via": "temporal workflow cancel"})

    def _shift_deadlines(self, by: timedelta) -> None:
        self._decisions.shift(by)
        self._control.shift(by)
        if self._s.phase_opens_at is not None:
            self._s.phase_opens_at += by

    # -- checks: the validators and the handlers share them -----------------------------------

    def _check_active(self, input: Command | None = None) -> None:
        if self._machine.terminal:
            raise reject(f"project {self._charter.id} is {self._machine.state}", "ProjectClosed")
        check_taken(input, self._rec)

    def _check_request(self, input: RequestGateInput) -> None:
        self._check_active(input)
        roles = person_roles(self._charter, input.actor)
        if self._model.project_manager not in roles:
            raise reject(
                f'"{input.actor}" is not the project manager and may not request a gate',
                "NotAuthorised",
            )
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if not self._machine.may("request_gate"):
            raise reject(
                f"a gate cannot be requested in state {self._machine.state}", "IllegalTransition"
            )
        opens = self._s.phase_opens_at
        if opens is not None and workflow.now() < opens:
            raise reject(
                f"phase {self._machine.state} opens at {opens.isoformat()}", "PhaseNotOpen"
            )
        missing = _deliverables.missing(self._s.deliverables, self._current_phase())
        if missing:
            raise reject(
                f"gate {self._current_phase().gate_state} cannot be requested: deliverable"
                f"{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)} (submit "
                "with `phasegate deliverable submit`)",
                "MissingDeliverable",
            )

    def _check_decide(self, input: DecideGateInput) -> None:
        self._check_active(input)
        person_roles(self._charter, input.actor)
        gate = self._s.gate
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if gate is None or not self._machine.gate_open:
            raise reject(f"no gate is open (project is in {self._machine.state})", "GateNotOpen")
        self._gates.check_vote(input)

    def _check_board_action(self, trigger: str, input: ActorInput) -> None:
        self._check_active(input)
        roles = person_roles(self._charter, input.actor)
        if self._model.board.executive not in roles:
            raise reject(
                f'"{input.actor}" does not hold the role '
                f"{self._model.board.executive} and may not {trigger} the project",
                "NotAuthorised",
            )
        if trigger == "hold" and self._machine.state == "on_hold":
            # To the minute, as every other time a person reads (a refusal's text is no command:
            # changing it changes no history).
            held_at = self._s.held_at
            since = held_at.isoformat(timespec="minutes") if held_at is not None else "?"
            raise reject(
                f"project {self._charter.id} is already on hold (since {since}, by "
                f"{self._s.held_by or '?'})",
                "IllegalTransition",
            )
        if trigger == "resume" and self._machine.state != "on_hold":
            raise reject(f"project {self._charter.id} is not on hold", "IllegalTransition")
        if not self._machine.may(trigger):
            raise reject(
                f"cannot {trigger} the project in state {self._machine.state}", "IllegalTransition"
            )

    # -- queries ------------------------------------------------------------------------------

    @workflow.query
    def status(self) -> ProjectStatus:
        phase_id = self._machine.phase
        phase = self._model.phase(phase_id) if phase_id else None
        return ProjectStatus(
            project_id=self._charter.id,
            title=self._charter.title,
            model=self._model.ref,
            model_hash=self._model_hash,
            model_source=self._model_source,
            state=self._machine.state,
            phase=phase_id,
            phase_title=phase.title if phase else None,
            phase_index=self._model.phase_index(phase_id) if phase_id else None,
            phases=[p.id for p in self._model.phases],
            on_hold=self._machine.state == "on_hold",
            terminal=self._machine.terminal,
            started_at=self._s.started_at,
            phase_started_at=self._s.phase_started_at,
            phase_opens_at=self._s.phase_opens_at,
            gate=self._gates.status() if self._s.gate is not None else None,
            last_seq=self._s.seq,
            recorded_seq=self._s.recorded.seq,
            outcome=self._s.outcome,
            ledger_error=None
            if self._s.ledger_error is None
            else f"{self._s.ledger_error} (since {iso(self._s.ledger_error_since)})",
            held_since=self._s.held_at,
            held_by=self._s.held_by,
            held_reason=self._s.held_reason,
            ended=self._s.ended,
            last_gate=self._s.last_gate,
            deliverables=_deliverables.statuses(self._s.deliverables, phase) if phase else [],
            execution=self._exec.status(),
            forecast=self._control.c.forecast,
            rag=self._control.by_aspect(),
            control=self._control.status(),
            decisions=[self._decisions.status(d) for d in self._decisions.open_ones()],
            delegations=self._delegations.status(),
        )

    @workflow.query
    def people(self) -> list[str]:
        """The ids of the people the charter names: who may see the project (the web faces
        show a project to them, and to the PMO, only)."""
        return [p.id for p in self._charter.people]

    @workflow.query
    def allowed_actions(self, actor: str) -> list[Action]:
        """What ``actor`` may do now: the buttons a UI should show."""
        out: list[Action] = []
        if self._charter.person(actor) is None:
            return out
        for action in ("request_gate", "approve", "reject", "rework", "hold", "resume", "cancel"):
            try:
                if action == "request_gate":
                    self._check_request(RequestGateInput(actor=actor))
                elif action in ("approve", "reject", "rework"):
                    self._check_decide(DecideGateInput(actor=actor, decision=action))
                else:
                    self._check_board_action(action, ActorInput(actor=actor))
            except ApplicationError:
                continue
            out.append(action)
        if self._machine.terminal or self._machine.state == "on_hold":
            return out
        if self._gates.completable(actor):
            out.append("complete_task")
        roles = self._charter.person(actor).roles  # type: ignore[union-attr]
        manages = any(
            w.manager == actor and not self._packages.closed(w.id)
            for w in self._charter.work_packages
        )
        if self._model.project_manager in roles or manages:
            out.append("report_progress")
        try:  # a change of no impact: whether this person may ask for one at all now
            self._changes.check_request(RequestChangeInput(actor=actor, title="probe"))
            out.append("request_change")
        except ApplicationError:
            pass
        for d in self._decisions.open_ones():
            if d.kind == "gate":
                continue
            try:
                self._decisions.check_vote(d, actor)
            except ApplicationError:
                continue
            decide: Action = "decide_change" if d.kind == "change" else "decide_exception"
            if decide not in out:
                out.append(decide)
        return out

    # -- helpers ------------------------------------------------------------------------------

    def _current_phase(self) -> Phase:
        phase_id = self._machine.phase
        assert phase_id is not None
        return self._model.phase(phase_id)

    def _holders(self, role: str) -> list[str]:
        return self._charter.holders(role)

    def _handled(self) -> None:
        self._s.updates_handled += 1
        self._wake = True

    def _publish_row(self) -> None:
        """Keep the portfolio row in the memo current: what `project list` shows beside the
        search attributes (title, manager, deadline, hold), read without a query per project.
        Upserted only when it changed; projects begun before it replay without it, and runs
        begun before the row named the charter's people replay without them (a listing asks
        such a project's `people` query instead)."""
        people = (
            [p.id for p in self._charter.people]
            if workflow.patched("portfolio-row-people")
            else None
        )
        row = _search.row(
            title=self._charter.title,
            managers=self._holders(self._model.project_manager),
            phase_since=self._s.phase_started_at,
            deadlines=[
                when
                for d in self._decisions.open_ones()
                if (when := d.deadline or d.overdue_since) is not None
            ],
            level=self._s.gate.level if self._s.gate is not None else None,
            held_since=self._s.held_at if self._machine.state == "on_hold" else None,
            held_by=self._s.held_by if self._machine.state == "on_hold" else None,
            outcome=self._s.outcome,
            people=people,
        )
        if row != self._row and workflow.patched("portfolio-row-memo"):
            workflow.upsert_memo({_search.ROW_MEMO: row})
        self._row = row

    def _upsert_search(self) -> None:
        # An ended project is listed by its outcome: closed, rejected or cancelled.
        phase = self._machine.phase or self._s.outcome or self._machine.state
        awaiting = f"gate:{self._s.gate.phase}_gate" if self._s.gate is not None else None
        exception = self._s.control.exception if self._s.control is not None else None
        if awaiting is None and exception is not None:
            awaiting = f"exception:{exception.id}"
        if self._machine.state == "on_hold":
            awaiting = "hold"
        worst = self._s.control.worst if self._s.control is not None else None
        workflow.upsert_search_attributes(
            [
                _search.PHASE.value_set(phase),
                _search.MODEL.value_set(self._model.ref),
                _search.PROJECT.value_set(self._charter.id),
                _search.AWAITING.value_set(awaiting)
                if awaiting
                else _search.AWAITING.value_unset(),
                *([_search.RAG.value_set(worst)] if worst is not None else []),
            ]
        )
