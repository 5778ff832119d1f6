"""How a phase gate is decided: the project manager's request opens it (its round, its
deliverables, the review tasks it hands out), and the decision, once the rule is met, moves the
lifecycle. The votes, tally, reminder and escalation are the one decision mechanism's
(workflows/_decisions.py); this module keeps what only a gate does."""

from __future__ import annotations

import re
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import Phase
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        CloseTasksInput,
        CompleteTaskInput,
        DecideGateInput,
        Ending,
        GateOutcome,
        GateState,
        GateStatus,
        RequestGateInput,
    )
    from workflows._decisions import Decisions
    from workflows._delegation import FOR
    from workflows._deliverables import at_gate
    from workflows._steps import Part, Project, iso, person_roles, reject

_DECIDE_TASK = re.compile(
    r"^(?:e[0-9]+/)?(?P<kind>change/|exception/)?.*/(?P<what>decide|advise)/[^/]+"
    r"(?:/for/[^/]+(?:/d[0-9]+)?)?$"
)
"""A decide task's key (workflows/_decisions.py): a gate's, a change's or an exception's."""
_ITERATION_TASK = re.compile(r"^(?:e[0-9]+/)?it-(?P<number>[0-9]+)/")
"""A task of an iteration's group (workflows/iteration.py)."""
_DECIDE_HINT = {
    None: "vote with `phasegate gate decide`",
    "change/": "decide it with `phasegate change decide`",
    "exception/": "decide it with `phasegate exception decide`",
}


