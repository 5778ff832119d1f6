"""Counting a gate's votes in the running workflow: quorum, veto, four eyes, rework, tasks."""

from __future__ import annotations

import governance as g
from governance.audit import EventKind
from tests.workflows.scenario import PF_APPROVERS, Project, Scenario, with_roles


async def reach(p: Project, phase: str) -> None:
    """Pass Projektflödet gates on the happy path until the project is in ``phase``."""
    while (await p.status()).state != phase:
        st = await p.status()
        assert st.phase is not None
        await p.pass_gate(PF_APPROVERS[st.phase], pm="david")


async def test_majority_with_required_role_passes_without_the_third_vote_which_is_then_refused(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await reach(p, "pre_study")
    st = await p.request("david")
    assert st.gate is not None
    assert (st.gate.rule, st.gate.approvals_needed) == ("majority", 2)
    assert st.gate.eligible == ["anna", "bo", "cecilia"]

    st = await p.decide("anna", "approve")
    assert st.gate is not None and st.gate.approvals == 1 and st.state == "pre_study_gate"
    assert st.gate.required_missing == []
    st = await p.decide("bo", "approve")
    assert (st.state, st.gate) == ("planning", None)

    await p.refused(lambda: p.decide("cecilia", "approve"), "GateNotOpen")
    passed = p.of_kind(EventKind.gate_passed)[-1]
    assert (passed.from_state, passed.to_state, passed.actor) == (
        "pre_study_gate",
        "planning",
        "bo",
    )
    assert passed.payload["votes"] == 2
    assert [e.actor for e in p.of_kind(EventKind.vote_cast)][-2:] == ["anna", "bo"]


async def test_quorum_without_the_required_role_keeps_the_gate_open_and_its_reject_closes(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await reach(p, "pre_study")
    await p.request("david")
    await p.decide("bo", "approve")
    st = await p.decide("cecilia", "approve")
    assert st.state == "pre_study_gate" and st.gate is not None
    assert (st.gate.approvals, st.gate.approvals_needed) == (2, 2)
    assert st.gate.required_missing == ["bestallare"]
    assert st.gate.awaited == ["anna"]
    assert p.kinds()[-1] == "vote_cast"

    # pre_study's on_reject is "close": the required holder's veto ends the project.
    st = await p.decide("anna", "reject")
    assert (st.state, st.terminal, st.gate) == ("closed", True, None)
    assert p.kinds()[-3:] == ["vote_cast", "gate_rejected", "closed"]
    rejected = p.of_kind(EventKind.gate_rejected)[0]
    assert (rejected.from_state, rejected.to_state, rejected.actor) == (
        "pre_study_gate",
        "closed",
        "anna",
    )
    assert (await p.result()).outcome == "rejected"
    assert p.of_kind(EventKind.closed)[0].payload == {"outcome": "rejected"}
    # Those who voted did their task; the rest of the gate's work was cancelled with it.
    assert {t.key: t.status for t in p.tasks() if t.gate == "pre_study_gate/1"} == {
        "pre_study_gate/1/task1/bo": "cancelled",
        "pre_study_gate/1/task2/anna": "cancelled",
        "pre_study_gate/1/decide/anna": "done",
        "pre_study_gate/1/decide/bo": "done",
        "pre_study_gate/1/decide/cecilia": "done",
    }
    p.assert_sound_ledger()


async def test_required_role_reject_sends_a_back_gate_back_to_its_phase(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await reach(p, "planning")
    await p.request("david")
    await p.decide("bo", "approve")
    st = await p.decide("cecilia", "approve")
    assert st.state == "planning_gate"
    # planning's on_reject is "back": the veto returns the project to planning.
    st = await p.decide("anna", "reject")
    assert (st.state, st.phase, st.gate, st.terminal) == ("planning", "planning", None, False)
    rejected = p.of_kind(EventKind.gate_rejected)[0]
    assert (rejected.from_state, rejected.to_state) == ("planning_gate", "planning")
    st = await p.request("david")
    assert st.gate is not None and st.gate.round == 2 and st.gate.votes == []
    p.assert_sound_ledger()


async def test_four_eyes_the_requester_gets_no_decide_task_and_may_not_vote_at_all(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # david requests the idea gate and also holds an approver role (mottagare, with bo). He
    # used to get a decide task and could vote rework or reject: his no-vote tipped the
    # count and, on a required role, vetoed. Now he takes no part in deciding it.
    charter = with_roles(pf_charter, david=["projektledare", "mottagare"])
    p = await scenario.start(charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.requested_by == "david"
    assert (st.gate.eligible, st.gate.awaited) == (["anna", "bo"], ["anna", "bo"])
    assert (st.gate.approvals_needed, await p.allowed("david")) == (
        2,
        # no vote: he requested the gate; anna's review task he may complete (the manager)
        ["complete_task", "report_progress", "request_change"],
    )
    assert [t.key for t in p.tasks(assignee="david")] == []

    for decision in ("approve", "reject", "rework"):
        message = await p.refused(lambda d=decision: p.decide("david", d), "SelfApproval")
        assert message.endswith(
            'four eyes: "david" requested gate idea_gate and may not decide it '
            "(approve, reject or rework)"
        )
    await p.decide("anna", "approve")
    st = await p.decide("bo", "approve")
    assert (st.state, st.gate) == ("pre_study", None)
    assert [e.actor for e in p.of_kind(EventKind.vote_cast)] == ["anna", "bo"]
    p.assert_sound_ledger()


async def test_rework_reopens_the_phase_and_round_two_gets_fresh_tasks(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.round == 1
    await p.decide("bo", "approve")
    st = await p.decide("anna", "rework", "more detail")
    assert (st.state, st.gate) == ("idea", None)
    rework = p.of_kind(EventKind.gate_rework)[0]
    assert (rework.from_state, rework.to_state, rework.payload["round"]) == ("idea_gate", "idea", 1)

    round1 = {t.key: t.status for t in p.tasks() if t.gate == "idea_gate/1"}
    assert round1 == {
        "idea_gate/1/task1/anna": "cancelled",
        "idea_gate/1/decide/anna": "done",  # anna decided: her vote sent the gate to rework
        "idea_gate/1/decide/bo": "done",
    }

    st = await p.request("david")
    assert st.gate is not None and st.gate.round == 2
    assert (st.gate.votes, st.gate.awaited) == ([], ["anna", "bo"])
    round2 = {t.key: t.status for t in p.tasks() if t.gate == "idea_gate/2"}
    assert round2 == {
        "idea_gate/2/task1/anna": "open",
        "idea_gate/2/decide/anna": "open",
        "idea_gate/2/decide/bo": "open",
    }
    # bo voted in round 1; round 2 is a new decision, not a duplicate vote.
    await p.decide("bo", "approve")
    st = await p.decide("anna", "approve")
    assert st.state == "pre_study"
    assert {t.key: t.status for t in p.tasks() if t.gate == "idea_gate/2"} == {
        "idea_gate/2/task1/anna": "withdrawn",  # nobody reported it done; the gate passed
        "idea_gate/2/decide/anna": "done",
        "idea_gate/2/decide/bo": "done",
    }
    assert [e.payload["round"] for e in p.of_kind(EventKind.gate_opened)] == [1, 2]
    assert p.of_kind(EventKind.gate_passed)[0].payload["round"] == 2
    p.assert_sound_ledger()


async def test_opening_a_gate_creates_role_tasks_and_a_decide_task_per_approver(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await reach(p, "pre_study")
    st = await p.request("david")
    assert st.gate is not None
    gate_tasks = {t.key: t for t in p.tasks() if t.gate == "pre_study_gate/1"}
    assert sorted(gate_tasks) == [
        "pre_study_gate/1/decide/anna",
        "pre_study_gate/1/decide/bo",
        "pre_study_gate/1/decide/cecilia",
        "pre_study_gate/1/task1/bo",
        "pre_study_gate/1/task2/anna",
    ]
    review = gate_tasks["pre_study_gate/1/task1/bo"]
    assert (review.title, review.role, review.status) == (
        "Granska förstudierapporten",
        "mottagare",
        "open",
    )
    assert (
        review.due is not None
        and review.due - st.gate.opened_at == p.model.phase("pre_study").gate.tasks[0].due
    )
    decide = gate_tasks["pre_study_gate/1/decide/cecilia"]
    assert decide.title.startswith("Decide gate: ") and decide.due == st.gate.deadline
    assert {t.assignee for t in gate_tasks.values()} == {"anna", "bo", "cecilia"}
    assert p.tasks(assignee="david", status="open") == []

    await p.decide("bo", "approve")
    status = {t.key: t.status for t in p.tasks() if t.gate == "pre_study_gate/1"}
    assert status["pre_study_gate/1/decide/bo"] == "done"
    assert [k for k, s in status.items() if s == "open"] == [
        "pre_study_gate/1/task1/bo",
        "pre_study_gate/1/task2/anna",
        "pre_study_gate/1/decide/anna",
        "pre_study_gate/1/decide/cecilia",
    ]

    await p.decide("anna", "approve")
    closed = {t.key: t.status for t in p.tasks() if t.gate == "pre_study_gate/1"}
    assert closed == {
        "pre_study_gate/1/task1/bo": "withdrawn",
        "pre_study_gate/1/task2/anna": "withdrawn",
        "pre_study_gate/1/decide/anna": "done",
        "pre_study_gate/1/decide/bo": "done",
        "pre_study_gate/1/decide/cecilia": "withdrawn",  # never voted: no longer needed
    }
    assert p.tasks(status="open") == []
