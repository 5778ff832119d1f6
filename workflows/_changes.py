"""How changes are decided (change control).

A change request is classified when it is made. Inside the project manager's thresholds
(``change_control.minor``: cost and time) and the change budget left, with no scope impact, it
is *minor*: the project manager decides it operationally (one step when they ask for it
themselves) and it is paid from the change budget. A minor change that would overdraw the
change budget raises an exception instead. Anything else is *formal*: the model's change
authority decides it by the same mechanism as a phase gate (workflows/_decisions.py), and an
approved formal change re-baselines the project. The requester never approves their own
change; several changes may be open at once, beside an open gate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance import Baseline, DecisionRule, gate_voters
    from governance.audit import EventKind
    from governance.messages import (
        MAX_OPEN_CHANGES,
        ChangeRecord,
        ChangeStatus,
        DecideChangeInput,
        RequestChangeInput,
    )
    from states import ChangeRequest, Classification
    from workflows._steps import Part, Project, first, iso, person_roles, reject

if TYPE_CHECKING:
    from workflows._control import Control
    from workflows._decisions import Decisions

MAX_CHANGES = 500
"""Change requests one project may make; the ledger keeps them all, the workflow this many."""


class Changes(Part):
    def __init__(
        self,
        project: Project,
        decisions: Decisions,
        control: Control,
    ) -> None:
        super().__init__(project)
        self._d = decisions
        self._control = control

    @property
    def _changes(self) -> list[ChangeRecord]:
        return self._control.c.changes

    # -- request ------------------------------------------------------------------------------

    def classify(self, input: RequestChangeInput) -> tuple[Classification, bool]:
        """("minor" | "formal", whether a minor one overdraws the change budget)."""
        minor = self._model.change_control.minor
        budget = float(self._control.c.baseline.budget)
        within = (
            input.cost_impact <= minor.max_cost / 100 * budget
            and input.time_impact <= minor.max_time
            and input.scope_impact == 0
        )
        if not within:
            return "formal", False
        return "minor", input.cost_impact > self._control.change_budget_left() + 1e-9

    def check_request(self, input: RequestChangeInput) -> None:
        person_roles(self._charter, input.actor)
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        closing = self._control.c.closing_early
        if closing is not None:
            raise reject(
                f"project {self._charter.id} is closing early (exception {closing} decided "
                "close): it takes no more changes",
                "ClosingEarly",
            )
        if len(self._changes) >= MAX_CHANGES:
            raise reject(
                f"project {self._charter.id} has made {MAX_CHANGES} change requests, the most "
                "one project may make; re-plan it as a new project or stage",
                "TooManyChanges",
            )
        open_now = sum(1 for c in self._changes if c.decision is not None)
        if open_now >= MAX_OPEN_CHANGES:
            raise reject(
                f"{open_now} changes are being decided; decide some before requesting more",
                "TooManyChanges",
            )
        scope = float(self._control.c.baseline.scope.amount)
        if scope + input.scope_impact <= 0:
            raise reject(
                f"scope_impact {input.scope_impact:g} would leave no scope (the baseline has "
                f"{scope:g} {self._control.c.baseline.scope.unit})",
                "InvalidChange",
            )
        classification, overdraws = self.classify(input)
        if classification == "formal":
            self.baseline_after(input)
        if classification == "formal" or (not overdraws and not self._is_manager(input.actor)):
            rule = self._rule_for(classification)
            deciders = gate_voters(rule, self._charter, input.actor)
            missing = [
                r for r in rule.required if not set(self._charter.holders(r)) - {input.actor}
            ]
            if not deciders or missing:
                raise reject(
                    f'nobody but "{input.actor}" could decide this {classification} change '
                    "(the requester never approves their own change)",
                    "NoDecider",
                )

    def _is_manager(self, actor: str) -> bool:
        return self._model.project_manager in person_roles(self._charter, actor)

    def request(self, input: RequestChangeInput) -> ChangeRecord:
        """A step: record the request and set it on its way (decided at once, put to its
        deciders, or referred to an exception)."""
        classification, overdraws = self.classify(input)
        number = len(self._changes) + 1
        machine = ChangeRequest()
        machine.classify(classification)
        machine.fire("assess")
        change = ChangeRecord(
            id=f"CR-{number}",
            title=input.title,
            reason=input.reason,
            cost_impact=input.cost_impact,
            time_impact=input.time_impact,
            scope_impact=input.scope_impact,
            requested_by=input.actor,
            requested_at=workflow.now(),
            classification=classification,
            machine=machine.to_dict(),
        )
        self._changes.append(change)
        state = self._machine.state
        roles = person_roles(self._charter, input.actor)
        self._rec.event(
            EventKind.change_requested,
            state,
            state,
            actor=input.actor,
            role=first(roles),
            comment=input.comment,
            payload={
                "id": change.id,
                "title": change.title,
                "reason": change.reason,
                "cost_impact": change.cost_impact,
                "time_impact_days": change.time_impact / timedelta(days=1),
                "scope_impact": change.scope_impact,
                "classification": classification,
                "change_budget_left": self._control.change_budget_left(),
            },
        )
        self._control.note(f"change {change.id} requested ({classification}): {change.title}")
        if classification == "minor" and overdraws:
            self._control.exceptions.change_overdraws(change, input.actor)
        elif classification == "minor" and self._model.project_manager in roles:
            self._conclude(change, "approve", input.actor, input.comment, operational=True)
        else:
            self._put(change)
        return change

    def _put(self, change: ChangeRecord) -> None:
        """Open the change's decision: its deciders get a task and are told."""
        change.decision = d = self._d.new(
            "change",
            id=change.id,
            phase=self._machine.phase or "",
            requested_by=change.requested_by,
            rule=self._rule_for(change.classification),
        )
        status = self._d.status(d)
        eligible = status.eligible
        self._rec.open(
            self._d.decide_tasks(d, eligible, d.opened_at)
            + self._d.advise_tasks(d, status.advisers, d.opened_at)
        )
        for people, awaits in ((eligible, "decision"), (status.advisers, "advice")):
            self._rec.notify(
                "change",
                people,
                f"Change {change.id} of {self._charter.title} awaits your {awaits}: {change.title}",
                deadline=iso(d.deadline),
                classification=change.classification,
            )

    def _rule_for(self, classification: str) -> DecisionRule:
        """A minor change: the project manager's; formal: the change authority's. Either way
        the requester never decides their own change."""
        rule = self._d.manager_rule() if classification == "minor" else self._model.change_rule()
        return rule.model_copy(update={"forbid_self_approval": True})

    # -- decide -------------------------------------------------------------------------------

    def find(self, change_id: str) -> ChangeRecord:
        change = next((c for c in self._changes if c.id == change_id), None)
        if change is None:
            known = ", ".join(c.id for c in self._changes[-10:]) or "none yet"
            raise reject(
                f"project {self._charter.id} has no change {change_id} (changes: {known})",
                "UnknownChange",
            )
        return change

    def check_decide(self, input: DecideChangeInput) -> None:
        person_roles(self._charter, input.actor)
        change = self.find(input.change_id)
        if self._machine.state == "on_hold":
            raise reject(f"project {self._charter.id} is on hold", "OnHold")
        if change.decision is None:
            state = ChangeRequest.from_dict(change.machine).state
            why = (
                f"it is referred to exception {change.exception}"
                if change.exception is not None and state == "assessed"
                else f"it is {state}"
            )
            raise reject(f"change {change.id} is not open for a decision: {why}", "ChangeNotOpen")
        self._d.check_vote(change.decision, input.actor, on_behalf_of=input.on_behalf_of)
        advice = self._d.advises(change.decision, input.on_behalf_of or input.actor)
        if input.decision == "approve" and change.classification == "formal" and not advice:
            self.baseline_after(change)  # other changes since may have made it invalid

    def decide(self, input: DecideChangeInput) -> None:
        change = self.find(input.change_id)
        assert change.decision is not None
        outcome = self._d.vote(
            change.decision, input.actor, input.decision, input.comment, input.on_behalf_of
        )
        if outcome is not None:
            self._conclude(change, outcome, input.actor, input.comment)

    def _conclude(
        self,
        change: ChangeRecord,
        outcome: str,
        actor: str,
        comment: str | None,
        *,
        operational: bool = False,
    ) -> None:
        """The change is decided: an approved one is taken on (a minor one is paid from the
        change budget, a formal one re-baselines), and the ledger says who decided."""
        machine = ChangeRequest.from_dict(change.machine)
        approved = outcome == "approve"
        machine.fire("approve" if approved else "reject")
        change.decided_by, change.decided_at = actor, workflow.now()
        change.decision_comment = comment
        state = self._machine.state
        self._rec.event(
            EventKind.change_decided,
            state,
            state,
            actor=actor,
            comment=comment,
            payload={
                "id": change.id,
                "outcome": "approved" if approved else "rejected",
                "classification": change.classification,
                "operational": operational,
            },
        )
        if change.decision is not None:
            self._d.close_tasks(change.decision, outcome)
            change.decision = None
        if approved:
            self.take_on(change, actor)
        change.machine = machine.to_dict()
        self._control.note(
            f"change {change.id} {'approved' if approved else 'rejected'} by {actor}"
        )
        self._rec.notify(
            "change",
            sorted({change.requested_by, *self._charter.holders(self._model.project_manager)}),
            f"Change {change.id} of {self._charter.title}: "
            f"{'approved' if approved else 'rejected'}",
            outcome=outcome,
        )
        self._control.evaluate(actor)

    def take_on(self, change: ChangeRecord, actor: str) -> None:
        if change.classification == "minor":
            self._control.c.minor_spent += change.cost_impact
            return
        self._control.rebaseline(self.baseline_after(change), {"change": change.id}, actor)

    def baseline_after(self, change: ChangeRecord | RequestChangeInput) -> Baseline:
        """The baseline a formal change makes (refused when it would not be a valid one)."""
        name = change.id if isinstance(change, ChangeRecord) else "the change"
        return self._control.new_baseline(
            add_budget=round(change.cost_impact, 4),
            add_days=change.time_impact.days,
            add_scope=change.scope_impact,
            what=f"approving {name}",
        )

    def settle_referred(self, exception_id: str, approved: bool, actor: str) -> None:
        """The exception a change was referred to is decided: the change is approved (the
        plan or the widened budget takes it) or withdrawn (the project closes)."""
        for change in self._changes:
            if change.exception != exception_id or change.decision is not None:
                continue
            machine = ChangeRequest.from_dict(change.machine)
            if machine.state != "assessed":
                continue
            if approved:
                self._conclude(change, "approve", actor, f"with exception {exception_id}")
            else:
                machine.fire("withdraw")
                change.machine = machine.to_dict()
                self._control.note(f"change {change.id} withdrawn with exception {exception_id}")

    def withdraw_open(self, reason: str, actor: str | None) -> None:
        """The project ends, or closes early: every change not yet decided is withdrawn, its
        decide tasks with it, and the ledger says so."""
        state = self._machine.state
        for change in self._changes:
            machine = ChangeRequest.from_dict(change.machine)
            if not machine.may("withdraw"):
                continue
            if change.decision is not None:
                self._d.withdraw(change.decision)
                change.decision = None
            machine.fire("withdraw")
            change.machine = machine.to_dict()
            self._rec.event(
                EventKind.change_decided,
                state,
                state,
                actor=actor,
                payload={"id": change.id, "outcome": "withdrawn", "reason": reason},
            )
            self._control.note(f"change {change.id} withdrawn: {reason}")

    # -- status -------------------------------------------------------------------------------

    def status(self, change: ChangeRecord) -> ChangeStatus:
        return ChangeStatus(
            id=change.id,
            title=change.title,
            reason=change.reason,
            cost_impact=change.cost_impact,
            time_impact=change.time_impact,
            scope_impact=change.scope_impact,
            requested_by=change.requested_by,
            requested_at=change.requested_at,
            classification=change.classification,
            state=ChangeRequest.from_dict(change.machine).state,
            decided_by=change.decided_by,
            decided_at=change.decided_at,
            decision_comment=change.decision_comment,
            exception=change.exception,
            decision=self._d.status(change.decision) if change.decision is not None else None,
        )
