"""Control in the running workflow: progress reports and the earned-value forecast, RAG,
exceptions decided up the chain, change control, highlight reports (PRINCE2's management by
exception), on the time-skipping test server.

The PRINCE2 example project: budget 1,400,000 EUR over 300 days, 180 items; stage tolerances
cost 5 % and time P2W (the board's), project tolerances cost 10 % and time P6W (corporate's);
minor changes up to 1 % and P3D, from a change budget of 3 %.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import governance as g
from governance import Tolerances
from governance.audit import EventKind
from governance.messages import (
    DecideChangeInput,
    DecideExceptionInput,
    ExceptionPlan,
    ProjectStatus,
    ReportProgressInput,
    RequestChangeInput,
    Risk,
)
from phasegate import service
from tests.workflows.scenario import P2_APPROVERS, Project, Scenario
from workflows import ProjectWorkflow

START_DAYS_AGO = 30
DURATION = 300


async def started(scenario: Scenario, charter: g.Charter, model: g.GovernanceModel) -> Project:
    """The example project, begun 30 days ago (by the test server's clock) for 300 days."""
    today = (await scenario.harness.env.get_current_time()).date()
    start = today - timedelta(days=START_DAYS_AGO)
    baseline = charter.baseline.model_copy(
        update={"start": start, "planned_end": start + timedelta(days=DURATION)}
    )
    return await scenario.start(charter.model_copy(update={"baseline": baseline}), model)


async def today(p: Project) -> date:
    return (await p.harness.env.get_current_time()).date()


async def send(p: Project, update: Any, arg: Any) -> ProjectStatus:
    st = await service.send_update(p.harness.client, service.project(p.pid), update, arg)
    return await p.recorded(st)


async def report(p: Project, *, earned: float, cost: float, **kw: Any) -> ProjectStatus:
    arg = ReportProgressInput(
        actor=kw.pop("actor", "dev"),
        as_of=kw.pop("as_of", None) or await today(p),
        actual_cost=cost,
        earned_scope=earned,
        **kw,
    )
    return await send(p, ProjectWorkflow.report_progress, arg)


async def change(p: Project, actor: str, title: str, **kw: Any) -> ProjectStatus:
    return await send(
        p, ProjectWorkflow.request_change, RequestChangeInput(actor=actor, title=title, **kw)
    )


async def decide_change(p: Project, actor: str, cid: str, decision: str) -> ProjectStatus:
    arg = DecideChangeInput(actor=actor, change_id=cid, decision=decision)  # type: ignore[arg-type]
    return await send(p, ProjectWorkflow.decide_change, arg)


async def decide_exception(p: Project, actor: str, decision: str, **kw: Any) -> ProjectStatus:
    arg = DecideExceptionInput(actor=actor, decision=decision, **kw)  # type: ignore[arg-type]
    return await send(p, ProjectWorkflow.decide_exception, arg)


def reports(p: Project, kind: str) -> list[dict[str, Any]]:
    return [r.content for r in p.harness.ledger.reports(p.pid, kind)]


async def test_cost_breach_raises_an_exception_the_board_resolves_with_a_new_baseline(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    # Day 30 of 300: 10 % planned, 10 % earned (18 of 180 items) for 150,000 spent.
    st = await report(p, earned=18, cost=150_000)
    assert st.forecast is not None
    f = st.forecast
    assert (round(f.pv), round(f.ev), round(f.ac)) == (140_000, 140_000, 150_000)
    assert f.spi == 1.0 and round(f.cpi or 0, 4) == round(140 / 150, 4)
    assert round(f.eac) == 1_500_000 and round(f.vac) == -100_000
    # EAC overruns the budget by 7.1 %: over the stage's 5 %, inside the project's 10 %.
    assert st.rag["cost"] == "red" and st.rag["time"] == "green"
    assert st.control is not None
    assert st.control.rag_levels["stage"]["cost"].colour == "red"
    assert st.control.rag_levels["project"]["cost"].colour == "green"
    assert st.state == "exception"
    ex = st.control.exception
    assert ex is not None and (ex.id, ex.level, ex.aspects, ex.levels) == (
        "EX-1",
        "board",
        ["cost"],
        ["stage"],
    )
    assert ex.decision is not None and ex.decision.eligible == ["ada"]
    [content] = reports(p, "exception")
    for key in ("title", "cause", "consequences", "options", "recommendation", "lessons"):
        assert content.get(key), key
    [stored] = p.harness.ledger.reports(p.pid, "exception")
    assert "cost" in stored.markdown
    [issued] = [e for e in p.of_kind(EventKind.report_issued) if e.payload["kind"] == "exception"]
    assert issued.payload["number"] == 1 and len(issued.payload["sha256"]) == 64

    # A breach already in exception is not raised twice.
    st = await report(p, earned=18, cost=151_000)
    assert len(p.of_kind(EventKind.exception_raised)) == 1
    assert st.control is not None and st.control.exception is not None

    # Only the board's executive decides at the board level.
    await p.refused(
        lambda: decide_exception(p, "ben", "approve_plan", plan=ExceptionPlan(budget=1_520_000)),
        "NotAuthorised",
    )
    # A plan the last forecast still breaches is refused and changes nothing.
    await p.refused(
        lambda: decide_exception(p, "ada", "approve_plan", plan=ExceptionPlan(budget=1_420_000)),
        "StillBreached",
    )
    st = await decide_exception(p, "ada", "approve_plan", plan=ExceptionPlan(budget=1_520_000))
    assert st.state == "starting_up" and st.control is not None
    assert st.control.exception is None
    assert st.control.baseline.budget == 1_520_000 and st.control.baseline_version == 2
    assert st.rag["cost"] == "green"
    changed = p.of_kind(EventKind.baseline_changed)[-1]
    assert changed.payload["old"]["budget"] == "1400000"
    assert changed.payload["new"]["budget"] == "1520000"
    assert changed.actor == "ada"
    resolved = p.of_kind(EventKind.exception_resolved)[-1]
    assert (resolved.from_state, resolved.to_state) == ("exception", "starting_up")
    assert resolved.payload["outcome"] == "approve_plan"
    assert {t.status for t in p.tasks() if "exception/EX-1" in (t.gate or "")} == {"done"}
    await p.record("control_cost_exception")
    p.assert_sound_ledger()


async def test_time_breach_the_board_lets_pass_goes_to_corporate_which_closes_the_project(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    # SPI 0.9: the 300 days take 334, 34 days late: over the stage's P2W, inside P6W.
    st = await report(p, earned=16.2, cost=126_000)
    assert st.forecast is not None and round(st.forecast.spi or 0, 6) == 0.9
    assert st.forecast.forecast_end is not None
    assert (st.forecast.forecast_end - st.forecast.planned_end).days == 34
    assert st.rag["time"] == "red" and st.rag["cost"] == "green"
    assert st.control is not None and st.control.exception is not None
    assert st.control.exception.level == "board"

    await p.sleep(days=5, hours=1)  # the board's SLA passes
    st = await p.status()
    assert st.control is not None and st.control.exception is not None
    ex = st.control.exception
    assert (ex.level, ex.state) == ("corporate", "escalated")
    escalated = p.of_kind(EventKind.escalated)[-1]
    assert escalated.payload["decision_id"] == "EX-1"
    assert (escalated.payload["from_level"], escalated.payload["to_level"]) == (
        "board",
        "corporate",
    )
    await p.refused(lambda: decide_exception(p, "ada", "close"), "NotAuthorised")

    st = await decide_exception(p, "grace", "close", comment="The business case is gone.")
    assert st.state == "closing" and st.control is not None and st.control.exception is None
    started_closing = p.of_kind(EventKind.phase_started)[-1]
    assert started_closing.payload["phase"] == "closing"
    st = await p.pass_gate(P2_APPROVERS["closing"], pm="dev")
    assert (st.state, st.outcome) == ("closed", "closed")
    await p.record("control_time_escalated_closed")
    p.assert_sound_ledger()


async def test_minor_change_is_decided_by_the_project_manager_in_one_step(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    st = await change(
        p, "dev", "Extra payslip field", cost_impact=10_000, time_impact=timedelta(days=2)
    )
    assert st.control is not None
    [cr] = st.control.changes
    assert (cr.id, cr.classification, cr.state, cr.decided_by) == (
        "CR-1",
        "minor",
        "approved",
        "dev",
    )
    assert st.control.change_budget == 42_000 and st.control.change_budget_left == 32_000
    assert st.control.baseline_version == 1  # paid from the change budget: no re-baseline
    decided = p.of_kind(EventKind.change_decided)[-1]
    assert decided.payload["operational"] is True and decided.actor == "dev"


async def test_formal_change_is_the_executives_advised_by_the_board_while_a_gate_is_open(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    st = await p.request("dev")
    assert st.state == "starting_up_gate"
    st = await change(
        p,
        "dev",
        "Second payroll run",
        cost_impact=50_000,
        time_impact=timedelta(days=10),
        scope_impact=6,
    )
    assert st.control is not None
    cr = st.control.changes[-1]
    assert (cr.classification, cr.state) == ("formal", "assessed")
    assert cr.decision is not None and cr.decision.rule == "all"
    assert (cr.decision.eligible, cr.decision.advisers) == (["ada"], ["ben", "chloe"])
    assert [d.kind for d in st.decisions] == ["gate", "change"]
    st = await change(p, "eva", "Archive old payslips", cost_impact=60_000)
    assert [d.id for d in st.decisions] == [None, "CR-1", "CR-2"]
    advise = {t.key: t for t in p.tasks() if t.gate == "change/CR-1" and "/advise/" in t.key}
    assert {t.assignee: (t.title, t.role) for t in advise.values()} == {
        "ben": ("Advise on Change CR-1: Second payroll run", "senior_user"),
        "chloe": ("Advise on Change CR-1: Second payroll run", "senior_supplier"),
    }

    st = await decide_change(p, "ben", "CR-1", "reject")  # advice: the senior user is against
    assert st.control is not None and st.control.changes[0].state == "assessed"
    advised = st.control.changes[0].decision
    assert advised is not None and (advised.approvals, advised.awaited) == (0, ["ada"])
    assert [(v.actor, v.decision, v.counted) for v in advised.votes] == [("ben", "reject", False)]
    assert advised.advice_awaited == ["chloe"]
    assert "decide_change" in await p.allowed("chloe")
    st = await decide_change(p, "ada", "CR-1", "approve")
    assert st.control is not None
    assert st.control.changes[0].state == "approved"
    assert st.control.changes[0].decided_by == "ada"
    assert {t.assignee: t.status for t in p.tasks() if t.key in advise} == {
        "ben": "done",
        "chloe": "withdrawn",
    }
    assert st.control.baseline.budget == 1_450_000
    assert st.control.baseline.scope.amount == 186
    assert st.control.baseline.planned_end == p.charter.baseline.planned_end + timedelta(days=10)
    assert st.state == "starting_up_gate" and st.gate is not None  # the gate is still open
    assert [d.id for d in st.decisions] == [None, "CR-2"]
    await p.refused(lambda: decide_change(p, "chloe", "CR-1", "approve"), "ChangeNotOpen")
    await p.record("control_formal_change_beside_gate")
    p.assert_sound_ledger()


async def test_requester_never_approves_their_own_change(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    st = await change(p, "ben", "New report", cost_impact=80_000)
    assert st.control is not None
    decision = st.control.changes[0].decision
    assert decision is not None
    assert (decision.eligible, decision.advisers) == (["ada"], ["chloe"])  # not ben: four eyes
    assert not [t for t in p.tasks() if t.gate == "change/CR-1" and t.assignee == "ben"]
    message = await p.refused(lambda: decide_change(p, "ben", "CR-1", "approve"), "SelfApproval")
    assert message == (
        'four eyes: "ben" requested change CR-1 and may not advise on it (approve or reject)'
    )
    # A minor change asked for by someone else is the project manager's to decide.
    st = await change(p, "eva", "Label fix", cost_impact=1_000)
    assert st.control is not None and st.control.changes[1].state == "assessed"
    await p.refused(lambda: decide_change(p, "eva", "CR-2", "approve"), "NotAuthorised")
    # The project manager's own minor change is decided in the one step of asking; a formal
    # one of theirs goes to the board, where they have no vote anyway.
    st = await decide_change(p, "dev", "CR-2", "approve")
    assert st.control is not None and st.control.changes[1].state == "approved"


async def test_a_change_that_overdraws_the_change_budget_becomes_an_exception(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    for n in range(3):  # 3 x 13,000 of the 42,000 budget
        st = await change(p, "dev", f"Small fix {n}", cost_impact=13_000)
    assert st.control is not None and st.control.change_budget_left == 3_000
    st = await change(p, "dev", "One fix too many", cost_impact=13_000)
    assert st.state == "exception" and st.control is not None
    cr = st.control.changes[-1]
    ex = st.control.exception
    assert ex is not None and (ex.cause, ex.change_id, ex.level) == (
        "change_budget",
        "CR-4",
        "board",
    )
    assert (cr.state, cr.exception) == ("assessed", "EX-1")
    await p.refused(lambda: decide_change(p, "dev", "CR-4", "approve"), "ChangeNotOpen")
    await p.refused(
        lambda: decide_exception(p, "ada", "widen_tolerance", change_budget=12), "InvalidDecision"
    )
    st = await decide_exception(p, "ada", "widen_tolerance", change_budget=5, comment="Worth it")
    assert st.state == "starting_up" and st.control is not None
    assert st.control.changes[-1].state == "approved"
    assert st.control.change_budget == 70_000 and st.control.change_budget_left == 18_000
    widened = p.of_kind(EventKind.tolerance_widened)[-1]
    assert (widened.actor, widened.comment, widened.payload["change_budget"]) == (
        "ada",
        "Worth it",
        5.0,
    )


async def test_highlight_reports_follow_the_cadence_and_every_change_of_rag(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=18, cost=140_000)  # the first RAG: green (a change: none -> green)
    await p.sleep(days=20)
    # Risk exposure 0.6 x 100,000 is 4.3 % of the budget: 86 % of the stage's 5 %: amber.
    await report(
        p,
        earned=30,
        cost=230_000,
        risks=[Risk(title="Vendor late", probability=0.6, impact=100_000)],
    )
    await p.sleep(days=71)  # a quarter (91 days) since the start of the project
    st = await p.status()
    assert st.rag["risk"] == "amber"
    highlights = reports(p, "highlight")
    cadence = [h for h in highlights if h["reason"] == "cadence"]
    on_change = [h for h in highlights if h["reason"] == "rag_change"]
    assert len(cadence) == 91 // 14  # P14D from the start: days 14, 28, ..., 84
    assert len(on_change) == 2 == len(p.of_kind(EventKind.rag_changed))
    assert [h["number"] for h in highlights] == sorted(h["number"] for h in highlights)
    assert st.control is not None and st.control.highlights == len(highlights)


async def test_every_refusal_leaves_status_history_and_ledger_unchanged(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    now = await today(p)
    start = now - timedelta(days=START_DAYS_AGO)
    await report(p, earned=15, cost=116_000, as_of=now - timedelta(days=5))  # on plan: green

    async def bad(kind: str, needle: str, **kw: Any) -> None:
        args: dict[str, Any] = {"earned": 10, "cost": 100_000, **kw}
        message = await p.refused(lambda: report(p, **args), kind)
        assert needle in message, message

    await bad("InvalidProgress", "before the project's start", as_of=start - timedelta(days=1))
    await bad("InvalidProgress", "before the last report's", as_of=now - timedelta(days=6))
    await bad("InvalidProgress", "in the future", as_of=now + timedelta(days=1))
    await bad("InvalidProgress", "earned_scope 181 is above the total scope 180", earned=181)
    await bad("NotAuthorised", "not the project manager", actor="ada")
    await bad("UnknownActor", "not a person", actor="mallory")
    await p.refused(lambda: decide_change(p, "ada", "CR-9", "approve"), "UnknownChange")
    await p.refused(lambda: decide_exception(p, "ada", "close"), "NoException")
    await p.refused(lambda: change(p, "dev", "Descope all", scope_impact=-180), "InvalidChange")
    await p.board("hold", "ada")
    await bad("OnHold", "on hold")
    await p.refused(lambda: change(p, "dev", "While held", cost_impact=1), "OnHold")
    await p.board("resume", "ada")
    # A widening that narrows a tolerance is refused, the exception stays open.
    await report(p, earned=18, cost=150_000)
    tight = Tolerances(cost=4)
    await p.refused(
        lambda: decide_exception(p, "ada", "widen_tolerance", tolerances=tight), "InvalidDecision"
    )
    await p.refused(
        lambda: decide_exception(p, "ada", "widen_tolerance", tolerances=Tolerances(cost=6)),
        "StillBreached",
    )
    st = await decide_exception(p, "ada", "widen_tolerance", tolerances=Tolerances(cost=8))
    assert st.rag["cost"] == "amber"  # 7.1 % of 8 %: 89 % used
    assert st.control is not None and st.control.tolerances["stage"].cost == 8


async def test_a_project_closing_early_takes_no_more_changes_nor_raises_exceptions(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=16.2, cost=126_000)  # time breach: EX-1 at the board
    # The highlight report the change of RAG issued lists the exception it raised.
    [highlight] = reports(p, "highlight")
    assert highlight["reason"] == "rag_change"
    assert any("EX-1" in line for line in highlight["open_decisions"]), highlight
    await p.sleep(days=5, hours=1)
    st = await decide_exception(p, "grace", "close")
    assert st.state == "closing" and st.control is not None
    assert "request_change" not in await p.allowed("dev")
    message = await p.refused(lambda: change(p, "dev", "One more thing"), "ClosingEarly")
    assert "closing early" in message
    st = await report(p, earned=16.2, cost=200_000)  # red again: no second exception
    assert st.rag["cost"] == "red" and st.control is not None and st.control.exception is None
    assert len(p.of_kind(EventKind.exception_raised)) == 1


def test_a_change_takes_whole_days() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="whole days"):
        RequestChangeInput(actor="dev", title="x", time_impact=timedelta(hours=1))
    assert RequestChangeInput(actor="dev", title="x", time_impact=timedelta(days=2))
