"""Substitute approvers in the running workflow: a delegation's window, four eyes through it,
one vote per person, the model's standing rule, bad dates, and the ledger naming both."""

from __future__ import annotations

from datetime import datetime, timedelta

import governance as g
from governance.audit import EventKind
from phasegate import history, service
from tests.workflows.scenario import Project, Scenario, with_roles


async def now(p: Project) -> datetime:
    return await p.harness.env.get_current_time()


async def delegate(
    p: Project, actor: str, to: str, *, starts: timedelta, ends: timedelta, reason: str = "away"
):  # type: ignore[no-untyped-def]
    at = await now(p)
    st = await service.delegate(p.harness.client, p.pid, actor, to, at + starts, at + ends, reason)
    return await p.recorded(st)


async def vote_for(p: Project, actor: str, delegator: str, decision: str = "approve"):  # type: ignore[no-untyped-def]
    st = await service.decide_gate(p.harness.client, p.pid, actor, decision, on_behalf_of=delegator)
    return await p.recorded(st)


def with_delegation(model: g.GovernanceModel, **policy: object) -> g.GovernanceModel:
    data = model.model_dump(mode="json")
    data["delegation"] = policy
    return g.GovernanceModel.model_validate(data)


async def test_substitute_decides_within_the_window_and_is_refused_before_and_after_it(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await delegate(p, "anna", "erik", starts=timedelta(days=1), ends=timedelta(days=3))
    [d] = st.delegations
    assert (d.id, d.delegator, d.substitute, d.roles) == (1, "anna", "erik", ["bestallare"])
    await p.request("david")
    # erik has a copy of anna's decide task in his inbox, marked as hers.
    copy = next(t for t in p.tasks(assignee="erik") if t.key.endswith("/decide/anna/for/erik"))
    assert copy.status == "open" and "for anna" in copy.title

    msg = await p.refused(lambda: vote_for(p, "erik", "anna"), "OutsideDelegation")
    assert "and it has not started yet" in msg  # its start said once, not twice
    await p.refused(lambda: vote_for(p, "bo", "anna"), "NotDelegated")

    await p.sleep(days=1, hours=1)
    st = await vote_for(p, "erik", "anna")
    assert st.gate is not None and st.gate.approvals == 1 and st.gate.awaited == ["bo"]
    [vote] = st.gate.votes
    assert (vote.actor, vote.by, vote.roles) == ("anna", "erik", ["bestallare"])
    cast = p.of_kind(EventKind.vote_cast)[-1]
    assert cast.actor == "erik" and cast.role == "bestallare"
    assert cast.payload["on_behalf_of"] == "anna" and cast.payload["delegation"] == 1
    assert history.phrase(cast) == "voted for anna approve on gate idea_gate round 1"
    statuses = p.task_status()
    assert statuses[copy.key] == "done" and statuses[copy.key.removesuffix("/for/erik")] == "done"
    # anna's vote is cast: she cannot cast it again herself.
    await p.refused(lambda: p.decide("anna", "approve"), "DuplicateVote")

    # The window passes: the delegation ends, in the ledger, and erik decides nothing more.
    await p.sleep(days=2)
    ended = p.of_kind(EventKind.delegation_ended)
    assert [(e.payload["delegator"], e.payload["substitute"]) for e in ended] == [("anna", "erik")]
    assert (await p.status()).delegations == []
    st = await p.decide("bo", "approve")
    assert st.state == "pre_study"
    granted = p.of_kind(EventKind.delegation_granted)[0]
    assert history.phrase(granted).startswith("delegated to erik from ")
    assert history.phrase(ended[0]) == "delegation 1 ended (of anna, to erik)"
    assert (granted.actor, granted.payload["substitute"], granted.comment) == (
        "anna",
        "erik",
        "away",
    )
    p.assert_sound_ledger()
    await p.record("delegation_window")


async def test_after_the_window_and_after_a_revoke_the_substitute_is_refused(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=1))
    await delegate(p, "bo", "fatima", starts=timedelta(0), ends=timedelta(days=9))
    await p.request("david")
    await p.sleep(days=1, hours=1)
    msg = await p.refused(lambda: vote_for(p, "erik", "anna"), "OutsideDelegation")
    assert "ended at" in msg

    revoked = await p.recorded(
        await service.revoke_delegation(p.harness.client, p.pid, "fatima", 2, "back early")
    )
    assert revoked.delegations == []
    copies = {k: v for k, v in p.task_status().items() if k.endswith("/for/fatima")}
    assert copies and set(copies.values()) == {"withdrawn"}
    msg = await p.refused(lambda: vote_for(p, "fatima", "bo"), "OutsideDelegation")
    assert "revoked" in msg
    await p.refused(
        lambda: service.revoke_delegation(p.harness.client, p.pid, "bo", 2), "DelegationEnded"
    )
    assert [e.actor for e in p.of_kind(EventKind.delegation_revoked)] == ["fatima"]


