"""How a project's decisions are kept: one mechanism for phase gates, formal changes and
exceptions (DESIGN.md, "one decision mechanism").

A decision is a question put to eligible people, counted by a rule (governance's tally: all,
majority, at least N, required roles as a veto, four eyes), with an SLA, a reminder and an
escalation chain. Several can be open at once on one project (a gate and two changes), each
with its own clock. This module keeps their bookkeeping: votes, tally, status, reminders,
escalation, decide tasks. What a decision *does* once taken (move the lifecycle, re-baseline,
resolve an exception) belongs to its kind: workflows/_gates.py, _changes.py, _exceptions.py.

A rule's ``consult`` roles advise: their holders get an advise task and vote like the
approvers, and the vote is recorded (``counted`` false) and shown but never counted; once the
decision has escalated, the level decides and advice is no longer taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import (
        AtLeast,
        DecisionRule,
        EscalationLevel,
        Tally,
        advisers,
        escalation_deciders,
        gate_voters,
        tally,
    )
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        CloseTasksInput,
        DecisionState,
        Escalation,
        GateStatus,
        Vote,
    )
    from workflows._delegation import Delegations
    from workflows._steps import Part, Project, first, iso, person_roles, reject

OPTIONS = {
    "gate": "approve, reject or rework",
    "change": "approve or reject",
    "exception": "approve a plan, widen the tolerance or close the project",
}


class Decisions(Part):
    """The open decisions of one project: its gate (``state.gate``), its changes' and its
    exception's (``state.control``)."""

    def __init__(
        self,
        project: Project,
        *,
        on_escalated: Callable[[DecisionState, EscalationLevel | None], None],
        delegations: Delegations,
    ) -> None:
        super().__init__(project)
        self._on_escalated = on_escalated
        self.delegations = delegations

    # -- which decisions, and by what rule -----------------------------------------------------

    def open_ones(self) -> Iterator[DecisionState]:
        """Every open decision: the gate first, then changes in order, then the exception."""
        if self._s.gate is not None:
            yield self._s.gate
        control = self._s.control
        if control is not None:
            for change in control.changes:
                if change.decision is not None:
                    yield change.decision
            if control.exception is not None and control.exception.decision is not None:
                yield control.exception.decision
            for package in control.packages.values():
                if package.exception is not None and package.exception.decision is not None:
                    yield package.exception.decision

    def rule(self, d: DecisionState) -> DecisionRule:
        """The rule ``d`` is counted by: the gate's; the model's change authority (the
        project manager's own rule for a minor change someone else asked for); for an
        exception, the role of the level holding it, deciding alone."""
        if d.kind == "gate":
            return self._model.phase(d.phase).gate
        if d.kind == "change":
            # The requester never approves their own change, whatever the model says.
            minor = self._change(d).classification == "minor"
            rule = self.manager_rule() if minor else self._model.change_rule()
            return rule.model_copy(update={"forbid_self_approval": True})
        assert d.level is not None
        # Whoever's report or vote raised it may decide it at their level: four eyes over a
        # change waiting on it is kept by the exception's own check.
        rule = self.level_rule(self._model.level(d.level))
        return rule.model_copy(update={"forbid_self_approval": self._of_package(d)})

    def _of_package(self, d: DecisionState) -> bool:
        """Whether exception ``d`` is a work package's: decided at the level of whoever may
        report it (the project manager's), so its reporter is kept out (four eyes)."""
        control = self._s.control
        return control is not None and any(
            p.exception is not None and p.exception.id == d.id for p in control.packages.values()
        )

    def manager_rule(self) -> DecisionRule:
        pm = next(lvl for lvl in self._model.escalation if lvl.role == self._model.project_manager)
        return self.level_rule(pm)

    def level_rule(self, level: EscalationLevel) -> DecisionRule:
        above = self._model.level_above(level.id)
        return DecisionRule(
            approvers=[level.role],
            rule=AtLeast(at_least=1),
            sla=level.sla,
            escalate_to=above.id if above is not None else None,
        )

    def name(self, d: DecisionState) -> str:
        """How messages name ``d``: ``gate delivery_1_gate``, ``change CR-2``."""
        if d.kind == "gate":
            return f"gate {self._model.phase(d.phase).gate_state}"
        return f"{d.kind} {d.id}"

    def title(self, d: DecisionState) -> str:
        if d.kind == "gate":
            phase = self._model.phase(d.phase)
            return phase.gate.title or phase.gate_state
        if d.kind == "change":
            return f"Change {d.id}: {self._change(d).title}"
        return f"Exception {d.id}"

    def _change(self, d: DecisionState):  # type: ignore[no-untyped-def]
        assert self._s.control is not None
        return next(c for c in self._s.control.changes if c.id == d.id)

    # -- opening and voting --------------------------------------------------------------------

    def new(
        self,
        kind: str,
        *,
        id: str | None,
        phase: str,
        requested_by: str,
        round: int = 1,
        level: EscalationLevel | None = None,
        rule: DecisionRule | None = None,
    ) -> DecisionState:
        """A decision opened now: at ``level`` (an exception goes straight to the level that
        decides it), else by ``rule`` with its SLA and reminder."""
        now = workflow.now()
        if level is not None:
            deadline = now + level.sla
            return DecisionState(
                kind=kind,
                id=id,
                phase=phase,
                round=round,
                opened_at=now,
                requested_by=requested_by,
                deadline=deadline,
                level=level.id,
            )
        assert rule is not None
        return DecisionState(
            kind=kind,
            id=id,
            phase=phase,
            round=round,
            opened_at=now,
            requested_by=requested_by,
            deadline=now + rule.sla,
            reminder_at=now + rule.reminder if rule.reminder else None,
        )

    def vote(
        self,
        d: DecisionState,
        actor: str,
        decision: str,
        comment: str | None,
        on_behalf_of: str | None = None,
    ) -> str | None:
        """A step: record ``actor``'s vote on ``d`` (an adviser's as advice, not counted), or,
        with ``on_behalf_of``, the vote ``actor`` casts as that person's substitute (theirs in
        the tally; the event names both); the outcome once the rule is met (the caller
        concludes it, then calls :meth:`close_tasks`), else None."""
        now = workflow.now()
        voter = on_behalf_of or actor
        person = self._charter.person(voter)
        assert person is not None
        advice = self.advises(d, voter)
        vote = Vote(
            actor=voter,
            roles=list(person.roles),
            decision=decision,
            comment=comment,
            at=now,
            level=self.deciding_level(d, voter),
            by=actor if on_behalf_of is not None else None,
            counted=not advice,
        )
        d.votes.append(vote)
        behalf: dict[str, object] = {}
        if on_behalf_of is not None:
            delegation = self.delegations.covering(actor, on_behalf_of)
            behalf = {"on_behalf_of": on_behalf_of, "delegation": delegation.id}
        state = self._machine.state
        self._rec.event(
            EventKind.vote_cast,
            state,
            state,
            actor=actor,
            role=self._consult_role(d, voter) if advice else first(person.roles),
            comment=comment,
            payload={
                "decision": decision,
                "round": d.round,
                "level": vote.level,
                # Only advice says so: a counted vote's event stays as it always was.
                **({"counted": False} if advice else {}),
                **behalf,
                **self._about(d),
            },
        )
        result = self.tally(d)
        if result.outcome is None:
            keys = self.delegations.copy_keys([self._vote_key(d, vote)])
            self._rec.close(CloseTasksInput(project_id=self._charter.id, keys=keys, at=now))
        return result.outcome

    def advisers(self, d: DecisionState) -> list[str]:
        """Who advises on ``d``: the holders of its rule's ``consult`` roles who hold none of
        its approver roles, less its requester under four eyes."""
        return advisers(self.rule(d), self._charter, d.requested_by)

    def advises(self, d: DecisionState, actor: str) -> bool:
        """Whether a vote of ``actor``'s on ``d`` now is advice: ``d`` is still with its
        approvers (advice ends when it escalates) and ``actor`` is one of its advisers."""
        return d.level is None and actor in self.advisers(d)

    def _consult_role(self, d: DecisionState, actor: str) -> str | None:
        """The role ``actor`` advises on ``d`` in: the first of theirs the rule consults."""
        consult = self.rule(d).consult
        return first([r for r in person_roles(self._charter, actor) if r in consult])

    def close_tasks(self, d: DecisionState, outcome: str) -> None:
        """``d`` is decided: its voters' decide tasks are done; those still open (people who
        did not vote, review tasks nobody finished) are withdrawn: nobody needs them now."""
        now = workflow.now()
        voted = self.delegations.copy_keys(self._vote_key(d, v) for v in d.votes)
        group = self.key(d)
        self._rec.close(
            CloseTasksInput(project_id=self._charter.id, gate=group, keys=voted, at=now,
                            status="done")
        )  # fmt: skip
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                gate=group,
                at=now,
                status="withdrawn" if outcome in ("approve", "approve_plan") else "cancelled",
            )
        )

    def withdraw(self, d: DecisionState) -> None:
        """``d`` ends undecided (its change withdrawn, its project closing): tasks withdrawn."""
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id, gate=self.key(d), at=workflow.now(), status="withdrawn"
            )
        )

    # -- timers: reminder and SLA escalation -------------------------------------------------

    def deadlines(self) -> list[datetime]:
        """When the open decisions next need attention: reminders, SLAs."""
        times: list[datetime] = []
        for d in self.open_ones():
            if d.reminder_at is not None and not d.reminded:
                times.append(d.reminder_at)
            if d.deadline is not None:
                times.append(d.deadline)
        return times

    def on_timer(self, now: datetime) -> None:
        """A timer step: remind those still awaited, escalate once an SLA has passed."""
        for d in list(self.open_ones()):
            if not d.reminded and d.reminder_at and now >= d.reminder_at:
                d.reminded = True
                status = self.status(d)
                awaited, advice = status.awaited, status.advice_awaited
                self._rec.event(
                    EventKind.reminder_sent,
                    self._machine.state,
                    self._machine.state,
                    payload={
                        "awaited": awaited,
                        **({"advice_awaited": advice} if advice else {}),
                        "deadline": iso(d.deadline),
                        **self._about(d),
                    },
                )
                what = self.name(d) if d.kind != "gate" else f"gate {self._machine.state}"
                self._rec.notify(
                    "reminder",
                    awaited,
                    f"Reminder: {what} awaits your decision",
                    deadline=iso(d.deadline),
                )
                self._rec.notify(
                    "reminder", advice, f"Reminder: {what} awaits your advice",
                    deadline=iso(d.deadline),
                )  # fmt: skip
            if d.deadline is not None and now >= d.deadline:
                self._escalate(d, now)

    def shift(self, by: timedelta) -> None:
        """Clocks stop while the project is held: every open decision's deadlines move."""
        for d in self.open_ones():
            if d.deadline is not None:
                d.deadline += by
            if d.overdue_since is not None:
                d.overdue_since += by
            if d.reminder_at is not None:
                d.reminder_at += by
            if d.escalations and d.escalations[-1].deadline is not None:
                d.escalations[-1].deadline += by

    def _escalate(self, d: DecisionState, now: datetime) -> None:
        rule = self.rule(d)
        if d.level is None:
            target = self._model.level(rule.escalate_to) if rule.escalate_to else None
        else:
            target = self._model.level_above(d.level)
        skipped = False
        # A level where four eyes leaves nobody (its only holder asked for the decision) is
        # passed over: the decision goes on up, or stays where someone can take it.
        while target is not None and not escalation_deciders(
            rule, target, self._charter, d.requested_by
        ):
            target, skipped = self._model.level_above(target.id), True
        where = self._machine.state
        if target is None:
            # Top of the chain: nobody above; keep waiting (overdue) and say so once.
            d.overdue_since, d.deadline = d.deadline, None
            self._rec.event(
                EventKind.escalated,
                where,
                where,
                payload={
                    "from_level": d.level,
                    "to_level": None,
                    "note": "SLA passed; nobody above may decide it (four eyes): it stays "
                    "where it is"
                    if skipped
                    else "SLA passed at the top of the escalation chain",
                    **self._about(d),
                },
            )
            self._on_escalated(d, None)
            return
        deadline = now + target.sla
        self._rec.event(
            EventKind.escalated,
            where,
            where,
            role=target.role,
            payload={
                "from_level": d.level,
                "to_level": target.id,
                "deadline": iso(deadline),
                **self._about(d),
            },
        )
        # The decision leaves the approvers and advisers (and the level below): their decide
        # and advise tasks are withdrawn; the escalated level decides now, and its people get
        # a decide task.
        before = list(dict.fromkeys([None, *(e.level for e in d.escalations), d.level]))
        people = [p.id for p in self._charter.people]
        advising = self.advisers(d) if d.level is None else []
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                gate=self.key(d),
                keys=self.delegations.copy_keys(
                    [self._decide_key(d, p, lvl) for lvl in before for p in people]
                    + [self._advise_key(d, p) for p in advising]
                ),
                at=now,
                status="withdrawn",
            )
        )
        d.escalations.append(Escalation(level=target.id, at=now, deadline=deadline))
        d.level = target.id
        d.deadline = deadline
        self._rec.open(self.decide_tasks(d, self._charter.holders(target.role), now, target.id))
        self._rec.notify(
            "escalation",
            self._charter.holders(target.role),
            f"Escalated to you: {self._escalated_what(d)} of {self._charter.title}",
            level=target.id,
            deadline=iso(deadline),
        )
        self._on_escalated(d, target)

    def _escalated_what(self, d: DecisionState) -> str:
        return f"gate {self._machine.state}" if d.kind == "gate" else self.name(d)

    # -- checks and status ------------------------------------------------------------------

    def check_vote(
        self,
        d: DecisionState,
        actor: str,
        round: int | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """Whether ``actor`` may vote on ``d`` now (the caller checked that the project is
        active and ``actor`` a person); with ``on_behalf_of``, whether ``actor`` may cast that
        person's vote as their substitute now."""
        name = self.name(d)
        if on_behalf_of is not None:
            self.delegations.covering(actor, on_behalf_of)
            if actor == d.requested_by:
                raise reject(
                    f'four eyes: "{actor}" requested {name} and may not decide it, also not '
                    f'for "{on_behalf_of}"',
                    "SelfApproval",
                )
            voter = on_behalf_of
        else:
            voter = actor
        level = self.deciding_level(d, voter)
        cast = next((v for v in d.votes if (v.by or v.actor) == actor and v.level == level), None)
        if cast is not None and (cast.by is not None or on_behalf_of is not None):
            whose = f"for {cast.actor}" if cast.by is not None else "for themselves"
            raise reject(
                f'"{actor}" has voted on {name} {whose} already (round {d.round}): one person, '
                "one vote per decision, also when standing in for someone",
                "DuplicateVote",
            )
        self._check_vote(d, voter, round)

    def _check_vote(self, d: DecisionState, actor: str, round: int | None) -> None:
        name = self.name(d)
        if round is not None and round != d.round:
            raise reject(
                f"the vote is for round {round} of {name}, but round {d.round} is open: look "
                f"at the {d.kind} again and vote on this round",
                "StaleVote",
            )
        status = self.status(d)
        advice = self.advises(d, actor)
        if actor not in status.eligible and not advice:
            rule = self.rule(d)
            escalated = self._model.level(d.level) if d.level is not None else None
            deciders = (
                gate_voters(rule, self._charter)
                if escalated is None
                else escalation_deciders(rule, escalated, self._charter)
            )
            adviser = actor in advisers(rule, self._charter)
            if actor in deciders or (adviser and escalated is None):
                # left out only because they requested it
                raise reject(
                    f'four eyes: "{actor}" requested {name} and may not '
                    f"{'advise on' if adviser and actor not in deciders else 'decide'} it "
                    f"({OPTIONS[d.kind]})",
                    "SelfApproval",
                )
            if escalated is None:
                advise = f"; {', '.join(rule.consult)} advise" if rule.consult else ""
                who = f"approvers are {', '.join(rule.approvers)}{advise}"
            elif not d.escalations:  # an exception, with the level it went to first
                who = f"it is with level {escalated.id}, where only {escalated.role} decides it"
            else:
                who = (
                    f"it has escalated to level {escalated.id}, where only {escalated.role} "
                    "decides it"
                )
                if adviser:
                    who += ", and advice is no longer taken"
            raise reject(f'"{actor}" may not decide {name}: {who}', "NotAuthorised")
        level = self.deciding_level(d, actor)
        if any(v.actor == actor and v.level == level for v in d.votes):
            at = f" at level {level}" if level else ""
            done = "given advice on" if advice else "decided"
            raise reject(
                f'"{actor}" has already {done} {name}{at} (round {d.round})', "DuplicateVote"
            )

    def status(self, d: DecisionState) -> GateStatus:
        rule = self.rule(d)
        result = self.tally(d)
        eligible = result.eligible
        voted = {(v.actor, v.level) for v in d.votes}
        advising = self.advisers(d)
        gate = self._model.phase(d.phase).gate if d.kind == "gate" else None
        shown = rule.rule if isinstance(rule.rule, str) else f"at_least {rule.rule.at_least}"
        return GateStatus(
            kind=d.kind,
            id=d.id,
            gate=self._model.phase(d.phase).gate_state if d.kind == "gate" else self.name(d),
            phase=d.phase,
            title=self.title(d),
            round=d.round,
            opened_at=d.opened_at,
            requested_by=d.requested_by,
            rule=shown,
            approvals_needed=result.needed,
            approvals=result.approvals,
            required=list(rule.required),
            required_missing=result.required_missing,
            eligible=eligible,
            votes=list(d.votes),
            awaited=[p for p in eligible if (p, self.deciding_level(d, p)) not in voted],
            deliverables=list(gate.deliverables) if gate is not None else [],
            deadline=d.deadline,
            reminder_at=d.reminder_at,
            level=d.level,
            escalations=list(d.escalations),
            reminded=d.reminded,
            overdue_since=d.overdue_since,
            advisers=advising,
            advice_awaited=[p for p in advising if (p, None) not in voted]
            if d.level is None
            else [],
        )

    def deciding_level(self, d: DecisionState, actor: str) -> str | None:
        """The escalation level ``actor`` decides ``d`` at (deciding alone), or None for a
        vote. Once a decision is escalated, the level it went to has taken it over: only the
        holders of that level's role decide it (also when they are approvers too)."""
        if d.level is not None and self._model.level(d.level).role in set(
            person_roles(self._charter, actor)
        ):
            return d.level
        return None

    def tally(self, d: DecisionState) -> Tally:
        level = self._model.level(d.level) if d.level is not None else None
        return tally(self.rule(d), self._charter, d.votes, d.requested_by, level)

    # -- tasks --------------------------------------------------------------------------------

    def key(self, d: DecisionState) -> str:
        """The decision's task group: ``<phase>_gate/<round>``, ``change/CR-1``,
        ``exception/EX-1`` (after a reset, prefixed with its epoch)."""
        epoch = f"e{self._s.task_epoch}/" if self._s.task_epoch else ""
        if d.kind == "gate":
            return f"{epoch}{d.phase}_gate/{d.round}"
        return f"{epoch}{d.kind}/{d.id}"

    def _decide_key(self, d: DecisionState, person: str, level: str | None = None) -> str:
        at = f"/{level}" if level else ""
        return f"{self.key(d)}{at}/decide/{person}"

    def _advise_key(self, d: DecisionState, person: str) -> str:
        return f"{self.key(d)}/advise/{person}"

    def _vote_key(self, d: DecisionState, vote: Vote) -> str:
        """The task ``vote`` answered: its actor's advise task, or decide task (at its level)."""
        if not vote.counted:
            return self._advise_key(d, vote.actor)
        return self._decide_key(d, vote.actor, vote.level)

    def decide_tasks(
        self, d: DecisionState, people: list[str], at: datetime, level: str | None = None
    ) -> list[GateTaskIn]:
        deciders = self.tally(d).eligible  # never the requester under four eyes
        if d.kind == "gate":
            title = f"Decide gate: {self.title(d)} (round {d.round})"
        else:
            title = f"Decide {self.title(d)}"
        tasks = [
            GateTaskIn(
                project_id=self._charter.id,
                key=self._decide_key(d, person, level),
                title=title,
                assignee=person,
                role=first(person_roles(self._charter, person)),
                gate=self.key(d),
                due=d.deadline,
                created_at=at,
            )
            for person in people
            if person in deciders
        ]
        return tasks + self._copies(d, tasks)

    def _copies(self, d: DecisionState, tasks: list[GateTaskIn]) -> list[GateTaskIn]:
        """The substitutes' copies of ``tasks``: none for an exception, whose level decides it
        itself (a substitute does not vote on one)."""
        if d.kind == "exception":
            return []
        return self.delegations.copies(tasks, workflow.now())

    def advise_tasks(self, d: DecisionState, people: list[str], at: datetime) -> list[GateTaskIn]:
        """An advise task for each of ``people`` who advises on ``d``: "Advise on gate: ..."."""
        advising = self.advisers(d) if d.level is None else []
        if d.kind == "gate":
            title = f"Advise on gate: {self.title(d)} (round {d.round})"
        else:
            title = f"Advise on {self.title(d)}"
        tasks = [
            GateTaskIn(
                project_id=self._charter.id,
                key=self._advise_key(d, person),
                title=title,
                assignee=person,
                role=self._consult_role(d, person),
                gate=self.key(d),
                due=d.deadline,
                created_at=at,
            )
            for person in people
            if person in advising
        ]
        return tasks + self._copies(d, tasks)

    def awaited_tasks(self, d: DecisionState) -> list[GateTaskIn]:
        """Decide and advise tasks for everyone ``d`` still awaits (issued again after a
        reset)."""
        status = self.status(d)
        voters = [p for p in status.awaited if not self.deciding_level(d, p)]
        issued = self.decide_tasks(d, voters, d.opened_at)
        issued += self.advise_tasks(d, status.advice_awaited, d.opened_at)
        if d.level is not None:
            people = [p for p in status.awaited if self.deciding_level(d, p) == d.level]
            issued += self.decide_tasks(d, people, workflow.now(), d.level)
        return issued

    def _about(self, d: DecisionState) -> dict[str, str]:
        """What an event says about a decision that is not a gate (a gate's events stay as
        they were before there were other kinds)."""
        if d.kind == "gate" or d.id is None:
            return {}
        return {"decision_kind": d.kind, "decision_id": d.id}
