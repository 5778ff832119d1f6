"""Advice in the running workflow (a rule's ``consult`` roles): PRINCE2's Executive decides,
the Senior User and the Senior Supplier advise. Their votes are recorded and shown, never
counted; they are refused like any vote where a vote would be, and once the decision has
escalated.

The PRINCE2 example charter: ada executive, ben senior user, chloe senior supplier, dev project
manager, eva team manager, finn project assurance, grace corporate.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import governance as g
from governance.audit import EventKind
from governance.messages import DecideGateInput
from phasegate import history, service
from tests.workflows.scenario import Scenario, eventually, with_roles
from workflows import ProjectWorkflow

GATE = "starting_up_gate/1"
ADVISE = "Advise on gate: Authorise initiation (round 1)"


async def test_the_senior_users_reject_is_advice_and_the_executives_approve_passes_the_gate(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    st = await p.request("dev")
    gate = st.gate
    assert gate is not None and st.state == "starting_up_gate"
    assert (gate.eligible, gate.awaited, gate.approvals_needed) == (["ada"], ["ada"], 1)
    assert gate.advisers == gate.advice_awaited == ["ben", "chloe"]
    # Each adviser finds the gate in their inbox, as the executive does.
    await p.recorded()
    tasks = {t.key: (t.title, t.role, t.status) for t in p.tasks() if "/task" not in t.key}
    assert tasks == {
        f"{GATE}/decide/ada": ("Decide gate: Authorise initiation (round 1)", "executive", "open"),
        f"{GATE}/advise/ben": (ADVISE, "senior_user", "open"),
        f"{GATE}/advise/chloe": (ADVISE, "senior_supplier", "open"),
    }
    assert await p.allowed("ben") == ["approve", "reject", "rework", "request_change"]

    st = await p.decide("ben", "reject", "the users are not ready")
    gate = st.gate
    assert gate is not None and st.state == "starting_up_gate"  # advice decides nothing
    assert (gate.approvals, gate.awaited, gate.advice_awaited) == (0, ["ada"], ["chloe"])
    assert [(v.actor, v.decision, v.counted) for v in gate.votes] == [("ben", "reject", False)]
    advice = p.of_kind(EventKind.vote_cast)[-1]
    assert (advice.actor, advice.role, advice.comment) == (
        "ben",
        "senior_user",
        "the users are not ready",
    )
    assert advice.payload == {"decision": "reject", "round": 1, "level": None, "counted": False}
    assert p.task_status()[f"{GATE}/advise/ben"] == "done"
    assert "approve" not in await p.allowed("ben")

    # Duplicate advice is refused, whatever it says.
    for decision in ("reject", "approve"):
        message = await p.refused(partial(p.decide, "ben", decision, "again"), "DuplicateVote")
        assert message.endswith('"ben" has already given advice on gate starting_up_gate (round 1)')

    st = await p.decide("ada", "approve", "we go ahead, with a user readiness plan")
    assert (st.state, st.gate) == ("initiation", None)
    passed = p.of_kind(EventKind.gate_passed)[-1]
    assert (passed.actor, passed.payload["votes"], passed.payload["advice"]) == ("ada", 1, 1)
    assert [(e.actor, e.payload.get("counted")) for e in p.of_kind(EventKind.vote_cast)] == [
        ("ben", False),
        ("ada", None),
    ]
    assert {k: v for k, v in p.task_status().items() if "/task" not in k} == {
        f"{GATE}/decide/ada": "done",
        f"{GATE}/advise/ben": "done",
        f"{GATE}/advise/chloe": "withdrawn",
    }
    votes = [
        (e.who, e.text, e.comment) for e in history.entries(p.events()) if e.kind == "vote_cast"
    ]
    assert votes == [
        ("ben (senior_user)", "advised reject on gate starting_up_gate round 1",
         "the users are not ready"),
        ("ada (executive)", "voted approve on gate starting_up_gate round 1",
         "we go ahead, with a user readiness plan"),
    ]  # fmt: skip
    p.assert_sound_ledger()
    await p.record("prince2_advice")


async def test_a_person_who_neither_decides_nor_advises_is_refused_as_before(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    await p.request("dev")
    for actor in ("finn", "eva", "grace"):
        message = await p.refused(partial(p.decide, actor, "approve"), "NotAuthorised")
        assert message.endswith(
            f'"{actor}" may not decide gate starting_up_gate: approvers are executive; '
            "senior_user, senior_supplier advise"
        )
        assert "approve" not in await p.allowed(actor)
    await p.refused(partial(p.decide, "nobody", "approve"), "UnknownActor")


async def test_advice_is_refused_while_held_and_when_it_expired(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    await p.request("dev")
    await p.board("hold", "ada", "budget review")
    await p.refused(partial(p.decide, "chloe", "approve"), "OnHold")
    assert "approve" not in await p.allowed("chloe")
    await p.board("resume", "ada")
    past = await service.clock() - timedelta(seconds=1)
    late = DecideGateInput(actor="chloe", decision="approve", round=1, expires_at=past)
    failure = await p.unchanged(partial(p.handle.execute_update, ProjectWorkflow.decide_gate, late))
    assert isinstance(failure, WorkflowUpdateFailedError)
    assert isinstance(failure.cause, ApplicationError)
    assert failure.cause.type == "RequestExpired"
    st = await p.decide("chloe", "approve")
    assert st.gate is not None and [(v.actor, v.counted) for v in st.gate.votes] == [
        ("chloe", False)
    ]


async def test_four_eyes_keeps_a_requester_who_also_advises_out(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    charter = with_roles(p2_charter, dev=["project_manager", "senior_user"])
    p = await scenario.start(charter, prince2)
    st = await p.request("dev")
    assert st.gate is not None and st.gate.advisers == ["ben", "chloe"]  # not dev
    await p.recorded()
    assert [t.key for t in p.tasks(assignee="dev")] == []
    message = await p.refused(partial(p.decide, "dev", "approve"), "SelfApproval")
    assert message.endswith(
        'four eyes: "dev" requested gate starting_up_gate and may not advise on it '
        "(approve, reject or rework)"
    )


async def test_once_escalated_advice_is_refused_and_the_advise_tasks_withdrawn(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    await p.request("dev")  # SLA P7D, reminder at P5D, then corporate (grace) decides
    await p.decide("ben", "approve")

    async def seen(kind: EventKind) -> bool:
        return bool(p.of_kind(kind)) and (await p.status()).last_seq == len(p.events())

    await p.sleep(days=5, hours=1)
    await eventually(partial(seen, EventKind.reminder_sent))
    reminder = p.of_kind(EventKind.reminder_sent)[0]
    assert (reminder.payload["awaited"], reminder.payload["advice_awaited"]) == (["ada"], ["chloe"])

    await p.sleep(days=2)
    await eventually(partial(seen, EventKind.escalated))
    st = await p.status()
    gate = st.gate
    assert gate is not None and gate.level == "corporate"
    assert (gate.eligible, gate.advisers, gate.advice_awaited) == (["grace"], ["ben", "chloe"], [])
    assert {k: v for k, v in p.task_status().items() if "/decide/" in k or "/advise/" in k} == {
        f"{GATE}/decide/ada": "withdrawn",
        f"{GATE}/advise/ben": "done",
        f"{GATE}/advise/chloe": "withdrawn",
        f"{GATE}/corporate/decide/grace": "open",
    }
    message = await p.refused(partial(p.decide, "chloe", "approve"), "NotAuthorised")
    assert message.endswith(
        '"chloe" may not decide gate starting_up_gate: it has escalated to level corporate, '
        "where only corporate decides it, and advice is no longer taken"
    )
    assert "approve" not in await p.allowed("chloe")
    st = await p.decide("grace", "approve")
    assert (st.state, st.gate) == ("initiation", None)
    p.assert_sound_ledger()
