"""Substitute approvers: a person lets another decide for them within a window
(``phasegate delegate``).

Within the window the substitute may cast the delegator's vote on any open gate or change, in
the delegator's roles and at the delegator's level; the vote is the delegator's in the tally
(``Vote.actor``) and says who cast it (``Vote.by``); its ``vote_cast`` event has the substitute
as actor and the delegator as ``on_behalf_of``. Four eyes holds for both: the substitute votes
for nobody on a decision they requested, and for the requester never (the requester has no
vote to hand on). One person, one vote per decision: whoever casts a vote (for themselves or
for someone) casts no other on the same decision at the same level.

While a delegation lasts, the delegator's decide, advise and review tasks (not an exception's)
have a copy in the substitute's inbox (key ``<task>/for/<substitute>``), closed with the
original; when the window passes (a timer) or the delegation is revoked, the copies still open
are withdrawn.

The model says who may stand in (``delegation: {allowed, within_roles}``); every grant, revoke
and end is an event in the project's ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from governance.audit import EventKind, GateTaskIn
    from governance.messages import (
        CloseTasksInput,
        DelegateInput,
        Delegation,
        RevokeDelegationInput,
    )
    from workflows._steps import Part, Project, iso, person_roles, reject

FOR = "/for/"
"""A substitute's copy of a task: ``<the task's key>/for/<substitute>``, and ``/d<id>`` after it
for a delegation to a substitute the delegator had delegated to before."""


class Delegations(Part):
    """The delegations of one project (``state.delegations``)."""

    def __init__(self, project: Project, *, tasks_now: Callable[[], list[GateTaskIn]]) -> None:
        super().__init__(project)
        self._tasks_now = tasks_now
        """The tasks that should be open now (the gate's review tasks nobody finished, the
        decide and advise tasks of every open decision)."""

    # -- granting and revoking ------------------------------------------------------------------

    def check_grant(self, input: DelegateInput) -> None:
        """Whether ``input.actor`` may delegate to ``input.to`` for that window now."""
        policy = self._model.delegation
        person_roles(self._charter, input.actor)
        if not policy.allowed:
            raise reject(
                f"the model {self._model.ref} does not allow delegation: nobody may decide "
                "for someone else on its projects",
                "DelegationNotAllowed",
            )
        if input.to == input.actor:
            raise reject(f'"{input.actor}" cannot delegate to themselves', "InvalidDelegation")
        substitute = self._charter.person(input.to)
        if substitute is None:
            raise reject(
                f'"{input.to}" is not a person in the charter of {self._charter.id}: a '
                "substitute must be named in the charter",
                "UnknownActor",
            )
        if policy.within_roles and not set(substitute.roles) & set(policy.within_roles):
            raise reject(
                f'"{input.to}" has no standing to decide for others: the model lets only '
                f"holders of {', '.join(policy.within_roles)} stand in "
                f"({input.to} holds {', '.join(substitute.roles) or 'no role'})",
                "NoStanding",
            )
        for option, at in (("--from", input.starts_at), ("--until", input.ends_at)):
            try:
                at.astimezone(UTC)
            except OverflowError:
                # In the year 0 or 10000 in UTC: no ledger, history or calendar can show it.
                raise reject(
                    f"the delegation's {option} {at.isoformat()} is out of range: it has no "
                    "time in UTC",
                    "InvalidDelegation",
                ) from None
        now = workflow.now()
        if input.ends_at <= input.starts_at:
            raise reject(
                f"the delegation ends ({iso(input.ends_at)}) before it starts "
                f"({iso(input.starts_at)}): --until must come after --from",
                "InvalidDelegation",
            )
        if input.ends_at <= now:
            raise reject(
                f"the delegation would end at {iso(input.ends_at)}, which has passed (it is "
                f"{iso(now)}): a delegation covers a time to come",
                "InvalidDelegation",
            )
        for d in self.current(now):
            if (
                d.delegator == input.actor
                and d.starts_at < input.ends_at
                and (input.starts_at < d.ends_at)
            ):
                raise reject(
                    f'"{input.actor}" has delegated to {d.substitute} from {iso(d.starts_at)} '
                    f"until {iso(d.ends_at)} already (delegation {d.id}): one substitute at a "
                    "time; revoke it first",
                    "DelegationOverlaps",
                )
            if d.delegator == input.to and d.substitute == input.actor:
                raise reject(
                    f'"{input.to}" has delegated to "{input.actor}" (delegation {d.id}): a '
                    "substitute cannot hand the decisions back while standing in",
                    "InvalidDelegation",
                )

    def grant(self, input: DelegateInput) -> Delegation:
        """A step: record the delegation; the substitute gets a copy of the delegator's open
        decide and advise tasks, and is told."""
        now = workflow.now()
        new_id = len(self._s.delegations) + 1
        again = any(
            d.delegator == input.actor and d.substitute == input.to for d in self._s.delegations
        )
        # The copies of an earlier delegation to the same substitute keep their keys in the
        # ledger (withdrawn); this one's need keys of their own, or the inbox gets no copy.
        suffix = f"/d{new_id}" if again and workflow.patched("delegation-copy-keys") else ""
        delegation = Delegation(
            id=new_id,
            copy_suffix=suffix,
            delegator=input.actor,
            substitute=input.to,
            roles=person_roles(self._charter, input.actor),
            # A window that began before it was granted starts now: nothing is retroactive.
            starts_at=max(input.starts_at, now),
            ends_at=input.ends_at,
            reason=input.comment,
            granted_at=now,
        )
        self._s.delegations.append(delegation)
        state = self._machine.state
        self._rec.event(
            EventKind.delegation_granted,
            state,
            state,
            actor=input.actor,
            role=delegation.roles[0] if delegation.roles else None,
            comment=input.comment,
            payload={
                "delegation": delegation.id,
                "delegator": delegation.delegator,
                "substitute": delegation.substitute,
                "roles": delegation.roles,
                "starts_at": iso(delegation.starts_at),
                "ends_at": iso(delegation.ends_at),
            },
        )
        self._rec.notify(
            "task_assigned",
            [delegation.substitute],
            f"{self._charter.title}: you decide for {delegation.delegator} from "
            f"{iso(delegation.starts_at)} until {iso(delegation.ends_at)}",
            delegation=delegation.id,
        )
        return delegation

    def check_revoke(self, input: RevokeDelegationInput) -> Delegation:
        person_roles(self._charter, input.actor)
        found = next((d for d in self._s.delegations if d.id == input.delegation_id), None)
        if found is None:
            raise reject(
                f"project {self._charter.id} has no delegation {input.delegation_id}",
                "UnknownDelegation",
            )
        if input.actor not in (found.delegator, found.substitute):
            raise reject(
                f'"{input.actor}" may not revoke delegation {found.id}: only its delegator '
                f"({found.delegator}) or its substitute ({found.substitute}) may",
                "NotAuthorised",
            )
        if found.revoked_at is not None or found.expired or found.ends_at <= workflow.now():
            raise reject(f"delegation {found.id} has ended already", "DelegationEnded")
        return found

    def revoke(self, input: RevokeDelegationInput) -> None:
        """A step: the delegation ends now; the substitute's task copies are withdrawn."""
        d = self.check_revoke(input)
        now = workflow.now()
        d.revoked_at, d.revoked_by = now, input.actor
        self._end(d, EventKind.delegation_revoked, now, actor=input.actor, comment=input.comment)

    def _end(
        self,
        d: Delegation,
        kind: EventKind,
        now: datetime,
        *,
        actor: str | None = None,
        comment: str | None = None,
    ) -> None:
        state = self._machine.state
        self._rec.event(
            kind,
            state,
            state,
            actor=actor,
            comment=comment,
            payload={
                "delegation": d.id,
                "delegator": d.delegator,
                "substitute": d.substitute,
            },
        )
        self._rec.close(
            CloseTasksInput(
                project_id=self._charter.id,
                keys=[self._copy(t, d).key for t in self._tasks_now() if t.assignee == d.delegator],
                at=now,
                status="withdrawn",
            )
        )

    # -- timers -------------------------------------------------------------------------------

    def deadlines(self) -> list[datetime]:
        """When a delegation not yet ended runs out."""
        return [d.ends_at for d in self._s.delegations if d.revoked_at is None and not d.expired]

    def on_timer(self, now: datetime) -> None:
        for d in self._s.delegations:
            if d.revoked_at is None and not d.expired and now >= d.ends_at:
                d.expired = True
                self._end(d, EventKind.delegation_ended, now)

    # -- votes --------------------------------------------------------------------------------

    def covering(self, substitute: str, delegator: str) -> Delegation:
        """The delegation that lets ``substitute`` decide for ``delegator`` now, or a refusal
        saying why there is none."""
        now = workflow.now()
        theirs = [
            d
            for d in self._s.delegations
            if d.delegator == delegator and d.substitute == substitute
        ]
        for d in theirs:
            if d.active(now):
                return d
        if self._charter.person(delegator) is None:
            raise reject(
                f'"{delegator}" is not a person in the charter of {self._charter.id}',
                "UnknownActor",
            )
        if not theirs:
            raise reject(
                f'"{substitute}" may not decide for "{delegator}": {delegator} has not '
                "delegated to them",
                "NotDelegated",
            )
        last = theirs[-1]
        if last.revoked_at is not None:
            why = f"it was revoked at {iso(last.revoked_at)} by {last.revoked_by}"
        elif now < last.starts_at:
            why = "it has not started yet"
        else:
            why = f"it ended at {iso(last.ends_at)}"
        raise reject(
            f'"{substitute}" may not decide for "{delegator}" now (it is {iso(now)}): '
            f"delegation {last.id} runs from {iso(last.starts_at)} until {iso(last.ends_at)}, "
            f"and {why}",
            "OutsideDelegation",
        )

    # -- task copies --------------------------------------------------------------------------

    def current(self, now: datetime) -> list[Delegation]:
        """The delegations not yet ended (revoked or run out), also those still to begin."""
        return [
            d
            for d in self._s.delegations
            if d.revoked_at is None and not d.expired and now < d.ends_at
        ]

    def copies(self, tasks: Iterable[GateTaskIn], now: datetime) -> list[GateTaskIn]:
        """A copy of each of ``tasks`` whose assignee has delegated, for their substitute."""
        out: list[GateTaskIn] = []
        current = self.current(now)
        if not current:
            return out
        for t in tasks:
            for d in current:
                if t.assignee == d.delegator and FOR not in t.key:
                    out.append(self._copy(t, d))
        return out

    def _copy(self, t: GateTaskIn, d: Delegation) -> GateTaskIn:
        # The window's end is exclusive (the day after a --until date begins it): its instant,
        # not its date, which read as one day too many.
        return t.model_copy(
            update={
                "key": f"{t.key}{FOR}{d.substitute}{d.copy_suffix}",
                "title": f"{t.title} (for {d.delegator}, delegation {d.id} until {iso(d.ends_at)})",
                "assignee": d.substitute,
            }
        )

    def copy_keys(self, keys: Iterable[str]) -> list[str]:
        """``keys`` and the keys of every substitute's copy of them."""
        keys = list(keys)
        out = list(keys)
        for d in self._s.delegations:
            out += [
                f"{k}{FOR}{d.substitute}{d.copy_suffix}"
                for k in keys
                if k.endswith(f"/{d.delegator}")
            ]
        return out

    def status(self) -> list[Delegation]:
        return [d.model_copy() for d in self.current(workflow.now())]
