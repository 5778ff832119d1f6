"""Workflow timers: the reminder, SLA escalation up the chain, and clocks stopped on hold.

Weeks of project time pass with ``env.sleep``; the timer then fires asynchronously, so the
tests wait for its ledger event with ``eventually``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import governance as g
from governance.audit import EventKind
from tests.workflows.scenario import (
    Project,
    Scenario,
    derived_model,
    eventually,
    stays_quiet,
    with_roles,
)

SLACK = timedelta(minutes=1)
"""Real seconds pass on the test server's clock too; deadlines agree to within this."""


async def until_event(p: Project, kind: EventKind, count: int = 1) -> None:
    async def seen() -> bool:
        return len(p.of_kind(kind)) >= count and (await p.status()).last_seq == len(p.events())

    await eventually(seen)


async def test_reminder_then_sla_escalation_to_portfolio_whose_owner_decides_alone(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.deadline is not None
    opened, deadline = st.gate.opened_at, st.gate.deadline
    assert deadline - opened == timedelta(days=10)
    assert st.gate.reminder_at is not None and st.gate.reminder_at - opened == timedelta(days=7)
    await p.decide("bo", "approve")

    await p.sleep(days=6)
    await p.refused(lambda: p.decide("gustav", "approve"), "NotAuthorised")
    assert p.of_kind(EventKind.reminder_sent) == []

    await p.sleep(days=1, hours=1)
    await until_event(p, EventKind.reminder_sent)
    reminder = p.of_kind(EventKind.reminder_sent)[0]
    assert reminder.payload["awaited"] == ["anna"]
    assert reminder.at - opened >= timedelta(days=7)
    assert p.of_kind(EventKind.escalated) == []

    await p.sleep(days=3)
    await until_event(p, EventKind.escalated)
    escalated = p.of_kind(EventKind.escalated)[0]
    assert escalated.payload["from_level"] is None
    assert escalated.payload["to_level"] == "portfolio"
    assert escalated.role == "portfoljagare"
    assert escalated.at >= deadline

    st = await p.status()
    assert st.state == "idea_gate" and st.gate is not None
    assert st.gate.level == "portfolio"
    assert [e.level for e in st.gate.escalations] == ["portfolio"]
    assert "gustav" in st.gate.eligible and "gustav" in st.gate.awaited
    assert st.gate.deadline is not None
    assert abs(st.gate.deadline - (escalated.at + timedelta(days=10))) < SLACK
    assert await p.allowed("gustav") == ["approve", "reject", "rework", "request_change"]
    # ...and finds the decision in his inbox.
    inbox = p.tasks(assignee="gustav", status="open")
    assert [t.title for t in inbox] == ["Decide gate: Beslutspunkt 1: starta förstudie (round 1)"]
    assert inbox[0].due is not None and abs(inbox[0].due - st.gate.deadline) < SLACK

    # The escalated level has taken the decision over: gustav alone passes the gate.
    st = await p.decide("gustav", "approve", "go ahead")
    assert (st.state, st.gate) == ("pre_study", None)
    vote = p.of_kind(EventKind.vote_cast)[-1]
    assert (vote.actor, vote.payload["level"]) == ("gustav", "portfolio")
    passed = p.of_kind(EventKind.gate_passed)[0]
    assert (passed.actor, passed.payload["level"], passed.payload["votes"]) == (
        "gustav",
        "portfolio",
        2,
    )
    assert p.kinds() == [
        "project_started",
        "phase_started",
        "gate_opened",
        "vote_cast",
        "reminder_sent",
        "escalated",
        "vote_cast",
        "gate_passed",
        "phase_started",
    ]
    p.assert_sound_ledger()
    await p.record("sla_escalation")


async def test_escalation_climbs_the_chain_and_stops_at_the_top(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # The idea gate escalates to the steering group (5 days) first, then the portfolio.
    model = derived_model(projektflodet, idea={"escalate_to": "board"})
    assert model.level_above("board") is not None
    p = await scenario.start(pf_charter, model)
    await p.request("david")

    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "board"

    await p.sleep(days=5)
    await until_event(p, EventKind.escalated, 2)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "portfolio"
    assert [e.level for e in st.gate.escalations] == ["board", "portfolio"]
    assert "gustav" in st.gate.awaited

    await p.sleep(days=10)
    await until_event(p, EventKind.escalated, 3)
    chain = [
        (e.payload["from_level"], e.payload["to_level"]) for e in p.of_kind(EventKind.escalated)
    ]
    assert chain == [(None, "board"), ("board", "portfolio"), ("portfolio", None)]
    top = p.of_kind(EventKind.escalated)[-1]
    assert "top of the escalation chain" in top.payload["note"]
    st = await p.status()
    assert st.gate is not None and st.gate.level == "portfolio" and st.gate.deadline is None

    # Nothing is left to fire: a month passes without a new event but the weekly highlight
    # reports.
    before = p.kinds()
    await p.sleep(days=30)
    await stays_quiet(p)
    assert p.kinds() == before

    st = await p.decide("gustav", "reject", "not a portfolio fit")
    # idea's on_reject is "close".
    assert (st.state, st.terminal) == ("closed", True)
    assert p.kinds()[-3:] == ["vote_cast", "gate_rejected", "closed"]
    assert (await p.result()).outcome == "rejected"
    p.assert_sound_ledger()


async def test_hold_stops_the_clocks_and_resume_shifts_every_deadline(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.deadline and st.gate.reminder_at
    deadline, reminder_at = st.gate.deadline, st.gate.reminder_at
    due_before = {t.key: t.due for t in p.tasks(status="open")}
    assert due_before and all(due_before.values())

    for actor in ("bo", "david", "gustav"):
        await p.refused(partial(p.board, "hold", actor), "NotAuthorised")
    st = await p.board("hold", "anna", "waiting for the budget round")
    assert (st.state, st.on_hold, st.phase) == ("on_hold", True, "idea")
    assert st.gate is not None and st.gate.deadline == deadline
    held = p.of_kind(EventKind.held)[0]
    assert (held.from_state, held.to_state, held.actor) == ("idea_gate", "on_hold", "anna")

    await p.refused(lambda: p.request("david", deliverables=False), "OnHold")
    for actor in ("anna", "bo"):
        await p.refused(partial(p.decide, actor, "approve"), "OnHold")
    await p.refused(lambda: p.board("resume", "bo"), "NotAuthorised")
    again = await p.refused(lambda: p.board("hold", "anna"), "IllegalTransition")
    since = held.at.isoformat(timespec="minutes")  # to the minute, as status shows it
    assert f"is already on hold (since {since}, by anna)" in again, again

    # Twelve days on hold: past both the reminder and the SLA, and neither fires.
    await p.sleep(days=12)
    await stays_quiet(p)

    st = await p.board("resume", "anna")
    assert (st.state, st.on_hold) == ("idea_gate", False)
    resumed = p.of_kind(EventKind.resumed)[0]
    paused = timedelta(seconds=resumed.payload["paused_seconds"])
    assert abs(paused - timedelta(days=12)) < SLACK
    assert st.gate is not None
    assert st.gate.deadline == deadline + paused
    assert st.gate.reminder_at == reminder_at + paused
    assert p.of_kind(EventKind.reminder_sent) == p.of_kind(EventKind.escalated) == []
    # The inbox's due dates move with the deadlines (issue 14, item 5).
    due_after = {t.key: t.due for t in p.tasks(status="open")}
    assert due_after == {k: due + paused for k, due in due_before.items() if due is not None}

    # The clocks run again from where they stopped.
    await p.sleep(days=7, hours=1)
    await until_event(p, EventKind.reminder_sent)
    assert p.of_kind(EventKind.escalated) == []
    await p.sleep(days=3)
    await until_event(p, EventKind.escalated)
    assert p.of_kind(EventKind.escalated)[0].at >= deadline + paused

    st = await p.decide("gustav", "approve")
    assert st.state == "pre_study"
    assert p.kinds() == [
        "project_started",
        "phase_started",
        "gate_opened",
        "held",
        "resumed",
        "reminder_sent",
        "escalated",
        "vote_cast",
        "gate_passed",
        "phase_started",
    ]
    p.assert_sound_ledger()
    await p.record("hold_resume")


async def test_escalated_level_decides_alone_even_when_its_role_is_also_an_approver(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # The idea gate escalates to the steering group, whose deciding role (bestallare: anna)
    # is also one of the gate's approvers: after escalation anna's vote decides the gate.
    model = derived_model(projektflodet, idea={"escalate_to": "board"})
    p = await scenario.start(pf_charter, model)
    await p.request("david")
    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)

    st = await p.decide("anna", "approve")
    assert st.state == "pre_study"
    vote = p.of_kind(EventKind.vote_cast)[-1]
    assert (vote.actor, vote.payload["level"]) == ("anna", "board")
    p.assert_sound_ledger()


async def test_an_approver_who_voted_decides_again_once_escalated_to_their_level(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # anna (bestallare) approves as an approver; bo never answers. The SLA passes and the
    # gate goes to the steering group, whose deciding role anna holds: she now decides
    # alone, at that level, with a decide task of that level in her inbox.
    model = derived_model(projektflodet, idea={"escalate_to": "board"})
    p = await scenario.start(pf_charter, model)
    await p.request("david")
    await p.decide("anna", "approve")
    await p.refused(lambda: p.decide("anna", "approve"), "DuplicateVote")

    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "board"
    assert "anna" in st.gate.awaited
    open_decisions = [t.key for t in p.tasks(assignee="anna", status="open") if "/decide/" in t.key]
    assert open_decisions == ["idea_gate/1/board/decide/anna"]

    st = await p.decide("anna", "rework", "decided at board level")
    assert (st.state, st.gate) == ("idea", None)
    assert [v.payload["level"] for v in p.of_kind(EventKind.vote_cast)] == [None, "board"]
    p.assert_sound_ledger()


async def test_allowed_actions_of_someone_outside_the_charter_is_empty(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    assert await p.allowed("mallory") == []
    assert await p.allowed("x" * 200) == []


async def test_once_escalated_the_ordinary_approvers_may_no_longer_decide(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # bo approved the idea gate; anna never answered. Once the SLA passed and the gate went
    # to the portfolio, anna's approval used to complete the quorum and pass the gate behind
    # the level that had taken the decision over.
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.decide("bo", "approve")
    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "portfolio"
    assert (st.gate.eligible, st.gate.awaited) == (["gustav"], ["gustav"])
    # no longer a voter; her review task is still hers to complete
    assert await p.allowed("anna") == ["hold", "cancel", "complete_task", "request_change"]
    # anna's decide task went with the decision; gustav has one of the portfolio level.
    await p.recorded()
    decide = {t.key: t.status for t in p.tasks() if "/decide/" in t.key}
    assert decide == {
        "idea_gate/1/decide/anna": "withdrawn",
        "idea_gate/1/decide/bo": "done",
        "idea_gate/1/portfolio/decide/gustav": "open",
    }

    for actor in ("anna", "bo", "cecilia"):
        message = await p.refused(partial(p.decide, actor, "approve"), "NotAuthorised")
        assert message.endswith(
            f'"{actor}" may not decide gate idea_gate: it has escalated to level portfolio, '
            "where only portfoljagare decides it"
        )
    st = await p.decide("gustav", "rework", "not yet")
    assert (st.state, st.gate) == ("idea", None)
    p.assert_sound_ledger()


async def test_a_level_the_gate_escalated_past_may_no_longer_decide_it(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # The idea gate goes to the steering group (anna) and, unanswered, on to the portfolio
    # (gustav). anna used to keep deciding alone at her level after it had gone past her.
    model = derived_model(projektflodet, idea={"escalate_to": "board"})
    p = await scenario.start(pf_charter, model)
    await p.request("david")
    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)
    assert await p.allowed("anna") == [
        "approve",
        "reject",
        "rework",
        "hold",
        "cancel",
        "complete_task",
        "request_change",
    ]
    await p.sleep(days=5)
    await until_event(p, EventKind.escalated, 2)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "portfolio"
    assert st.gate.eligible == ["gustav"]

    message = await p.refused(lambda: p.decide("anna", "approve"), "NotAuthorised")
    assert "it has escalated to level portfolio, where only portfoljagare decides it" in message
    # the executive, and the review task's assignee
    assert await p.allowed("anna") == ["hold", "cancel", "complete_task", "request_change"]
    st = await p.decide("gustav", "approve")
    assert st.state == "pre_study"
    assert [(v.actor, v.payload["level"]) for v in p.of_kind(EventKind.vote_cast)] == [
        ("gustav", "portfolio")
    ]
    p.assert_sound_ledger()


async def test_four_eyes_holds_at_the_escalation_level_too(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # david, the project manager, also sits on the portfolio with gustav. He used to be able
    # to let his own gate run past its SLA and then decide it alone at the portfolio level.
    charter = with_roles(pf_charter, david=["projektledare", "portfoljagare"])
    p = await scenario.start(charter, projektflodet)
    await p.request("david")
    await p.sleep(days=10, hours=1)
    await until_event(p, EventKind.escalated)
    st = await p.status()
    assert st.gate is not None and (st.gate.level, st.gate.eligible) == ("portfolio", ["gustav"])
    decide_tasks = [t.key for t in p.tasks(status="open") if "/portfolio/decide/" in t.key]
    assert decide_tasks == ["idea_gate/1/portfolio/decide/gustav"]

    message = await p.refused(lambda: p.decide("david", "approve"), "SelfApproval")
    assert 'four eyes: "david" requested gate idea_gate' in message
    st = await p.decide("gustav", "approve")
    assert st.state == "pre_study"
    p.assert_sound_ledger()