async def test_four_eyes_holds_through_a_delegation(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # david manages the project and is also a receiver (mottagare): an approver of the idea
    # gate, but not of the gate he requests himself.
    charter = with_roles(pf_charter, david=["projektledare", "mottagare"])
    p = await scenario.start(charter, projektflodet)
    await delegate(p, "david", "erik", starts=timedelta(0), ends=timedelta(days=5))
    await delegate(p, "anna", "david", starts=timedelta(0), ends=timedelta(days=5))
    await p.request("david")
    # The requester's substitute casts no vote for the requester ...
    msg = await p.refused(lambda: vote_for(p, "erik", "david"), "SelfApproval")
    assert "four eyes" in msg
    # ... and the requester casts none as anyone's substitute.
    msg = await p.refused(lambda: vote_for(p, "david", "anna"), "SelfApproval")
    assert 'also not for "anna"' in msg


async def test_one_person_casts_one_vote_per_decision(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "bo", starts=timedelta(0), ends=timedelta(days=5))
    await p.request("david")
    await p.decide("bo", "approve")
    msg = await p.refused(lambda: vote_for(p, "bo", "anna"), "DuplicateVote")
    assert "one person, one vote" in msg
    st = await p.decide("anna", "approve")  # anna herself still may
    assert st.state == "pre_study"


async def test_the_model_decides_who_may_stand_in(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, with_delegation(projektflodet, within_roles=["pmo"]))
    msg = await p.refused(
        lambda: delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=1)),
        "NoStanding",
    )
    assert "pmo" in msg and "teamledare" in msg
    st = await delegate(p, "anna", "fatima", starts=timedelta(0), ends=timedelta(days=1))
    assert [d.substitute for d in st.delegations] == ["fatima"]

    q = await scenario.start(pf_charter, with_delegation(projektflodet, allowed=False))
    await q.refused(
        lambda: delegate(q, "anna", "fatima", starts=timedelta(0), ends=timedelta(days=1)),
        "DelegationNotAllowed",
    )


async def test_bad_windows_and_people_are_refused_with_clear_errors(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    msg = await p.refused(
        lambda: delegate(p, "anna", "erik", starts=timedelta(days=3), ends=timedelta(days=1)),
        "InvalidDelegation",
    )
    assert "--until must come after --from" in msg
    msg = await p.refused(
        lambda: delegate(p, "anna", "erik", starts=timedelta(days=-3), ends=timedelta(days=-1)),
        "InvalidDelegation",
    )
    assert "has passed" in msg
    await p.refused(
        lambda: delegate(p, "anna", "anna", starts=timedelta(0), ends=timedelta(days=1)),
        "InvalidDelegation",
    )
    await p.refused(
        lambda: delegate(p, "anna", "zelda", starts=timedelta(0), ends=timedelta(days=1)),
        "UnknownActor",
    )
    await delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=2))
    await p.refused(
        lambda: delegate(p, "anna", "bo", starts=timedelta(days=1), ends=timedelta(days=3)),
        "DelegationOverlaps",
    )
    at = await now(p)
    naive = await p.unchanged(
        lambda: service.delegate(
            p.harness.client, p.pid, "anna", "bo", at.replace(tzinfo=None), at + timedelta(1)
        )
    )
    assert isinstance(naive, service.ProjectError) and naive.kind == "InvalidInput"
    assert "time zone" in str(naive)


async def test_substitute_completes_the_delegators_review_task_by_their_copy(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=5))
    await p.request("david")
    original = "idea_gate/1/task1/anna"
    copy = f"{original}/for/erik"
    assert p.task_status()[copy] == "open"
    assert "complete_task" in await p.allowed("erik")
    await p.refused(lambda: p.complete("erik", original), "NotAuthorised")
    await p.refused(lambda: p.complete("bo", copy), "NotAuthorised")
    await p.complete("erik", copy, "read it for anna")
    done = p.of_kind(EventKind.task_completed)[-1]
    assert (done.actor, done.payload["task"], done.payload["on_behalf_of"]) == (
        "erik",
        original,
        "anna",
    )
    assert p.task_status()[original] == p.task_status()[copy] == "done"


async def test_a_second_delegation_to_the_same_substitute_gets_copies_of_its_own(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # The copies of a revoked delegation stay in the ledger, withdrawn, under their keys: a
    # new delegation to the same substitute once reused those keys, and its copies never
    # reached the inbox.
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", starts=timedelta(days=90), ends=timedelta(days=95))
    await p.request("david")
    first = "idea_gate/1/task1/anna/for/erik"
    assert p.task_status()[first] == "open"
    await p.recorded(await service.revoke_delegation(p.harness.client, p.pid, "anna", 1))
    assert p.task_status()[first] == "withdrawn"

    st = await delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=2))
    assert [(d.id, d.copy_suffix) for d in st.delegations] == [(2, "/d2")]
    review, decide = f"{first}/d2", "idea_gate/1/decide/anna/for/erik/d2"
    assert p.task_status()[review] == p.task_status()[decide] == "open"
    assert p.task_status()[first] == "withdrawn"
    await p.complete("erik", review, "read it for anna")  # the copy names its substitute
    done = p.of_kind(EventKind.task_completed)[-1]
    assert (done.actor, done.payload["on_behalf_of"]) == ("erik", "anna")
    await vote_for(p, "erik", "anna")
    assert p.task_status()[decide] == "done"
    assert p.task_status()["idea_gate/1/task1/anna"] == p.task_status()[review] == "done"


async def test_substitute_votes_on_a_formal_change_for_the_delegator(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    from governance.messages import RequestChangeInput
    from phasegate import control

    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", starts=timedelta(0), ends=timedelta(days=5))
    change, _ = await control.request_change(
        p.harness.client,
        p.pid,
        RequestChangeInput(actor="david", title="Bigger server", cost_impact=100000),
    )
    assert change.classification == "formal"
    assert p.task_status()[f"change/{change.id}/decide/anna/for/erik"] == "open"
    c, st = await control.decide_change(
        p.harness.client, p.pid, "erik", change.id, "approve", on_behalf_of="anna"
    )
    await p.recorded(st)
    assert c is not None and c.decision is not None
    assert [(v.actor, v.by) for v in c.decision.votes] == [("anna", "erik")]
    assert c.decision.required_missing == []
    cast = p.of_kind(EventKind.vote_cast)[-1]
    assert (cast.actor, cast.payload["on_behalf_of"], cast.payload["decision_id"]) == (
        "erik",
        "anna",
        change.id,
    )
