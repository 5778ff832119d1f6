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
        GovernanceModel,
        Phase,
        Tally,
        escalation_deciders,
        gate_voters,
        tally,
    )
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        Action,
        ActorInput,
        CloseTasksInput,
        Command,
        DecideGateInput,
        Escalation,
        GateState,
        GateStatus,
        ProjectResult,
        ProjectState,
        ProjectStatus,
        RequestGateInput,
        StartProjectInput,
        SubmitDeliverableInput,
        Vote,
    )
    from states import Lifecycle
    from workflows import _deliverables, _search
    from workflows._execution import Execution
    from workflows._recording import Recording


def _reject(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


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
        self._rec = Recording(
            self._s, self._charter.id, self._model.ref, self._model_hash, self._current_tasks
        )
        self._wake = False
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
            self._rec.event(
                EventKind.project_started,
                None,
                self._machine.state,
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
                payload={"phase": first.id, "opens_at": _iso(self._s.phase_opens_at)},
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
            await workflow.wait_condition(lambda: self._rec.idle)
            writer.cancel()
            raise
        await workflow.wait_condition(lambda: self._rec.idle and workflow.all_handlers_finished())
        writer.cancel()
        outcome = self._s.outcome or "closed"
        return ProjectResult(project_id=self._charter.id, outcome=outcome, last_seq=self._s.seq)

    async def _live(self, input: StartProjectInput) -> None:
        while not self._machine.terminal:
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
            return None
        times: list[datetime] = []
        gate = self._s.gate
        if gate is not None:
            if gate.reminder_at is not None and not gate.reminded:
                times.append(gate.reminder_at)
            if gate.deadline is not None:
                times.append(gate.deadline)
        if self._s.phase_opens_at is not None:
            times.append(self._s.phase_opens_at)
        return min(times) if times else None

    def _on_timer(self) -> None:
        if not (self._machine.terminal or self._machine.state == "on_hold"):
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
        gate = self._s.gate
        if gate is not None and not gate.reminded and gate.reminder_at and now >= gate.reminder_at:
            gate.reminded = True
            awaited = self._gate_status().awaited
            self._rec.event(
                EventKind.reminder_sent,
                self._machine.state,
                self._machine.state,
                payload={"awaited": awaited, "deadline": _iso(gate.deadline)},
            )
            self._rec.notify(
                "reminder",
                awaited,
                f"Reminder: gate {self._machine.state} awaits your decision",
                deadline=_iso(gate.deadline),
            )
        if gate is not None and gate.deadline is not None and now >= gate.deadline:
            self._escalate(gate, now)

    def _escalate(self, gate: GateState, now: datetime) -> None:
        phase = self._model.phase(gate.phase)
        target = (
            self._model.level(phase.gate.escalate_to)
            if gate.level is None
            else self._model.level_above(gate.level)
        )
        if target is None:
            # Top of the chain: nobody above; keep waiting and say so once.
            gate.deadline = None
            self._rec.event(
                EventKind.escalated,
                self._machine.state,
                self._machine.state,
                payload={
                    "from_level": gate.level,
                    "to_level": None,
                    "note": "SLA passed at the top of the escalation chain",
                },
            )
            return
        deadline = now + target.sla
        self._rec.event(
            EventKind.escalated,
            self._machine.state,
            self._machine.state,
            role=target.role,
            payload={"from_level": gate.level, "to_level": target.id, "deadline": _iso(deadline)},
        )
        # The decision leaves the approvers (and the level below): their decide tasks are
        # withdrawn; the escalated level decides now, and its people get a decide task.
        before = [None, *(e.level for e in gate.escalations)]
        people = [p.id for p in self._charter.people]
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                gate=self._gate_key(gate),
                keys=[self._decision_task_key(gate, p, lvl) for lvl in before for p in people],
                at=now,
                status="withdrawn",
            )
        )
        gate.escalations.append(Escalation(level=target.id, at=now, deadline=deadline))
        gate.level = target.id
        gate.deadline = deadline
        self._rec.open(self._decide_tasks(gate, self._holders(target.role), now, target.id))
        self._rec.notify(
            "escalation",
            self._holders(target.role),
            f"Escalated to you: gate {self._machine.state} of {self._charter.title}",
            level=target.id,
            deadline=_iso(deadline),
        )

    # -- updates ------------------------------------------------------------------------------

    @workflow.update
    async def request_gate(self, input: RequestGateInput) -> ProjectStatus:
        return await self._recorded(self._request_gate(input))

    def _request_gate(self, input: RequestGateInput) -> ProjectStatus:
        self._check_request(input)
        now = workflow.now()
        phase = self._current_phase()
        before = self._machine.state
        self._exec.close("the phase's gate was requested", input.actor)
        self._machine.fire("request_gate")
        rnd = self._s.gate_rounds.get(phase.id, 0) + 1
        self._s.gate_rounds[phase.id] = rnd
        gate = GateState(
            phase=phase.id,
            round=rnd,
            opened_at=now,
            requested_by=input.actor,
            deadline=now + phase.gate.sla,
            reminder_at=now + phase.gate.reminder if phase.gate.reminder else None,
        )
        self._s.gate = gate
        self._s.phase_opens_at = None
        self._upsert_search()
        self._rec.event(
            EventKind.gate_opened,
            before,
            self._machine.state,
            actor=input.actor,
            role=self._model.project_manager,
            comment=input.comment,
            payload={
                "round": rnd,
                "deadline": _iso(gate.deadline),
                "deliverables": phase.gate.deliverables,
            },
        )
        self._handled()
        eligible = self._gate_status().eligible
        self._open_tasks(phase, gate, eligible)
        self._rec.notify(
            "gate_opened",
            eligible,
            f"Gate {phase.gate.title or phase.gate_state} awaits your decision",
            deadline=_iso(gate.deadline),
        )
        return self.status()

    @request_gate.validator
    def _validate_request(self, input: RequestGateInput) -> None:
        self._check_request(input)

    @workflow.update
    async def decide_gate(self, input: DecideGateInput) -> ProjectStatus:
        return await self._recorded(self._decide_gate(input))

    def _decide_gate(self, input: DecideGateInput) -> ProjectStatus:
        self._check_decide(input)
        gate = self._s.gate
        assert gate is not None
        now = workflow.now()
        person = self._charter.person(input.actor)
        assert person is not None
        vote = Vote(
            actor=input.actor,
            roles=list(person.roles),
            decision=input.decision,
            comment=input.comment,
            at=now,
            level=self._deciding_level(input.actor),
        )
        gate.votes.append(vote)
        state = self._machine.state
        self._rec.event(
            EventKind.vote_cast,
            state,
            state,
            actor=input.actor,
            role=_first(person.roles),
            comment=input.comment,
            payload={"decision": input.decision, "round": gate.round, "level": vote.level},
        )
        phase = self._model.phase(gate.phase)
        result = self._tally(gate)
        self._handled()
        if result.outcome is not None:
            self._conclude(phase, gate, result.outcome, input.actor)
        else:
            key = self._decision_task_key(gate, input.actor, vote.level)
            self._rec.close(CloseTasksInput(project_id=self._charter.id, keys=[key], at=now))
        return self.status()

    @decide_gate.validator
    def _validate_decide(self, input: DecideGateInput) -> None:
        self._check_decide(input)

    def _conclude(self, phase: Phase, gate: GateState, outcome: str, actor: str) -> None:
        """The gate is decided: move the lifecycle, record it, close the gate's tasks."""
        now = workflow.now()
        before = self._machine.state
        self._machine.fire(outcome)
        after = self._machine.state
        kind = {
            "approve": EventKind.gate_passed,
            "reject": EventKind.gate_rejected,
            "rework": EventKind.gate_rework,
        }[outcome]
        self._rec.event(
            kind,
            before,
            after,
            actor=actor,
            payload={"round": gate.round, "votes": len(gate.votes), "level": gate.level},
        )
        self._s.gate = None
        if after == "closed":
            self._s.outcome = "rejected" if outcome == "reject" else "closed"
            self._rec.event(
                EventKind.closed, before, after, actor=actor, payload={"outcome": self._s.outcome}
            )
        elif outcome == "approve":
            nxt = self._model.phase(after)
            self._s.phase_started_at = now
            self._s.phase_opens_at = now + nxt.starts_after if nxt.starts_after else None
            self._rec.event(
                EventKind.phase_started,
                before,
                after,
                actor=actor,
                payload={"phase": nxt.id, "opens_at": _iso(self._s.phase_opens_at)},
            )
        # The voters' decide tasks are done; those still open (people who did not vote, review
        # tasks nobody finished) are withdrawn: the gate no longer needs them.
        voted = [self._decision_task_key(gate, v.actor, v.level) for v in gate.votes]
        self._rec.close(
            CloseTasksInput(project_id=self._charter.id, gate=self._gate_key(gate), keys=voted,
                            at=now, status="done")
        )  # fmt: skip
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                gate=self._gate_key(gate),
                at=now,
                status="withdrawn" if outcome == "approve" else "cancelled",
            )
        )
        self._rec.notify(
            "decision",
            sorted({gate.requested_by, *self._holders(self._model.board.executive)}),
            f"Gate {before} of {self._charter.title}: {outcome}",
            outcome=outcome,
            state=after,
        )
        self._upsert_search()

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
            role=_first(self._person_roles(input.actor)),
            comment=input.comment,
            payload=version.model_dump(
                mode="json", include={"phase", "name", "version", "sha256", "size", "url"}
            ),
        )
        self._handled()
        return self.status()

    def _check_submit(self, input: SubmitDeliverableInput) -> None:
        self._check_active(input)
        self._person_roles(input.actor)
        if self._machine.state == "on_hold":
            raise _reject(f"project {self._charter.id} is on hold", "OnHold")
        _deliverables.check(self._current_phase(), input)

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
        if trigger == "hold":
            self._s.held_at, self._s.held_by = now, input.actor
        elif trigger == "resume" and self._s.held_at is not None:
            # Clocks stop while a project is held: every deadline moves by the time held.
            paused = now - self._s.held_at
            self._s.held_at = self._s.held_by = None
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
        gate = self._s.gate
        if gate is not None:
            if gate.deadline is not None:
                gate.deadline += by
            if gate.reminder_at is not None:
                gate.reminder_at += by
            if gate.escalations and gate.escalations[-1].deadline is not None:
                gate.escalations[-1].deadline += by
        if self._s.phase_opens_at is not None:
            self._s.phase_opens_at += by

    # -- checks: the validators and the handlers share them -----------------------------------

    def _person_roles(self, actor: str) -> list[str]:
        person = self._charter.person(actor)
        if person is None:
            raise _reject(
                f'"{actor}" is not a person in the charter of {self._charter.id}', "UnknownActor"
            )
        return list(person.roles)

    def _check_active(self, input: Command | None = None) -> None:
        if self._machine.terminal:
            raise _reject(f"project {self._charter.id} is {self._machine.state}", "ProjectClosed")
        if input is not None and input.expires_at is not None and workflow.now() > input.expires_at:
            raise _reject(
                f"the request expired at {input.expires_at.isoformat()} before a worker took "
                "it; nothing was applied",
                "RequestExpired",
            )
        waiting = self._rec.refusal()
        if waiting is not None:
            raise _reject(f"{waiting}; nothing was applied", "LedgerUnavailable")

    def _check_request(self, input: RequestGateInput) -> None:
        self._check_active(input)
        roles = self._person_roles(input.actor)
        if self._model.project_manager not in roles:
            raise _reject(
                f'"{input.actor}" is not the project manager and may not request a gate',
                "NotAuthorised",
            )
        if self._machine.state == "on_hold":
            raise _reject(f"project {self._charter.id} is on hold", "OnHold")
        if not self._machine.may("request_gate"):
            raise _reject(
                f"a gate cannot be requested in state {self._machine.state}", "IllegalTransition"
            )
        opens = self._s.phase_opens_at
        if opens is not None and workflow.now() < opens:
            raise _reject(
                f"phase {self._machine.state} opens at {opens.isoformat()}", "PhaseNotOpen"
            )
        missing = _deliverables.missing(self._s.deliverables, self._current_phase())
        if missing:
            raise _reject(
                f"gate {self._current_phase().gate_state} cannot be requested: deliverable"
                f"{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)} (submit "
                "with `phasegate deliverable submit`)",
                "MissingDeliverable",
            )

    def _check_decide(self, input: DecideGateInput) -> None:
        self._check_active(input)
        self._person_roles(input.actor)
        gate = self._s.gate
        if self._machine.state == "on_hold":
            raise _reject(f"project {self._charter.id} is on hold", "OnHold")
        if gate is None or not self._machine.gate_open:
            raise _reject(f"no gate is open (project is in {self._machine.state})", "GateNotOpen")
        phase = self._model.phase(gate.phase)
        if input.round is not None and input.round != gate.round:
            raise _reject(
                f"the vote is for round {input.round} of gate {phase.gate_state}, but round "
                f"{gate.round} is open: look at the gate again and vote on this round",
                "StaleVote",
            )
        status = self._gate_status()
        if input.actor not in status.eligible:
            escalated = self._model.level(gate.level) if gate.level is not None else None
            deciders = (
                gate_voters(phase.gate, self._charter)
                if escalated is None
                else escalation_deciders(phase.gate, escalated, self._charter)
            )
            if input.actor in deciders:  # left out only because they requested it
                raise _reject(
                    f'four eyes: "{input.actor}" requested gate {phase.gate_state} and may '
                    "not decide it (approve, reject or rework)",
                    "SelfApproval",
                )
            raise _reject(
                f'"{input.actor}" may not decide gate {phase.gate_state}: '
                + (
                    f"approvers are {', '.join(phase.gate.approvers)}"
                    if escalated is None
                    else f"it has escalated to level {escalated.id}, where only {escalated.role} "
                    "decides it"
                ),
                "NotAuthorised",
            )
        level = self._deciding_level(input.actor)
        if any(v.actor == input.actor and v.level == level for v in gate.votes):
            at = f" at level {level}" if level else ""
            raise _reject(
                f'"{input.actor}" has already decided gate {phase.gate_state}{at} '
                f"(round {gate.round})",
                "DuplicateVote",
            )

    def _check_board_action(self, trigger: str, input: ActorInput) -> None:
        self._check_active(input)
        roles = self._person_roles(input.actor)
        if self._model.board.executive not in roles:
            raise _reject(
                f'"{input.actor}" does not hold the role '
                f"{self._model.board.executive} and may not {trigger} the project",
                "NotAuthorised",
            )
        if not self._machine.may(trigger):
            raise _reject(
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
            gate=self._gate_status() if self._s.gate is not None else None,
            last_seq=self._s.seq,
            recorded_seq=self._s.recorded.seq,
            outcome=self._s.outcome,
            ledger_error=None
            if self._s.ledger_error is None
            else f"{self._s.ledger_error} (since {_iso(self._s.ledger_error_since)})",
            held_since=self._s.held_at,
            held_by=self._s.held_by,
            deliverables=_deliverables.statuses(self._s.deliverables, phase) if phase else [],
            execution=self._exec.status(),
        )

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
        return out

    def _gate_status(self) -> GateStatus:
        gate = self._s.gate
        assert gate is not None
        phase = self._model.phase(gate.phase)
        result = self._tally(gate)
        eligible = result.eligible
        voted = {(v.actor, v.level) for v in gate.votes}
        rule = phase.gate.rule
        return GateStatus(
            gate=phase.gate_state,
            phase=phase.id,
            title=phase.gate.title or phase.gate_state,
            round=gate.round,
            opened_at=gate.opened_at,
            requested_by=gate.requested_by,
            rule=rule if isinstance(rule, str) else f"at_least {rule.at_least}",
            approvals_needed=result.needed,
            approvals=result.approvals,
            required=list(phase.gate.required),
            required_missing=result.required_missing,
            eligible=eligible,
            votes=list(gate.votes),
            awaited=[p for p in eligible if (p, self._deciding_level(p)) not in voted],
            deliverables=list(phase.gate.deliverables),
            deadline=gate.deadline,
            reminder_at=gate.reminder_at,
            level=gate.level,
            escalations=list(gate.escalations),
        )

    # -- helpers ------------------------------------------------------------------------------

    def _current_phase(self) -> Phase:
        phase_id = self._machine.phase
        assert phase_id is not None
        return self._model.phase(phase_id)

    def _holders(self, role: str) -> list[str]:
        return self._charter.holders(role)

    def _deciding_level(self, actor: str) -> str | None:
        """The escalation level ``actor`` decides at (deciding alone), or None for a vote.

        Once a gate is escalated, the level it went to has taken the decision over: only
        the holders of that level's role decide it (also when they are approvers too).
        """
        gate = self._s.gate
        assert gate is not None
        if gate.level is not None and self._model.level(gate.level).role in set(
            self._person_roles(actor)
        ):
            return gate.level
        return None

    def _gate_key(self, gate: GateState) -> str:
        epoch = f"e{self._s.task_epoch}/" if self._s.task_epoch else ""
        return f"{epoch}{gate.phase}_gate/{gate.round}"

    def _decision_task_key(self, gate: GateState, person: str, level: str | None = None) -> str:
        at = f"/{level}" if level else ""
        return f"{self._gate_key(gate)}{at}/decide/{person}"

    def _tally(self, gate: GateState) -> Tally:
        gate_def = self._model.phase(gate.phase).gate
        level = self._model.level(gate.level) if gate.level is not None else None
        return tally(gate_def, self._charter, gate.votes, gate.requested_by, level)

    def _handled(self) -> None:
        self._s.updates_handled += 1
        self._wake = True

    def _open_tasks(self, phase: Phase, gate: GateState, eligible: list[str]) -> None:
        """Queue the gate's tasks and a decide task per approver."""
        self._rec.open(self._gate_tasks(phase, gate, eligible))

    def _gate_tasks(self, phase: Phase, gate: GateState, eligible: list[str]) -> list[GateTaskIn]:
        key = self._gate_key(gate)
        tasks: list[GateTaskIn] = []
        for i, task in enumerate(phase.gate.tasks, 1):
            for person in self._holders(task.role):
                tasks.append(
                    GateTaskIn(
                        project_id=self._charter.id,
                        key=f"{key}/task{i}/{person}",
                        title=task.title,
                        assignee=person,
                        role=task.role,
                        gate=key,
                        due=gate.opened_at + task.due,
                        created_at=gate.opened_at,
                    )
                )
        return tasks + self._decide_tasks(gate, eligible, gate.opened_at)

    def _decide_tasks(
        self, gate: GateState, people: list[str], at: datetime, level: str | None = None
    ) -> list[GateTaskIn]:
        phase = self._model.phase(gate.phase)
        deciders = self._tally(gate).eligible  # never the requester under four eyes
        return [
            GateTaskIn(
                project_id=self._charter.id,
                key=self._decision_task_key(gate, person, level),
                title=f"Decide gate: {phase.gate.title or phase.gate_state} (round {gate.round})",
                assignee=person,
                role=_first(self._person_roles(person)),
                gate=self._gate_key(gate),
                due=gate.deadline,
                created_at=at,
            )
            for person in people
            if person in deciders
        ]

    def _current_tasks(self) -> list[GateTaskIn]:
        """The tasks that should be open now: the open gate's, and a decide task for each
        person it still awaits (issued again after a Temporal reset)."""
        gate = self._s.gate
        if gate is None or self._machine.terminal:
            return []
        phase = self._model.phase(gate.phase)
        status = self._gate_status()
        voters = [p for p in status.awaited if not self._deciding_level(p)]
        issued = self._gate_tasks(phase, gate, voters)
        for level in {e.level for e in gate.escalations[-1:]}:
            people = [p for p in status.awaited if self._deciding_level(p) == level]
            issued += self._decide_tasks(gate, people, workflow.now(), level)
        return issued

    def _upsert_search(self) -> None:
        # An ended project is listed by its outcome: closed, rejected or cancelled.
        phase = self._machine.phase or self._s.outcome or self._machine.state
        awaiting = f"gate:{self._s.gate.phase}_gate" if self._s.gate is not None else None
        if self._machine.state == "on_hold":
            awaiting = "hold"
        workflow.upsert_search_attributes(
            [
                _search.PHASE.value_set(phase),
                _search.MODEL.value_set(self._model.ref),
                _search.PROJECT.value_set(self._charter.id),
                _search.AWAITING.value_set(awaiting)
                if awaiting
                else _search.AWAITING.value_unset(),
            ]
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _first(items: list[str]) -> str | None:
    return items[0] if items else None