class Gates(Part):
    """The open gate of one project (``state.gate``) and its rounds."""

    def __init__(
        self,
        project: Project,
        decisions: Decisions,
        *,
        handled: Callable[[], None],
        upsert_search: Callable[[], None],
        decided: Callable[[str], None],
        ending: Callable[[str, str | None], None],
    ) -> None:
        super().__init__(project)
        self._d = decisions
        self._handled = handled
        self._upsert_search = upsert_search
        self._decided = decided
        self._ending = ending

    # -- steps --------------------------------------------------------------------------------

    def open(self, input: RequestGateInput, phase: Phase, before: str) -> None:
        """A step: the project manager's request opens ``phase``'s gate (the lifecycle is in
        its gate state already): a new round, its deadlines, its tasks, its voters told."""
        rnd = self._s.gate_rounds.get(phase.id, 0) + 1
        self._s.gate_rounds[phase.id] = rnd
        gate = self._d.new(
            "gate", id=None, phase=phase.id, requested_by=input.actor, round=rnd, rule=phase.gate
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
        status = self.status()
        eligible = status.eligible
        review = self._review_tasks(phase, gate)
        self._rec.open(
            review
            + self._d.delegations.copies(review, gate.opened_at)
            + self._d.decide_tasks(gate, eligible, gate.opened_at)
            + self._d.advise_tasks(gate, status.advisers, gate.opened_at)
        )
        self._rec.notify(
            "gate_opened",
            eligible,
            f"Gate {phase.gate.title or phase.gate_state} awaits your decision",
            deadline=iso(gate.deadline),
        )
        self._rec.notify(
            "gate_opened",
            status.advisers,
            f"Gate {phase.gate.title or phase.gate_state} awaits your advice",
            deadline=iso(gate.deadline),
        )

    def vote(self, input: DecideGateInput) -> None:
        """A step: record the vote; when the rule is met, decide the gate."""
        gate = self._s.gate
        assert gate is not None
        outcome = self._d.vote(gate, input.actor, input.decision, input.comment, input.on_behalf_of)
        self._handled()
        if outcome is not None:
            self._conclude(self._model.phase(gate.phase), gate, outcome, input.actor)

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
        counted = sum(1 for v in gate.votes if v.counted)
        advice = len(gate.votes) - counted
        self._rec.event(
            kind,
            before,
            after,
            actor=actor,
            payload={
                "round": gate.round,
                "votes": counted,
                **({"advice": advice} if advice else {}),
                "level": gate.level,
            },
        )
        deciding = next(
            (v for v in reversed(gate.votes) if (v.by or v.actor) == actor and v.counted), None
        )
        reason = deciding.comment if deciding is not None else None
        self._s.gate = None
        self._s.last_gate = GateOutcome(
            gate=before,
            round=gate.round,
            outcome=outcome,
            to_state=after,
            at=now,
            by=actor,
            comment=reason,
        )
        if after == "closed":
            outcome_of = "rejected" if outcome == "reject" else "closed"
            self._s.ended = Ending(
                outcome=outcome_of, by=actor, at=now, phase=gate.phase, comment=reason
            )
            self._ending(f"gate {before} closed the project ({outcome})", actor)
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
        self._d.close_tasks(gate, outcome)
        self._rec.notify(
            "decision",
            sorted({gate.requested_by, *self._charter.holders(self._model.board.executive)}),
            f"Gate {before} of {self._charter.title}: {outcome}",
            outcome=outcome,
            state=after,
        )
        self._upsert_search()
        self._decided(f"gate {before}: {outcome} ({after})")

    def drop(self) -> None:
        """The project leaves the gate undecided (closed early from an exception): the gate's
        tasks are withdrawn and it awaits nobody."""
        gate = self._s.gate
        if gate is not None:
            self._d.withdraw(gate)
            self._s.gate = None

    # -- checks and status ------------------------------------------------------------------

    def check_vote(self, input: DecideGateInput) -> None:
        """Whether ``input``'s actor may vote on the open gate now (the project checked that
        the project is active, the actor a person and a gate open)."""
        assert self._s.gate is not None
        self._d.check_vote(self._s.gate, input.actor, input.round, input.on_behalf_of)

    def status(self) -> GateStatus:
        assert self._s.gate is not None
        return self._d.status(self._s.gate)

    # -- tasks --------------------------------------------------------------------------------

    def _review_tasks(self, phase: Phase, gate: GateState) -> list[GateTaskIn]:
        key = self._d.key(gate)
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
        return tasks

    def current_tasks(self) -> list[GateTaskIn]:
        """The tasks that should be open now: the open gate's review tasks nobody completed,
        and a decide task for each person it still awaits (issued again after a Temporal
        reset)."""
        gate = self._s.gate
        if gate is None or self._machine.terminal:
            return []
        review = self._open_review_tasks(gate)
        copies = self._d.delegations.copies(review, workflow.now())
        return review + copies + self._d.awaited_tasks(gate)

    # -- review tasks people complete -------------------------------------------------------

    def check_complete(self, input: CompleteTaskInput) -> GateTaskIn:
        """The open review task ``input`` names, when its actor may complete it: the task's
        assignee, their substitute now (by the substitute's copy of it), or a project manager.
        Else a refusal saying why (the project checked that it is active and not held)."""
        roles = person_roles(self._charter, input.actor)
        original, _, copy = input.key.partition(FOR)
        substitute = copy.split("/", 1)[0]  # "erik", or "erik/d3" (Delegation.copy_suffix)
        task = self._open_review_task(original)
        if substitute:
            if substitute != input.actor:
                raise reject(
                    f"task {input.key} is {substitute}'s copy: only {substitute} completes it",
                    "NotAuthorised",
                )
            assert task.assignee is not None
            self._d.delegations.covering(input.actor, task.assignee)
            return task
        if input.actor != task.assignee and self._model.project_manager not in roles:
            raise reject(
                f'"{input.actor}" may not complete task "{task.title}" ({task.key}): only '
                f"its assignee, {task.assignee}, or the project manager "
                f"({self._model.project_manager}) may",
                "NotAuthorised",
            )
        return task

    def complete(self, input: CompleteTaskInput, task: GateTaskIn) -> None:
        """A step: ``task`` (what :meth:`check_complete` returned for ``input``) is done; the
        event says who finished it, and whose it was."""
        gate = self._s.gate
        assert gate is not None
        gate.tasks_done.append(self._local(gate, task.key))
        state = self._machine.state
        self._rec.event(
            EventKind.task_completed,
            state,
            state,
            actor=input.actor,
            role=task.role
            if input.actor == task.assignee or FOR in input.key
            else self._model.project_manager,
            comment=input.comment,
            payload={
                "task": task.key,
                "title": task.title,
                "assignee": task.assignee,
                "round": gate.round,
                # Done by the assignee's substitute (its copy): the event names both.
                **({"on_behalf_of": task.assignee} if FOR in input.key else {}),
            },
        )
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                keys=self._d.delegations.copy_keys([task.key]),
                at=workflow.now(),
                status="done",
            )
        )
        self._handled()

    def completable(self, actor: str) -> list[GateTaskIn]:
        """The open review tasks ``actor`` may complete now: their own; every one for a
        project manager; their copies of those of whom they stand in for now."""
        gate, person = self._s.gate, self._charter.person(actor)
        if gate is None or person is None or self._machine.terminal:
            return []
        manager = self._model.project_manager in person.roles
        review = self._open_review_tasks(gate)
        now = workflow.now()
        delegations = self._d.delegations
        covered = {
            d.delegator for d in delegations.current(now) if d.substitute == actor and d.active(now)
        }
        theirs = [t for t in review if t.assignee in covered]
        mine = [t for t in review if manager or t.assignee == actor]
        return mine + [c for c in delegations.copies(theirs, now) if c.assignee == actor]

    def _open_review_tasks(self, gate: GateState) -> list[GateTaskIn]:
        done = set(gate.tasks_done)
        tasks = self._review_tasks(self._model.phase(gate.phase), gate)
        return [t for t in tasks if self._local(gate, t.key) not in done]

    def _local(self, gate: GateState, key: str) -> str:
        """``task<i>/<person>``: a review task's key within its gate's group."""
        return key.removeprefix(f"{self._d.key(gate)}/")

    def _open_review_task(self, key: str) -> GateTaskIn:
        gate = self._s.gate
        if gate is not None:
            for task in self._review_tasks(self._model.phase(gate.phase), gate):
                if task.key == key:
                    if self._local(gate, key) in gate.tasks_done:
                        raise reject(f'task "{task.title}" ({key}) is already done', "TaskClosed")
                    return task
        decide = _DECIDE_TASK.match(key)
        if decide is not None:
            hint = _DECIDE_HINT[decide["kind"]]
            what = "advice, done when you advise" if decide["what"] == "advise" else "a decision"
            done = "" if decide["what"] == "advise" else ", done when you decide"
            raise reject(f"task {key} is {what}{done}: {hint}", "DecideTask")
        iteration = _ITERATION_TASK.match(key)
        if iteration is not None:
            raise reject(
                f"task {key} is iteration {iteration['number']}'s: it is done by the "
                "iteration's own steps, not completed by hand",
                "IterationTask",
            )
        where = "" if gate is not None else f" (no gate is open: it is in {self._machine.state})"
        raise reject(
            f"no open review task {key} in project {self._charter.id}{where}", "UnknownTask"
        )
