"""IterationWorkflow: one iteration of an iterative phase, a child of its project's workflow.

plan → execute (a timebox with stand-ups) → demo (recorded within a window, else reminded and
escalated) → delivery (a decision by the receiving role) → retro (obstacles become tasks).
Its steps are written to a ledger chain of its own, ``<project>/it-<n>``, through the same
outbox as the project's (workflows/_recording.py): a step is accepted whole or not at all.
It returns what the project keeps: committed and completed work (velocity), added scope, the
delivery, the demo's feedback, the retro, and the unfinished items for the backlog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import (
        Charter,
        EscalationLevel,
        GovernanceModel,
        IterationPolicy,
        cadence_times,
        plan_problem,
    )
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        ActorInput,
        AddItemsInput,
        CloseIterationInput,
        CloseTasksInput,
        Command,
        DecideDeliveryInput,
        DemoRecord,
        HoldIterationInput,
        ItemState,
        IterationResult,
        IterationStatus,
        IterationWorkflowState,
        PlanIterationInput,
        RecordDemoInput,
        RecordRetroInput,
        ReportDoneInput,
        RetroRecord,
        StartIterationInput,
        WorkItem,
    )
    from states import IterationLoop
    from workflows._recording import Recording
    from workflows._steps import check_taken, first, iso, person_roles, reject


def iteration_workflow_id(project_id: str, number: int) -> str:
    """``project-<id>-it-<n>``: the project's workflow id (``project-<id>``) and the number."""
    return f"project-{project_id}-it-{number}"


def iteration_chain(project_id: str, number: int) -> str:
    """The ledger chain an iteration writes: its project's id, ``/it-``, its number."""
    return f"{project_id}/it-{number}"


