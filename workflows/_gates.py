"""How a phase gate is decided: the open gate's rounds, votes and tally, its reminder and its
escalation up the chain when the SLA passes, and the tasks it hands out. The project workflow
(workflows/project.py) owns the updates and checks who may act; this module keeps the gate's
bookkeeping, so "how are gates decided" has a file called that."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

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
        CloseTasksInput,
        DecideGateInput,
        Escalation,
        GateState,
        GateStatus,
        ProjectState,
        RequestGateInput,
        Vote,
    )
    from states import Lifecycle
    from workflows._deliverables import at_gate
    from workflows._recording import Recording
    from workflows._steps import first, iso, person_roles, reject


class Gates:
    """The open gate of one project (``state.gate``) and its rounds."""

    def __init__(
        self,
        state: ProjectState,
        charter: Charter,
        model: GovernanceModel,
        machine: Lifecycle,
        rec: Recording,
        *,
        handled: Callable[[], None],
        upsert_search: Callable[[], None],
    ) -> None:
        self._s = state
        self._charter = charter
        self._model = model
        self._machine = machine
        self._rec = rec
        self._handled = handled
        self._upsert_search = upsert_search

    # -- steps --------------------------------------------------------------------------------

    def open(self, input: RequestGateInput, phase: Phase, before: str) -> None:
        """A step: the project manager's request opens ``phase``'s gate (the lifecycle is in
        its gate state already): a new round, its deadlines, its tasks, its voters told."""
        now = workflow.now()
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
                "deadline": iso(gate.deadline),
                "deliverables": at_gate(self._s.deliverables, phase),
            },
        )
        self._handled()
        eligible = self.status().eligible
        self._open_tasks(phase, gate, eligible)
        self._rec.notify(
            "gate_opened",
            eligible,
            f"Gate {phase.gate.title or phase.gate_state} awaits your decision",
            deadline=iso(gate.deadline),
        )

    def vote(self, input: DecideGateInput) -> None:
        """A step: record the vote; when the rule is met, decide the gate."""
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
            level=self.deciding_level(input.actor),
        )
        gate.votes.append(vote)
        state = self._machine.state
        self._rec.event(
            EventKind.vote_cast,
            state,
            state,
            actor=input.actor,
            role=first(person.roles),
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
                payload={"phase": nxt.id, "opens_at": iso(self._s.phase_opens_at)},
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
            sorted({gate.requested_by, *self._charter.holders(self._model.board.executive)}),
            f"Gate {before} of {self._charter.title}: {outcome}",
            outcome=outcome,
            state=after,
        )
        self._upsert_search()

    # -- timers: reminder and SLA escalation -------------------------------------------------

    def deadlines(self) -> list[datetime]:
        """When the open gate next needs attention: its reminder, its SLA."""
        gate, times = self._s.gate, []
        if gate is not None:
            if gate.reminder_at is not None and not gate.reminded:
                times.append(gate.reminder_at)
            if gate.deadline is not None:
                times.append(gate.deadline)
        return times

    def on_timer(self, now: datetime) -> None:
        """A timer step: remind those still awaited, escalate once the SLA has passed."""
        gate = self._s.gate
        if gate is not None and not gate.reminded and gate.reminder_at and now >= gate.reminder_at:
            gate.reminded = True
            awaited = self.status().awaited
            self._rec.event(
                EventKind.reminder_sent,
                self._machine.state,
                self._machine.state,
                payload={"awaited": awaited, "deadline": iso(gate.deadline)},
            )
            self._rec.notify(
                "reminder",
                awaited,
                f"Reminder: gate {self._machine.state} awaits your decision",
                deadline=iso(gate.deadline),
            )
        if gate is not None and gate.deadline is not None and now >= gate.deadline:
            self._escalate(gate, now)

    def shift(self, by: timedelta) -> None:
        """Clocks stop while the project is held: the open gate's deadlines move by ``by``."""
        gate = self._s.gate
        if gate is not None:
            if gate.deadline is not None:
                gate.deadline += by
            if gate.reminder_at is not None:
                gate.reminder_at += by
            if gate.escalations and gate.escalations[-1].deadline is not None:
                gate.escalations[-1].deadline += by

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
            payload={"from_level": gate.level, "to_level": target.id, "deadline": iso(deadline)},
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
        self._rec.open(self._decide_tasks(gate, self._charter.holders(target.role), now, target.id))
        self._rec.notify(
            "escalation",
            self._charter.holders(target.role),
            f"Escalated to you: gate {self._machine.state} of {self._charter.title}",
            level=target.id,
            deadline=iso(deadline),
        )

    # -- checks and status ------------------------------------------------------------------

    def check_vote(self, input: DecideGateInput) -> None:
        """Whether ``input``'s actor may vote on the open gate now (the project checked that
        the project is active, the actor a person and a gate open)."""
        gate = self._s.gate
        assert gate is not None
        phase = self._model.phase(gate.phase)
        if input.round is not None and input.round != gate.round:
            raise reject(
                f"the vote is for round {input.round} of gate {phase.gate_state}, but round "
                f"{gate.round} is open: look at the gate again and vote on this round",
                "StaleVote",
            )
        status = self.status()
        if input.actor not in status.eligible:
            escalated = self._model.level(gate.level) if gate.level is not None else None
            deciders = (
                gate_voters(phase.gate, self._charter)
                if escalated is None
                else escalation_deciders(phase.gate, escalated, self._charter)
            )
            if input.actor in deciders:  # left out only because they requested it
                raise reject(
                    f'four eyes: "{input.actor}" requested gate {phase.gate_state} and may '
                    "not decide it (approve, reject or rework)",
                    "SelfApproval",
                )
            raise reject(
                f'"{input.actor}" may not decide gate {phase.gate_state}: '
                + (
                    f"approvers are {', '.join(phase.gate.approvers)}"
                    if escalated is None
                    else f"it has escalated to level {escalated.id}, where only {escalated.role} "
                    "decides it"
                ),
                "NotAuthorised",
            )
        level = self.deciding_level(input.actor)
        if any(v.actor == input.actor and v.level == level for v in gate.votes):
            at = f" at level {level}" if level else ""
            raise reject(
                f'"{input.actor}" has already decided gate {phase.gate_state}{at} '
                f"(round {gate.round})",
                "DuplicateVote",
            )

    def status(self) -> GateStatus:
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
            awaited=[p for p in eligible if (p, self.deciding_level(p)) not in voted],
            deliverables=list(phase.gate.deliverables),
            deadline=gate.deadline,
            reminder_at=gate.reminder_at,
            level=gate.level,
            escalations=list(gate.escalations),
        )

    def deciding_level(self, actor: str) -> str | None:
        """The escalation level ``actor`` decides at (deciding alone), or None for a vote.

        Once a gate is escalated, the level it went to has taken the decision over: only
        the holders of that level's role decide it (also when they are approvers too).
        """
        gate = self._s.gate
        assert gate is not None
        if gate.level is not None and self._model.level(gate.level).role in set(
            person_roles(self._charter, actor)
        ):
            return gate.level
        return None

    # -- tasks --------------------------------------------------------------------------------

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

    def _open_tasks(self, phase: Phase, gate: GateState, eligible: list[str]) -> None:
        """Queue the gate's tasks and a decide task per approver."""
        self._rec.open(self._gate_tasks(phase, gate, eligible))

    def _gate_tasks(self, phase: Phase, gate: GateState, eligible: list[str]) -> list[GateTaskIn]:
        key = self._gate_key(gate)
        tasks: list[GateTaskIn] = []
        for i, task in enumerate(phase.gate.tasks, 1):
            for person in self._charter.holders(task.role):
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
                role=first(person_roles(self._charter, person)),
                gate=self._gate_key(gate),
                due=gate.deadline,
                created_at=at,
            )
            for person in people
            if person in deciders
        ]

    def current_tasks(self) -> list[GateTaskIn]:
        """The tasks that should be open now: the open gate's, and a decide task for each
        person it still awaits (issued again after a Temporal reset)."""
        gate = self._s.gate
        if gate is None or self._machine.terminal:
            return []
        phase = self._model.phase(gate.phase)
        status = self.status()
        voters = [p for p in status.awaited if not self.deciding_level(p)]
        issued = self._gate_tasks(phase, gate, voters)
        for level in {e.level for e in gate.escalations[-1:]}:
            people = [p for p in status.awaited if self.deciding_level(p) == level]
            issued += self._decide_tasks(gate, people, workflow.now(), level)
        return issued
