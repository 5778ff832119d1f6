"""The execution phase: iterations as child workflows, and deliverables at the gates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

import governance as g
from governance.audit import EventKind
from governance.messages import Feedback, Obstacle, WorkItem
from tests.workflows.scenario import (
    Scenario,
    eventually,
    items,
    open_iteration,
    to_execution,
    with_roles,
)

PLAN = items(("A1", "erik", 2), ("A2", "david", 1.5), ("A3", "erik", 0.5))


@pytest_asyncio.fixture
async def env(own_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    """A server of each test's own: these projects run iterations (see ``own_env``)."""
    yield own_env


async def test_an_iteration_runs_plan_execute_demo_deliver_retro_and_the_next_one_opens(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    st = await it.status()
    assert (st.number, st.state, st.phase) == (1, "planning", "execution")

    st = await it.plan("erik", PLAN, weeks=3, goal="Customer register")  # a team lead plans
    assert st.state == "executing" and st.committed_items == 3 and st.committed_effort == 4.0
    assert st.execute_ends_at is not None and st.planned_at is not None
    assert st.execute_ends_at - st.planned_at == timedelta(weeks=3)
    # A stand-up falls at the planning moment when that is a working day (the test server's
    # clock is today's: a weekend or a holiday has none).
    standup_now = g.working_day(st.planned_at.date(), projektflodet.calendar.country)
    st = await it.done("erik", "A1")
    st = await it.done("david", "A3")  # the project manager may report anyone's item
    st = await it.add("david", items(("B1", "erik", 1)))
    assert (st.added_items, st.added_effort) == (1, 1.0)
    st = await it.close_execution("david")
    assert st.state == "demo" and st.demo_deadline is not None
    assert {t.assignee for t in p.tasks(status="open") if t.gate == "it-1"} == {"david"}

    st = await it.demo(
        "david",
        attendees=["anna", "bo", "Kim from sales"],
        feedback=[Feedback(person="bo", text="Search must cover old customers")],
    )
    assert (
        st.state == "delivery" and st.demo is not None and st.demo.attendees[2] == "Kim from sales"
    )
    assert {t.assignee for t in p.tasks(status="open") if t.gate == "it-1"} == {"bo"}
    st = await it.deliver("bo", "deliver")
    assert st.state == "retro" and st.delivery == "deliver"
    st = await it.retro(
        "erik",
        keep=["pairing"],
        change=["smaller items"],
        obstacles=[Obstacle(text="No test environment", role="leverantor")],
    )
    assert st.state == "done"
    result = await it.handle.result()
    assert (result.outcome, result.delivered, result.committed_items, result.completed_items) == (
        "done",
        True,
        3,
        2,
    )
    assert (result.committed_effort, result.completed_effort) == (4.0, 2.5)
    assert [i.id for i in result.unfinished] == ["A2", "B1"]

    # The iteration's own chain holds every step, with actor and time.
    events = it.assert_sound_chain()
    assert it.kinds() == [
        "iteration_opened",
        "iteration_planned",
        *(["standup"] if standup_now else []),  # the first working day's, at planning
        "items_done",
        "items_done",
        "items_added",
        "execution_ended",
        "demo_recorded",
        "delivery_decided",
        "retro_recorded",
        "iteration_ended",
    ]
    assert [e.actor for e in events[1:] if e.kind != EventKind.standup][:8] == [
        "erik", "erik", "david", "david", "david", "david", "bo", "erik",
    ]  # fmt: skip
    [added] = [e for e in events if e.kind == EventKind.items_added]
    assert added.payload["scope_change"] is True
    # The obstacle is a task in the inbox of whoever holds the role that must clear it.
    obstacle = [t for t in p.tasks(status="open") if "obstacle" in t.key]
    assert [(t.assignee, t.title) for t in obstacle] == [
        ("cecilia", "Clear obstacle: No test environment")
    ]

    # The project keeps the velocity, the backlog and the burn-up; iteration 2 opens.
    await p.finished(1)
    nxt = await open_iteration(p, 2)
    ex = (await p.status()).execution
    assert ex is not None
    assert [(v.number, v.completed_effort, v.delivered) for v in ex.history] == [(1, 2.5, True)]
    assert [i.id for i in ex.backlog] == ["A2", "B1"]
    assert (ex.burn_up.unit, ex.burn_up.baseline, ex.burn_up.added) == ("points", 240.0, 1.0)
    assert (ex.burn_up.total, ex.burn_up.completed) == (241.0, 2.5)
    assert ex.forecast is not None and ex.forecast.remaining == 238.5
    kinds = p.kinds(everything=True)
    assert kinds[-2:] == ["iteration_finished", "iteration_started"]
    fin = p.of_kind(EventKind.iteration_finished)[0]
    assert fin.payload["chain_head"] == {"seq": len(events), "hash": events[-1].hash}
    assert (await nxt.status()).state == "planning"
    p.assert_sound_ledger()
    await it.record("iteration_cycle")


async def test_every_bad_plan_is_refused_naming_the_item_and_changes_nothing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    ok = items(("A1", "erik", 2))
    cases: list[tuple[str, list[WorkItem], int | None, str, str]] = [
        ("david", items(("BIG", "erik", 2.5)), None, "InvalidPlan", 'item "BIG": estimate 2.5'),
        ("david", [], None, "InvalidPlan", "at least one item"),
        ("david", items(("D", "erik", 1), ("D", "david", 1)), None, "InvalidPlan", 'item "D"'),
        ("david", items(("X", "zed", 1)), None, "InvalidPlan", 'owner "zed" is not a person'),
        (
            "david",
            [WorkItem(id="NP", title="No points", owner="erik", estimate=1)],
            None,
            "InvalidPlan",
            'item "NP": give its points',
        ),
        ("david", ok, 1, "InvalidPlan", "length P1W is outside P2W..P6W"),
        ("david", ok, 7, "InvalidPlan", "outside P2W..P6W"),
        ("bo", ok, None, "NotAuthorised", '"bo" may not plan'),
        ("zed", ok, None, "UnknownActor", '"zed" is not a person'),
    ]
    for actor, work, weeks, kind, text in cases:
        message = await it.refused(
            lambda a=actor, w=work, n=weeks: it.plan(a, w, weeks=n),
            kind,  # type: ignore[misc]
        )
        assert text in message, message
    # Steps out of order are refused too.
    await it.refused(lambda: it.done("david", "A1"), "IllegalTransition")
    await it.refused(lambda: it.demo("david"), "IllegalTransition")

    await it.plan("david", items(("A1", "erik", 2), ("A2", "erik", 1)))
    await it.refused(lambda: it.done("erik", "NOPE"), "UnknownItem")
    await it.refused(lambda: it.done("david", "A1", "NOPE"), "UnknownItem")
    await it.refused(lambda: it.done("bo", "A1"), "NotAuthorised")
    await it.refused(lambda: it.add("david", items(("A1", "erik", 1))), "InvalidPlan")
    await it.refused(lambda: it.add("david", items(("C", "erik", 3))), "InvalidPlan")
    await it.done("erik", "A1")
    await it.refused(lambda: it.done("erik", "A1"), "AlreadyDone")
    await it.close_execution("erik")
    await it.refused(lambda: it.deliver("bo"), "IllegalTransition")
    await it.refused(lambda: it.demo("bo"), "NotAuthorised")
    await it.demo("david")
    await it.refused(lambda: it.deliver("anna"), "NotAuthorised")  # mottagare decides
    await it.deliver("bo", "hold")
    bad = [Obstacle(text="x", role="nobody")]
    await it.refused(lambda: it.retro("david", obstacles=bad), "UnknownRole")
    await it.retro("david")
    result = await it.handle.result()
    assert (result.delivered, result.completed_items) == (False, 1)
    it.assert_sound_chain()


async def test_a_demo_not_recorded_in_time_is_reminded_then_escalated_up_the_chain(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    await it.plan("david", PLAN)
    await it.close_execution("david")  # the demo window (P3D) starts now
    await p.sleep(days=2, hours=1)

    async def kinds_include(kind: str) -> bool:
        return kind in it.kinds()

    await eventually(lambda: kinds_include("reminder_sent"))
    assert "escalated" not in it.kinds()
    await p.sleep(days=1)
    await eventually(lambda: kinds_include("escalated"))
    st = await it.status()
    assert st.demo_level == "board"
    board = [t for t in p.tasks(status="open") if t.gate == "it-1" and t.assignee == "anna"]
    assert len(board) == 1 and "escalated to board" in board[0].title
    await p.sleep(days=5, hours=1)  # the board's SLA passes: up to the portfolio

    async def at_portfolio() -> bool:
        return (await it.status()).demo_level == "portfolio"

    await eventually(at_portfolio)
    escalations = [e.payload["to_level"] for e in it.events() if e.kind == EventKind.escalated]
    assert escalations == ["board", "portfolio"]
    # The escalated level may record it (gustav holds portfoljagare).
    st = await it.demo("gustav", feedback=[Feedback(person="gustav", text="late")])
    assert st.state == "delivery"
    assert not [t for t in p.tasks(status="open") if "/demo" in t.key]
    it.assert_sound_chain()
    await it.deliver("bo")
    await it.retro("david")
    await it.handle.result()
    await it.record("iteration_demo_escalated")


async def test_requesting_the_phase_gate_closes_the_open_iteration_first(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    await it.plan("david", PLAN)
    await it.done("erik", "A1")
    st = await p.request("david")
    assert st.state == "execution_gate"
    kinds = p.kinds(everything=True)
    assert kinds[-3:] == ["iteration_closed", "gate_opened", "iteration_finished"]
    result = await it.handle.result()
    assert result.outcome == "closed"
    assert it.kinds()[-1] == "iteration_ended"
    assert it.events()[-1].payload["reason"] == "the phase's gate was requested"
    await p.finished(1)
    ex = (await p.status()).execution
    assert ex is not None and ex.open_iteration is None
    assert [i.id for i in ex.backlog] == ["A2", "A3"]
    # Rework sends the project back into execution: the next iteration opens.
    st = await p.decide("anna", "rework")  # the executive's rework decides it
    assert st.state == "execution"
    nxt = await open_iteration(p, 2)
    assert (await nxt.status()).state == "planning"
    p.assert_sound_ledger()
    await it.record("iteration_closed_by_gate")
    it.assert_sound_chain()


async def test_cancelling_the_project_abandons_its_open_iteration(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    await it.plan("david", PLAN)
    await p.board("cancel", "anna", "budget withdrawn")
    result = await it.handle.result()
    assert result.outcome == "abandoned"
    assert it.events()[-1].payload["outcome"] == "abandoned"
    assert p.kinds(everything=True)[-2:] == ["iteration_closed", "cancelled"]
    assert p.tasks(status="open") == []


async def test_a_gate_is_not_requested_while_a_listed_deliverable_is_missing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    message = await p.refused(lambda: p.request("david", deliverables=False), "MissingDeliverable")
    assert "Idébeskrivning" in message
    st = await p.status()
    assert [(d.name, d.present) for d in st.deliverables] == [("Idébeskrivning", False)]
    await p.refused(lambda: p.submit("david", "Slutrapport"), "UnknownDeliverable")
    await p.refused(
        lambda: p.submit("david", "Idébeskrivning", url="https://x.org/a", sha256="a" * 64, size=1),
        "InvalidDeliverable",
    )
    await p.refused(lambda: p.submit("zed", "Idébeskrivning"), "UnknownActor")
    st = await p.submit("erik", "Idébeskrivning", sha256="ab" * 32, size=1234, comment="v1")
    st = await p.submit("david", "Idébeskrivning", url="https://docs.example.org/idea-v2")
    (d,) = st.deliverables
    assert d.present and d.versions == 2 and d.current is not None
    assert (d.current.version, d.current.url, d.current.submitted_by) == (
        2,
        "https://docs.example.org/idea-v2",
        "david",
    )
    st = await p.request("david", deliverables=False)
    assert st.state == "idea_gate"
    submitted = p.of_kind(EventKind.deliverable_submitted)
    assert [(e.actor, e.payload["version"], e.payload["sha256"]) for e in submitted] == [
        ("erik", 1, "ab" * 32),
        ("david", 2, None),
    ]
    assert all(e.payload.get("size") in (1234, None) for e in submitted)


async def test_deliverables_are_frozen_while_their_gate_decides(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.submit("david", "Idébeskrivning", url="https://docs.example.org/v1")
    await p.request("david")
    opened = p.of_kind(EventKind.gate_opened)[0]
    assert opened.payload["deliverables"] == [
        {"name": "Idébeskrivning", "version": 1, "sha256": None,
         "url": "https://docs.example.org/v1"}
    ]  # fmt: skip
    message = await p.refused(
        lambda: p.submit("gustav", "Idébeskrivning", url="https://evil.example/v2"), "GateOpen"
    )
    assert "being decided" in message


async def test_the_delivery_is_accepted_by_someone_else_than_who_planned_or_demonstrated(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    charter = with_roles(pf_charter, david=["projektledare", "mottagare"])
    p = await scenario.start(charter, projektflodet)
    it = await to_execution(p)
    await it.plan("david", PLAN)
    await it.close_execution("david")
    await it.demo("erik")
    message = await it.refused(lambda: it.deliver("david"), "SelfApproval")
    assert "four eyes" in message
    await it.deliver("bo")


async def test_a_held_project_holds_its_iteration_and_resume_moves_its_clocks(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    st = await it.plan("david", PLAN)
    assert st.execute_ends_at is not None
    await p.board("hold", "anna")

    async def held() -> bool:
        try:
            await it.refused(lambda: it.done("erik", "A1"), "OnHold")
        except AssertionError:
            return False
        return True

    await eventually(held)
    sent = (await it.status()).standups_sent
    await p.sleep(days=10)
    assert (await it.status()).standups_sent == sent  # no stand-up while held
    await p.board("resume", "anna")

    async def moved() -> bool:
        now = await it.status()
        ends = now.execute_ends_at
        return ends is not None and st.execute_ends_at is not None and ends > st.execute_ends_at

    await eventually(moved)
    now = await it.status()
    assert now.execute_ends_at is not None
    assert now.execute_ends_at - st.execute_ends_at >= timedelta(days=10)
    await it.done("erik", "A1")