@workflow.defn
class IterationWorkflow:
    @workflow.init
    def __init__(self, input: StartIterationInput) -> None:
        self._in = input
        self._charter: Charter = input.charter
        self._model: GovernanceModel = input.model
        policy = self._model.phase(input.phase).iteration
        assert policy is not None, f"phase {input.phase} is not iterative"
        self._policy: IterationPolicy = policy
        now = workflow.now()
        self._s = IterationWorkflowState(
            loop=IterationLoop().to_dict(), opened_at=now, ledger_id=input.ledger_id
        )
        self._loop = IterationLoop.from_dict(self._s.loop)
        self._group = f"it-{input.number}"
        self._rec = Recording(
            self._s,
            iteration_chain(input.project_id, input.number),
            self._model.ref,
            input.model_hash,
            self._current_tasks,
            task_project=input.project_id,
            task_group=self._group,
            charter=lambda: self._charter,
        )
        self._wake = False
        self._event(
            EventKind.iteration_opened,
            None,
            payload={
                "number": input.number,
                "phase": input.phase,
                "backlog": [i.id for i in input.backlog],
            },
        )
        self._rec.notify(
            "iteration",
            self._planners(),
            f"{self._charter.title}: iteration {input.number} is open for planning",
            number=input.number,
        )

    # -- run ----------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: StartIterationInput) -> IterationResult:
        writer = asyncio.create_task(self._rec.run())
        try:
            while not self._loop.terminal:
                deadline = self._next_deadline()
                timeout = None if deadline is None else max(deadline - workflow.now(), timedelta())
                self._wake = False
                try:
                    await workflow.wait_condition(
                        lambda: self._wake or self._loop.terminal, timeout=timeout
                    )
                except TimeoutError:
                    self._on_timer(workflow.now())
        except asyncio.CancelledError:
            # The project was cancelled (or closed by Temporal): the iteration is abandoned,
            # recorded in its chain, and returns what it has.
            if not self._loop.terminal:
                self._end("abandon", "the project was cancelled", None)
        await workflow.wait_condition(lambda: self._rec.idle and workflow.all_handlers_finished())
        writer.cancel()
        return self._result()

    def _next_deadline(self) -> datetime | None:
        s, times = self._s, []
        if s.held_at is not None:
            return None
        if self._loop.state == "executing":
            if s.standups:
                times.append(s.standups[0])
            if s.execute_ends_at is not None:
                times.append(s.execute_ends_at)
        elif self._loop.state == "demo":
            if s.demo_reminder_at is not None:
                times.append(s.demo_reminder_at)
            if s.demo_deadline is not None:
                times.append(s.demo_deadline)
        return min(times) if times else None

    def _on_timer(self, now: datetime) -> None:
        s = self._s
        if self._loop.state == "executing":
            while s.standups and s.standups[0] <= now:
                self._standup(s.standups.pop(0))
            if s.execute_ends_at is not None and now >= s.execute_ends_at:
                self._end_execution(None, "the timebox ended")
        elif self._loop.state == "demo":
            if s.demo_reminder_at is not None and now >= s.demo_reminder_at:
                s.demo_reminder_at = None
                self._event(
                    EventKind.reminder_sent,
                    "demo",
                    payload={"what": "demo", "deadline": iso(s.demo_deadline)},
                )
                self._rec.notify(
                    "reminder",
                    self._pm(),
                    f"Reminder: record the demo of iteration {self._in.number} of "
                    f"{self._charter.title}",
                    deadline=iso(s.demo_deadline),
                )
            if s.demo_deadline is not None and now >= s.demo_deadline:
                self._escalate_demo(now)

    def _standup(self, at: datetime) -> None:
        self._s.standups_sent += 1
        team = self._team()
        self._event(
            EventKind.standup,
            "executing",
            payload={"n": self._s.standups_sent, "due": at.isoformat(), "team": team},
        )
        standup = self._policy.ceremony("standup")
        self._rec.notify(
            "standup",
            team,
            f"Stand-up of {self._charter.title}, iteration {self._in.number}",
            timebox=None if standup is None else standup.timebox.total_seconds(),
        )

    def _escalate_demo(self, now: datetime) -> None:
        s = self._s
        target: EscalationLevel | None = (
            self._model.demo_level(self._policy)
            if s.demo_level is None
            else self._model.level_above(s.demo_level)
        )
        if target is None:
            s.demo_deadline = None
            self._event(
                EventKind.escalated,
                "demo",
                payload={
                    "what": "demo",
                    "from_level": s.demo_level,
                    "to_level": None,
                    "note": "the demo window passed at the top of the escalation chain",
                },
            )
            return
        s.demo_deadline = now + target.sla
        self._event(
            EventKind.escalated,
            "demo",
            role=target.role,
            payload={
                "what": "demo",
                "from_level": s.demo_level,
                "to_level": target.id,
                "deadline": iso(s.demo_deadline),
            },
        )
        s.demo_level = target.id
        people = self._charter.holders(target.role)
        self._rec.open(self._tasks("demo", f"Record the demo (escalated to {target.id})", people))
        self._rec.notify(
            "escalation",
            people,
            f"Escalated to you: the demo of iteration {self._in.number} of "
            f"{self._charter.title} was not recorded in time",
            level=target.id,
            deadline=iso(s.demo_deadline),
        )

    # -- updates ------------------------------------------------------------------------------

    @workflow.update
    async def plan_iteration(self, input: PlanIterationInput) -> IterationStatus:
        return await self._recorded(self._plan(input))

    @plan_iteration.validator
    def _validate_plan(self, input: PlanIterationInput) -> None:
        self._check_plan(input)

    def _plan(self, input: PlanIterationInput) -> IterationStatus:
        self._check_plan(input)
        now = workflow.now()
        s = self._s
        length = input.length or self._policy.length
        s.goal, s.length, s.planned_by, s.planned_at = input.goal, length, input.actor, now
        s.execute_ends_at = now + length
        s.items = [ItemState(**i.model_dump()) for i in input.items]
        standup = self._policy.ceremony("standup")
        if standup is not None and standup.every is not None:
            s.standups = cadence_times(
                now,
                s.execute_ends_at,
                standup.every,
                self._model.calendar.country,
                days_off=self._in.days_off,
            )
        self._fire("start")
        self._event(
            EventKind.iteration_planned,
            "planning",
            actor=input.actor,
            comment=input.comment,
            payload={
                "goal": input.goal,
                "length": length.total_seconds(),
                "ends_at": iso(s.execute_ends_at),
                "items": [i.model_dump(mode="json") for i in input.items],
                "standups": len(s.standups),
            },
        )
        self._rec.notify(
            "iteration",
            self._team(),
            f"{self._charter.title}: iteration {self._in.number} planned, "
            f"ends {s.execute_ends_at.date().isoformat()}",
        )
        while s.standups and s.standups[0] <= now:  # one due at the planning moment: now
            self._standup(s.standups.pop(0))
        return self._handled()

    def _check_plan(self, input: PlanIterationInput) -> None:
        self._check_active(input, "plan_iteration", "planning")
        self._check_planner(input.actor, "plan the iteration")
        problem = plan_problem(
            input.items,
            policy=self._policy,
            charter=self._charter,
            length=input.length or self._policy.length,
        )
        if problem is not None:
            raise reject(f"plan refused: {problem}", "InvalidPlan")

    @workflow.update
    async def add_items(self, input: AddItemsInput) -> IterationStatus:
        return await self._recorded(self._add(input))

    @add_items.validator
    def _validate_add(self, input: AddItemsInput) -> None:
        self._check_add(input)

    def _add(self, input: AddItemsInput) -> IterationStatus:
        self._check_add(input)
        self._s.items += [ItemState(**i.model_dump(), added=True) for i in input.items]
        self._event(
            EventKind.items_added,
            "executing",
            actor=input.actor,
            comment=input.comment,
            payload={
                "scope_change": True,
                "items": [i.model_dump(mode="json") for i in input.items],
                "effort": sum(i.estimate for i in input.items),
            },
        )
        return self._handled()

    def _check_add(self, input: AddItemsInput) -> None:
        self._check_active(input, "add_items", "executing")
        self._check_planner(input.actor, "add work to the iteration")
        problem = plan_problem(
            input.items,
            policy=self._policy,
            charter=self._charter,
            planned=self._s.items,
            adding=True,
        )
        if problem is not None:
            raise reject(f"items refused: {problem}", "InvalidPlan")

    @workflow.update
    async def report_done(self, input: ReportDoneInput) -> IterationStatus:
        return await self._recorded(self._done(input))

    @report_done.validator
    def _validate_done(self, input: ReportDoneInput) -> None:
        self._check_done(input)

    def _done(self, input: ReportDoneInput) -> IterationStatus:
        self._check_done(input)
        now = workflow.now()
        ids = set(input.item_ids)
        for item in self._s.items:
            if item.id in ids:
                item.done_at, item.done_by = now, input.actor
        self._event(
            EventKind.items_done,
            "executing",
            actor=input.actor,
            comment=input.comment,
            payload={"items": list(dict.fromkeys(input.item_ids))},
        )
        return self._handled()

    def _check_done(self, input: ReportDoneInput) -> None:
        self._check_active(input, "report_done", "executing")
        roles = person_roles(self._charter, input.actor)
        if not input.item_ids:
            raise reject("name at least one item that is done", "InvalidItems")
        items = {i.id: i for i in self._s.items}
        lead = self._model.project_manager in roles
        for item_id in input.item_ids:
            item = items.get(item_id)
            if item is None:
                raise reject(
                    f'item "{item_id}" is not in iteration {self._in.number}; its items: '
                    + ", ".join(items),
                    "UnknownItem",
                )
            if item.done_at is not None:
                raise reject(
                    f'item "{item_id}" is already done: reported by {item.done_by} at '
                    f"{item.done_at.isoformat(timespec='minutes')}",
                    "AlreadyDone",
                )
            if not lead and item.owner != input.actor:
                raise reject(
                    f'"{input.actor}" may not report item "{item_id}": only its owner '
                    f"({item.owner}) or the project manager may",
                    "NotAuthorised",
                )

    @workflow.update
    async def close_execution(self, input: ActorInput) -> IterationStatus:
        return await self._recorded(self._close_execution(input))

    @close_execution.validator
    def _validate_close_execution(self, input: ActorInput) -> None:
        self._check_close_execution(input)

    def _close_execution(self, input: ActorInput) -> IterationStatus:
        self._check_close_execution(input)
        self._end_execution(input.actor, "closed early", input.comment)
        return self._handled()

    def _check_close_execution(self, input: ActorInput) -> None:
        self._check_active(input, "close_execution", "executing")
        self._check_planner(input.actor, "end the timebox")

    @workflow.update
    async def record_demo(self, input: RecordDemoInput) -> IterationStatus:
        return await self._recorded(self._demo(input))

    @record_demo.validator
    def _validate_demo(self, input: RecordDemoInput) -> None:
        self._check_demo(input)

    def _demo(self, input: RecordDemoInput) -> IterationStatus:
        self._check_demo(input)
        now = workflow.now()
        s = self._s
        s.demo = DemoRecord(
            recorded_by=input.actor,
            at=now,
            attendees=list(input.attendees),
            feedback=list(input.feedback),
        )
        s.demo_deadline = s.demo_reminder_at = None
        self._fire("demo_recorded")
        self._event(
            EventKind.demo_recorded,
            "demo",
            actor=input.actor,
            comment=input.comment,
            payload={
                "attendees": list(input.attendees),
                "feedback": [f.model_dump(mode="json") for f in input.feedback],
                "level": s.demo_level,
            },
        )
        self._close_tasks("done")
        role = self._model.delivery_role(self._policy)
        people = self._charter.holders(role)
        self._rec.open(self._tasks("delivery", "Decide delivery (deliver or hold)", people))
        self._rec.notify(
            "task_assigned",
            people,
            f"Decide delivery of iteration {self._in.number} of {self._charter.title}",
        )
        return self._handled()

    def _check_demo(self, input: RecordDemoInput) -> None:
        self._check_active(input, "record_demo", "demo")
        roles = set(person_roles(self._charter, input.actor))
        allowed = {self._model.project_manager, *self._policy.planners}
        levels = self._demo_levels()
        allowed |= {self._model.level(lvl).role for lvl in levels}
        if not roles & allowed:
            raise reject(
                f'"{input.actor}" may not record the demo: it is recorded by '
                + ", ".join(sorted(allowed)),
                "NotAuthorised",
            )

    @workflow.update
    async def decide_delivery(self, input: DecideDeliveryInput) -> IterationStatus:
        return await self._recorded(self._delivery(input))

    @decide_delivery.validator
    def _validate_delivery(self, input: DecideDeliveryInput) -> None:
        self._check_delivery(input)

    def _delivery(self, input: DecideDeliveryInput) -> IterationStatus:
        self._check_delivery(input)
        s = self._s
        s.delivery, s.delivery_by, s.delivery_comment = input.decision, input.actor, input.comment
        self._fire("deliver" if input.decision == "deliver" else "hold")
        done = [i.id for i in s.items if i.done_at is not None]
        self._event(
            EventKind.delivery_decided,
            "delivery",
            actor=input.actor,
            role=self._model.delivery_role(self._policy),
            comment=input.comment,
            payload={"decision": input.decision, "items": done},
        )
        self._close_tasks("done")
        self._rec.open(self._tasks("retro", "Hold the retrospective", self._pm()))
        return self._handled()

    def _check_delivery(self, input: DecideDeliveryInput) -> None:
        self._check_active(input, "decide_delivery", "delivery")
        role = self._model.delivery_role(self._policy)
        if role not in person_roles(self._charter, input.actor):
            raise reject(
                f'"{input.actor}" may not decide delivery: the {role} role decides it',
                "NotAuthorised",
            )
        demo = self._s.demo
        if input.actor == self._s.planned_by or (demo and input.actor == demo.recorded_by):
            raise reject(
                f'four eyes: "{input.actor}" planned or demonstrated iteration '
                f"{self._in.number} and may not also accept its delivery",
                "SelfApproval",
            )

    @workflow.update
    async def record_retro(self, input: RecordRetroInput) -> IterationStatus:
        return await self._recorded(self._retro(input))

    @record_retro.validator
    def _validate_retro(self, input: RecordRetroInput) -> None:
        self._check_retro(input)

    def _retro(self, input: RecordRetroInput) -> IterationStatus:
        self._check_retro(input)
        now = workflow.now()
        self._s.retro = RetroRecord(
            recorded_by=input.actor,
            at=now,
            keep=list(input.keep),
            change=list(input.change),
            obstacles=list(input.obstacles),
        )
        self._event(
            EventKind.retro_recorded,
            "retro",
            actor=input.actor,
            comment=input.comment,
            payload={
                "keep": list(input.keep),
                "change": list(input.change),
                "obstacles": [o.model_dump(mode="json") for o in input.obstacles],
            },
        )
        self._close_tasks("done")
        self._rec.open(self._obstacle_tasks())
        for obstacle in input.obstacles:
            self._rec.notify(
                "task_assigned",
                self._charter.holders(obstacle.role),
                f"Obstacle to clear for {self._charter.title}: {obstacle.text}",
            )
        self._end("finish", "the retro was recorded", input.actor)
        return self._handled()

    def _check_retro(self, input: RecordRetroInput) -> None:
        self._check_active(input, "record_retro", "retro")
        self._check_planner(input.actor, "record the retro")
        roles = {r.id for r in self._model.roles}
        for i, obstacle in enumerate(input.obstacles):
            if obstacle.role not in roles:
                raise reject(
                    f'obstacle {i + 1} ("{obstacle.text}"): unknown role "{obstacle.role}"; '
                    "roles: " + ", ".join(sorted(roles)),
                    "UnknownRole",
                )
            if not self._charter.holders(obstacle.role):
                raise reject(
                    f'obstacle {i + 1} ("{obstacle.text}"): nobody in the charter holds the '
                    f'role "{obstacle.role}"',
                    "UnknownRole",
                )

    @workflow.signal
    def close(self, input: CloseIterationInput) -> None:
        """From the project: its phase's gate was requested (closed), or the project was
        cancelled (abandoned); this iteration ends now."""
        if not self._loop.terminal:
            self._end("abandon" if input.abandon else "close", input.reason, input.actor)
            self._wake = True

    @workflow.signal
    def hold(self, input: HoldIterationInput) -> None:
        """From the project: held (this iteration's clocks stop and it takes no step) or
        resumed (every clock moves on by the time held)."""
        s, now = self._s, workflow.now()
        if input.held:
            s.held_at = s.held_at or now
        elif s.held_at is not None:
            paused, s.held_at = now - s.held_at, None
            s.standups = [t + paused for t in s.standups]
            for name in ("execute_ends_at", "demo_deadline", "demo_reminder_at"):
                value = getattr(s, name)
                if value is not None:
                    setattr(s, name, value + paused)
        self._wake = True

    # -- queries ------------------------------------------------------------------------------

    @workflow.query
    def status(self) -> IterationStatus:
        s = self._s
        committed = [i for i in s.items if not i.added]
        added = [i for i in s.items if i.added]
        done = [i for i in s.items if i.done_at is not None]
        days_left = None
        if self._loop.state == "executing" and s.execute_ends_at is not None:
            days_left = max((s.execute_ends_at - workflow.now()).total_seconds(), 0) / 86400
        return IterationStatus(
            project_id=self._in.project_id,
            number=self._in.number,
            phase=self._in.phase,
            state=self._loop.state,
            goal=s.goal,
            opened_at=s.opened_at,
            planned_by=s.planned_by,
            planned_at=s.planned_at,
            length=s.length,
            execute_ends_at=s.execute_ends_at,
            days_left=days_left,
            items=list(s.items),
            committed_items=len(committed),
            completed_items=len(done),
            committed_effort=_effort(committed),
            completed_effort=_effort(done),
            added_items=len(added),
            added_effort=_effort(added),
            committed_points=_points(committed),
            completed_points=_points(done),
            added_points=_points(added),
            standups_sent=s.standups_sent,
            next_standup=s.standups[0] if s.standups else None,
            standups_ahead=list(s.standups),
            ceremonies=list(self._policy.ceremonies),
            team=self._team(),
            demo_deadline=s.demo_deadline,
            demo_level=s.demo_level,
            demo=s.demo,
            delivery=s.delivery,
            delivery_by=s.delivery_by,
            retro=s.retro,
            ended_at=s.ended_at,
            end_reason=s.end_reason,
            last_seq=s.seq,
            recorded_seq=s.recorded.seq,
            ledger_error=s.ledger_error,
        )

    # -- steps shared by the handlers ---------------------------------------------------------

    def _end_execution(self, actor: str | None, reason: str, comment: str | None = None) -> None:
        """The timebox is over (by its timer or early): the demo is due within its window."""
        now = workflow.now()
        s = self._s
        s.execution_ended_at = now
        s.standups = []
        demo = self._policy.demo
        s.demo_deadline = now + demo.window
        s.demo_reminder_at = now + demo.reminder if demo.reminder is not None else None
        self._fire("demo")
        self._event(
            EventKind.execution_ended,
            "executing",
            actor=actor,
            comment=comment,
            payload={
                "reason": reason,
                "completed": [i.id for i in s.items if i.done_at is not None],
                "demo_due": iso(s.demo_deadline),
            },
        )
        self._rec.open(self._tasks("demo", "Record the demo", self._pm()))

    def _end(self, trigger: str, reason: str, actor: str | None) -> None:
        """The iteration ends: done (after its retro), closed (its phase's gate was requested)
        or abandoned (the project was cancelled). The last event of its chain."""
        s = self._s
        before = self._loop.state
        s.ended_at = workflow.now()
        s.end_reason = reason
        s.standups = []
        s.demo_deadline = s.demo_reminder_at = None
        self._fire(trigger)
        result = self._result()
        self._rec.event(
            EventKind.iteration_ended,
            before,
            self._loop.state,
            actor=actor,
            payload={
                "outcome": self._loop.state,
                "reason": reason,
                "committed_items": result.committed_items,
                "completed_items": result.completed_items,
                "committed_effort": result.committed_effort,
                "completed_effort": result.completed_effort,
                "added_items": result.added_items,
                "added_effort": result.added_effort,
                "delivered": result.delivered,
                "unfinished": [i.id for i in result.unfinished],
            },
        )
        if trigger != "finish":
            self._close_tasks("withdrawn")

    def _result(self) -> IterationResult:
        s = self._s
        committed = [i for i in s.items if not i.added]
        added = [i for i in s.items if i.added]
        done = [i for i in s.items if i.done_at is not None]
        outcome = self._loop.state if self._loop.state in ("closed", "abandoned") else "done"
        return IterationResult(
            project_id=self._in.project_id,
            number=self._in.number,
            outcome=outcome,
            opened_at=s.opened_at,
            ended_at=s.ended_at or workflow.now(),
            length=s.length,
            goal=s.goal,
            committed_items=len(committed),
            completed_items=len(done),
            committed_effort=_effort(committed),
            completed_effort=_effort(done),
            added_items=len(added),
            added_effort=_effort(added),
            committed_points=_points(committed),
            completed_points=_points(done),
            added_points=_points(added),
            delivered=self._loop.delivered,
            delivery_comment=s.delivery_comment,
            demo=s.demo,
            retro=s.retro,
            item_ids=[i.id for i in s.items],
            unfinished=[
                WorkItem(
                    id=i.id, title=i.title, owner=i.owner, estimate=i.estimate, points=i.points
                )
                for i in s.items
                if i.done_at is None
            ],
            chain=s.recorded,
        )

    def _fire(self, trigger: str) -> None:
        self._loop.fire(trigger)
        self._s.loop = self._loop.to_dict()

    def _event(
        self,
        kind: EventKind,
        state: str | None,
        *,
        actor: str | None = None,
        role: str | None = None,
        comment: str | None = None,
        payload: dict[str, object] | None = None,
    ) -> None:
        self._rec.event(
            kind,
            state,
            self._loop.state,
            actor=actor,
            role=role,
            comment=comment,
            payload={"iteration": self._in.number, **(payload or {})},
        )

    def _handled(self) -> IterationStatus:
        self._s.updates_handled += 1
        self._wake = True
        return self.status()

    async def _recorded(self, st: IterationStatus) -> IterationStatus:
        await self._rec.recorded(st.last_seq)
        return self.status()

    # -- checks -------------------------------------------------------------------------------

    def _check_active(self, input: Command, action: str, state: str) -> None:
        if self._loop.terminal:
            raise reject(
                f"iteration {self._in.number} of {self._in.project_id} has ended "
                f"({self._loop.state})",
                "IterationEnded",
            )
        check_taken(input, self._rec)
        if self._s.held_at is not None:
            raise reject(f"project {self._in.project_id} is on hold", "OnHold")
        if self._loop.state != state:
            raise reject(
                f"cannot {action} now: iteration {self._in.number} is in {self._loop.state} "
                f"(it {_NEXT[self._loop.state]})",
                "IllegalTransition",
            )

    def _check_planner(self, actor: str, what: str) -> None:
        allowed = {self._model.project_manager, *self._policy.planners}
        if not set(person_roles(self._charter, actor)) & allowed:
            raise reject(
                f'"{actor}" may not {what}: that is for ' + ", ".join(sorted(allowed)),
                "NotAuthorised",
            )

    # -- people and tasks ---------------------------------------------------------------------

    def _pm(self) -> list[str]:
        return self._charter.holders(self._model.project_manager)

    def _planners(self) -> list[str]:
        people = self._pm()
        for role in self._policy.planners:
            people += [p for p in self._charter.holders(role) if p not in people]
        return people

    def _team(self) -> list[str]:
        people = self._planners()
        people += [i.owner for i in self._s.items if i.owner not in people]
        return list(dict.fromkeys(people))

    def _demo_levels(self) -> list[str]:
        """The levels the overdue demo has gone to so far, lowest first."""
        if self._s.demo_level is None:
            return []
        chain = self._demo_chain()
        return chain[: chain.index(self._s.demo_level) + 1]

    def _demo_chain(self) -> list[str]:
        first = self._model.demo_level(self._policy)
        if first is None:
            return []
        ids = [lvl.id for lvl in self._model.escalation]
        return ids[ids.index(first.id) :]

    def _key(self, what: str) -> str:
        epoch = f"e{self._s.task_epoch}/" if self._s.task_epoch else ""
        return f"{epoch}{self._group}/{what}"

    def _tasks(self, what: str, title: str, people: Sequence[str]) -> list[GateTaskIn]:
        now = workflow.now()
        due = self._s.demo_deadline if what == "demo" else None
        level = f"/{self._s.demo_level}" if what == "demo" and self._s.demo_level else ""
        return [
            GateTaskIn(
                project_id=self._in.project_id,
                key=f"{self._key(what)}{level}/{person}",
                title=f"{title}: iteration {self._in.number}",
                assignee=person,
                role=first(person_roles(self._charter, person)),
                gate=self._group,
                due=due,
                created_at=now,
            )
            for person in people
        ]

    def _obstacle_tasks(self) -> list[GateTaskIn]:
        retro = self._s.retro
        if retro is None:
            return []
        at = retro.at
        return [
            GateTaskIn(
                project_id=self._in.project_id,
                key=f"{self._key(f'obstacle{i}')}/{person}",
                title=f"Clear obstacle: {obstacle.text}",
                assignee=person,
                role=obstacle.role,
                gate=self._group,
                due=None,
                created_at=at,
            )
            for i, obstacle in enumerate(retro.obstacles, 1)
            for person in self._charter.holders(obstacle.role)
        ]

    def _close_tasks(self, status: str) -> None:
        self._rec.close(
            CloseTasksInput(
                project_id=self._in.project_id,
                gate=self._group,
                at=workflow.now(),
                status=status,
            )
        )

    def _current_tasks(self) -> list[GateTaskIn]:
        """The tasks that should be open now (issued again after a Temporal reset)."""
        state = self._loop.state
        if state == "demo":
            tasks = self._tasks("demo", "Record the demo", self._pm())
            level = self._s.demo_level
            if level is not None:
                role = self._model.level(level).role
                tasks += self._tasks("demo", "Record the demo", self._charter.holders(role))
            return tasks
        if state == "delivery":
            role = self._model.delivery_role(self._policy)
            people = self._charter.holders(role)
            return self._tasks("delivery", "Decide delivery (deliver or hold)", people)
        if state == "retro":
            return self._tasks("retro", "Hold the retrospective", self._pm())
        if state == "done":
            return self._obstacle_tasks()
        return []


_NEXT = {
    "planning": "waits for its plan",
    "executing": "is executing its plan",
    "demo": "waits for the demo to be recorded",
    "delivery": "waits for the delivery decision",
    "retro": "waits for the retro",
}


def _effort(items: Sequence[WorkItem]) -> float:
    return round(sum(i.estimate for i in items), 6)


def _points(items: Sequence[WorkItem]) -> float:
    return round(sum(i.points or 0.0 for i in items), 6)
