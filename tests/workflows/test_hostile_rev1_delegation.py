"""Hostile review rev1: substitute approvers (delegation) in the running workflow, on the
time-skipping test server. Can a substitute pass a gate alone, vote twice (for themselves and
as a substitute, or for two delegators), pass a vote on along a chain, or relay an adviser's
advice without losing their own vote?"""

from __future__ import annotations

from datetime import timedelta

import governance as g
from governance.audit import EventKind
from phasegate import service
from tests.workflows.scenario import Project, Scenario


async def delegate(p: Project, actor: str, to: str, days: float = 5) -> None:
    at = await p.harness.env.get_current_time()
    st = await service.delegate(
        p.harness.client, p.pid, actor, to, at, at + timedelta(days=days), "away"
    )
    await p.recorded(st)


async def vote_for(p: Project, actor: str, delegator: str, decision: str = "approve"):  # type: ignore[no-untyped-def]
    st = await service.decide_gate(p.harness.client, p.pid, actor, decision, on_behalf_of=delegator)
    return await p.recorded(st)


async def test_a_substitute_of_both_approvers_cannot_pass_a_four_eyes_gate_alone(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The idea gate needs anna and bo; both delegate to erik: erik casts one vote only."""
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik")
    await delegate(p, "bo", "erik")
    await p.request("david")
    st = await vote_for(p, "erik", "anna")
    assert st.gate is not None and st.gate.approvals == 1
    msg = await p.refused(lambda: vote_for(p, "erik", "bo"), "DuplicateVote")
    assert "one person, one vote" in msg
    st = await p.status()
    assert st.state == "idea_gate" and st.gate is not None and st.gate.awaited == ["bo"]
    assert [e.actor for e in p.of_kind(EventKind.vote_cast)] == ["erik"]


async def test_a_delegation_chain_passes_no_vote_on_and_a_cycle_counts_each_once(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """anna -> bo -> erik: erik may cast bo's vote, never anna's; bo casts anna's, once."""
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "bo")
    await delegate(p, "bo", "erik")
    await p.request("david")
    await p.refused(lambda: vote_for(p, "erik", "anna"), "NotDelegated")
    await vote_for(p, "erik", "bo", "approve")
    # bo has not cast a vote himself: he may cast anna's, but then not his own (erik did).
    await p.refused(lambda: p.decide("bo", "approve"), "DuplicateVote")
    st = await vote_for(p, "bo", "anna", "approve")
    assert st.state == "pre_study"
    votes = [(e.actor, e.payload.get("on_behalf_of")) for e in p.of_kind(EventKind.vote_cast)]
    assert votes == [("erik", "bo"), ("bo", "anna")]
    p.assert_sound_ledger()


async def test_the_requester_cannot_be_a_substitute_nor_hand_a_vote_to_one(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """Delegating to the gate's requester (david) or voting for oneself are refused."""
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "david")
    await p.request("david")
    await p.refused(lambda: vote_for(p, "david", "anna"), "SelfApproval")
    await p.refused(lambda: vote_for(p, "anna", "anna"), "NotDelegated")
    # A delegation to a person outside the charter, or back to the delegator, is refused.
    await p.refused(lambda: delegate(p, "david", "anna"), "InvalidDelegation")


async def test_a_substitute_who_relayed_advice_still_casts_their_own_vote(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """PRINCE2: ada (executive) decides alone, ben (senior user) advises. ben delegates to ada
    and ada gives ben's advice: advice is counted for nothing, so it must not use up ada's
    one vote, else the only approver is locked out of her own gate."""
    p = await scenario.start(p2_charter, prince2)
    await delegate(p, "ben", "ada")
    await p.request("dev")
    st = await vote_for(p, "ada", "ben", "approve")
    assert st.gate is not None and [(v.actor, v.by, v.counted) for v in st.gate.votes] == [
        ("ben", "ada", False)
    ]
    st = await p.decide("ada", "approve")
    assert st.gate is None and st.state != "starting_up_gate"
    # One advice per person still: ada relays no second piece of advice of ben's.
    p.assert_sound_ledger()


async def test_advice_relayed_for_two_advisers_is_one_each_and_never_counted(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """ben and chloe both delegate to finn (assurance): finn relays one piece of advice only
    (one voice per person), and it is never counted."""
    p = await scenario.start(p2_charter, prince2)
    await delegate(p, "ben", "finn")
    await delegate(p, "chloe", "finn")
    await p.request("dev")
    st = await vote_for(p, "finn", "ben", "reject")
    assert st.gate is not None and st.gate.approvals == 0
    await p.refused(lambda: vote_for(p, "finn", "chloe", "reject"), "DuplicateVote")
    assert (await p.status()).state == "starting_up_gate"


async def test_a_delegation_that_ends_while_the_project_is_held_refuses_votes_after_resume(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """Windows are wall-clock time, not the project's clocks: a hold does not stretch one."""
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", days=1)
    await p.request("david")
    await p.board("hold", "anna", "budget review")
    await p.sleep(days=2)
    await p.board("resume", "anna")
    msg = await p.refused(lambda: vote_for(p, "erik", "anna"), "OutsideDelegation")
    assert "ended at" in msg
    assert (await p.status()).delegations == []


async def test_a_delegation_that_ends_while_the_project_is_held_withdraws_its_copies(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await delegate(p, "anna", "erik", days=1)
    await p.request("david")
    await p.board("hold", "anna", "budget review")
    assert [k for k, v in p.task_status().items() if k.endswith("/for/erik") and v == "open"]
    await p.sleep(days=2)
    await p.recorded()
    assert p.of_kind(EventKind.delegation_ended), "the window passed during the hold"
    open_copies = [k for k, v in p.task_status().items() if k.endswith("/for/erik") and v == "open"]
    assert open_copies == []


async def test_two_windows_of_one_delegator_each_give_one_copy_and_revoke_closes_its_own(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """anna: erik next week, bo now. The second grant does not open erik's copies again, and
    revoking bo's leaves erik's open."""
    p = await scenario.start(pf_charter, projektflodet)
    at = await p.harness.env.get_current_time()
    await p.recorded(
        await service.delegate(
            p.harness.client, p.pid, "anna", "erik", at + timedelta(days=3), at + timedelta(days=5)
        )
    )
    await p.request("david")
    await delegate(p, "anna", "bo", days=2)
    copies = [t.key for t in p.tasks() if "/for/" in t.key]
    assert len(copies) == len(set(copies))
    assert {k.rsplit("/", 1)[1] for k in copies} == {"erik", "bo"}
    await p.recorded(await service.revoke_delegation(p.harness.client, p.pid, "anna", 2))
    status = p.task_status()
    assert {v for k, v in status.items() if k.endswith("/for/bo")} == {"withdrawn"}
    assert {v for k, v in status.items() if k.endswith("/for/erik")} == {"open"}
    p.assert_sound_ledger()
