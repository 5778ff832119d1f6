"""Hostile review of control (issue 7): rule bypasses, crash points, ledger exactness and
concurrency, each proved on the time-skipping server. A failing test here is a finding.

Drives the PRINCE2 example exactly as tests/workflows/test_control.py does (ada executive,
ben senior user, chloe senior supplier, dev project manager, eva team manager, grace
corporate; budget 1,400,000 over 300 days, 180 items; change budget 3 % = 42,000).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType

import governance as g
from governance import Tolerances
from governance.audit import EventKind, digest
from governance.messages import ExceptionPlan, ProjectStatus
from phasegate import service
from tests.workflows.scenario import Project, Scenario, derived_model
from tests.workflows.test_control import (
    START_DAYS_AGO,
    change,
    decide_change,
    decide_exception,
    report,
    started,
    today,
)
from workflows import _search

TASK_FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
STEP_WAIT = 20.0
"""Seconds an accepted step may take before it counts as wedged."""


async def task_failures(p: Project) -> list[str]:
    """Messages of every failed workflow task of the project's current run: each one is an
    exception that escaped a step (the task retries forever: a wedged project)."""
    history = await p.handle.fetch_history()
    return [
        e.workflow_task_failed_event_attributes.failure.message
        for e in history.events
        if e.event_type == TASK_FAILED
    ]


async def step(p: Project, attempt: Any) -> ProjectStatus | Exception:
    """Run a request; it must either answer or be refused, never wedge the workflow."""
    try:
        return await asyncio.wait_for(attempt, STEP_WAIT)
    except TimeoutError:
        pass
    except Exception as exc:  # a refusal (or a client that cannot read the answer)
        failures = await task_failures(p)
        assert not failures, f"the step failed the workflow task: {failures[:1]}"
        return exc
    failures = await task_failures(p)
    raise AssertionError(f"the step never answered; workflow task failures: {failures[:1]}")


async def started_at(
    scenario: Scenario, charter: g.Charter, model: g.GovernanceModel, planned_end: date
) -> Project:
    now = (await scenario.harness.env.get_current_time()).date()
    baseline = charter.baseline.model_copy(
        update={"start": now - timedelta(days=START_DAYS_AGO), "planned_end": planned_end}
    )
    return await scenario.start(charter.model_copy(update={"baseline": baseline}), model)


# -- rule bypasses ------------------------------------------------------------------------------


async def test_requester_does_not_approve_own_change_by_deciding_the_exception_it_joined(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """ada (executive) asks for a minor change that overdraws the change budget while a cost
    exception is open; it is referred to that exception, which ada decides: her own change
    must not come out approved by her (nor overdraw the change budget)."""
    p = await started(scenario, p2_charter, prince2)
    for n in range(3):  # 39,000 of the 42,000 change budget
        await change(p, "dev", f"Small fix {n}", cost_impact=13_000)
    st = await report(p, earned=18, cost=150_000)  # EAC +7.1 %: stage cost breach, EX-1
    assert st.control is not None and st.control.exception is not None
    st = await change(p, "ada", "My pet feature", cost_impact=13_000)
    assert st.control is not None
    cr = st.control.changes[-1]
    assert cr.exception == "EX-1"
    message = await p.refused(
        lambda: decide_exception(p, "ada", "widen_tolerance", tolerances=Tolerances(cost=8)),
        "SelfApproval",
    )
    assert "CR-4" in message
    # Nobody else decides at the board: it goes up; corporate's widening must pay for CR-4.
    await p.sleep(days=5, hours=1)
    await p.refused(
        lambda: decide_exception(p, "grace", "widen_tolerance", tolerances=Tolerances(cost=8)),
        "InvalidDecision",
    )
    st = await decide_exception(
        p, "grace", "widen_tolerance", tolerances=Tolerances(cost=8), change_budget=5
    )
    assert st.control is not None
    mine = st.control.changes[-1]
    assert (mine.state, mine.decided_by) == ("approved", "grace")
    assert st.control.change_budget_left >= 0, (
        f"change budget overdrawn: {st.control.change_budget_left:,.0f} left"
    )


# -- crash points: inputs that fail the workflow task ------------------------------------------


async def test_formal_change_pushing_planned_end_past_year_9999_does_not_wedge_the_project(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A valid charter ending late in 9999 and a valid formal change of P60D: approving it
    computes a date past date.max (OverflowError in the handler)."""
    p = await started_at(scenario, p2_charter, prince2, date(9999, 12, 1))
    message = await p.refused(
        lambda: change(p, "dev", "Slip", time_impact=timedelta(days=60)), "InvalidBaseline"
    )
    assert "planned end" in message
    assert await task_failures(p) == []


async def test_exception_plan_to_year_9999_then_a_formal_change_does_not_wedge_the_project(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """ExceptionPlan.planned_end has no upper bound: the board sets 9999-12-31; the next
    formal change with any time impact overflows the date when approved."""
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=16.2, cost=126_000)  # SPI 0.9: time breach, EX-1 at the board
    await p.refused(
        lambda: decide_exception(
            p, "ada", "approve_plan", plan=ExceptionPlan(planned_end=date.max)
        ),
        "InvalidBaseline",
    )
    assert await task_failures(p) == []


async def test_descoping_change_that_rounds_scope_to_zero_keeps_the_project_readable(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """scope_impact -179.6 passes the "leaves some scope" check (0.4 > 0), but the new
    baseline rounds the scope to 0: a Baseline no client can read (PositiveInt), and every
    later progress report divides by zero."""
    p = await started(scenario, p2_charter, prince2)
    message = await p.refused(
        lambda: change(p, "dev", "Descope nearly all", scope_impact=-179.6), "InvalidBaseline"
    )
    assert "no scope" in message


async def test_two_open_descoping_changes_cannot_together_remove_all_scope(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """Each of two open changes removes 90 of 180 items, each checked alone against the
    baseline when requested; approving both leaves scope 0 and the evaluation after the
    second approval divides by zero (ZeroDivisionError in the handler)."""
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=18, cost=140_000)  # on plan, green: the forecast is evaluated
    await change(p, "dev", "Drop module A", scope_impact=-90)
    await change(p, "dev", "Drop module B", scope_impact=-90)
    for cid in ("CR-1", "CR-2"):  # the senior user's advice: not counted, nothing checked
        await decide_change(p, "ben", cid, "approve")
    await decide_change(p, "ada", "CR-1", "approve")
    outcome = await step(p, decide_change(p, "ada", "CR-2", "approve"))
    if isinstance(outcome, ProjectStatus):
        assert outcome.control is not None and outcome.control.baseline.scope.amount > 0
    else:  # refused is fine, as long as it is a refusal
        assert isinstance(outcome, service.ProjectError), repr(outcome)


# -- ledger exactness ---------------------------------------------------------------------------


async def test_stored_reports_hash_to_what_their_report_issued_event_vouches_for(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A stage cost tolerance of 0 % (valid: the README defines used = inf for it): a red
    cost puts used = inf in the exception and highlight reports. The workflow hashes
    Infinity; the converter sends null; the ledger stores content whose hash differs from
    the sha256 in the chain."""
    zero = g.Charter.model_validate(
        {
            **p2_charter.model_dump(mode="json"),
            "tolerances": {"stage": {"cost": 0}, "work_package": {"cost": 0}},
        }
    )
    p = await started(scenario, zero, prince2)
    await report(p, earned=18, cost=150_000)
    issued = p.of_kind(EventKind.report_issued)
    assert issued, "no report issued"
    for event in issued:
        kind, number = event.payload["kind"], event.payload["number"]
        stored = p.harness.ledger.report(p.pid, kind, number)
        assert stored is not None
        assert digest(stored.content) == event.payload["sha256"], (
            f"{kind} report {number}: stored content does not hash to the chain's sha256"
        )


# -- concurrency and ending -----------------------------------------------------------------


async def awaiting(p: Project) -> str | None:
    desc = await p.handle.describe()
    return desc.typed_search_attributes.get(_search.AWAITING)


async def test_cancel_with_an_open_exception_leaves_it_awaiting_nobody(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    st = await report(p, earned=18, cost=150_000)
    assert st.control is not None and st.control.exception is not None
    st = await p.board("cancel", "ada")
    assert st.state == "cancelled"
    assert st.decisions == []
    assert await awaiting(p) is None, f"PhasegateAwaiting={await awaiting(p)!r} after cancel"
    assert st.control is not None
    assert st.control.exception is None, f"status still shows {st.control.exception}"


async def test_a_gate_that_closes_the_project_leaves_no_open_change_or_exception(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A gate rejected with on_reject: close ends the project while a formal change and an
    exception raised beside the gate are open: their decide tasks must not stay in inboxes,
    and status must not list them as open decisions."""
    model = derived_model(prince2, starting_up={"on_reject": "close"})
    p = await started(scenario, p2_charter, model)
    await p.request("dev")
    await change(p, "eva", "Archive old payslips", cost_impact=60_000)  # formal, open
    st = await report(p, earned=18, cost=150_000)  # exception beside the open gate
    assert st.control is not None and st.control.exception is not None
    st = await p.decide("ada", "reject")
    assert (st.state, st.outcome) == ("closed", "rejected")
    st = await p.status()
    assert [d.kind for d in st.decisions] == [], "a closed project still awaits decisions"
    still_open = [t.key for t in p.tasks() if t.status == "open"]
    assert still_open == [], f"open tasks after the project closed: {still_open}"


async def test_exception_close_withdraws_open_formal_changes(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """The level above closes the project early: a formal change still being decided must
    not re-baseline the project in its closing phase."""
    p = await started(scenario, p2_charter, prince2)
    await change(p, "eva", "Archive old payslips", cost_impact=60_000)  # formal, open
    await report(p, earned=16.2, cost=126_000)  # time breach: EX-1 at the board
    st = await decide_exception(p, "ada", "close")
    assert st.state == "closing"
    assert st.control is not None
    assert [c.state for c in st.control.changes] != ["assessed"] or st.decisions == [], (
        "change CR-1 is still open for a decision in the closing phase"
    )


async def test_hold_and_resume_shift_the_exception_and_change_deadlines_together(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A gate, a formal change and an exception open at once; held 20 days: every deadline
    moves by 20 days and nothing escalates while held."""
    p = await started(scenario, p2_charter, prince2)
    await p.request("dev")
    await change(p, "eva", "Archive old payslips", cost_impact=60_000)
    st = await report(p, earned=18, cost=150_000)
    before = {(d.kind, d.id): d.deadline for d in st.decisions}
    assert len(before) == 3, before
    await p.board("hold", "ada")
    await p.sleep(days=20)
    assert p.of_kind(EventKind.escalated) == []
    st = await p.board("resume", "ada")
    after = {(d.kind, d.id): d.deadline for d in st.decisions}
    for key, deadline in before.items():
        assert deadline is not None and after[key] is not None
        moved = after[key] - deadline  # type: ignore[operator]
        assert timedelta(days=20) <= moved < timedelta(days=20, minutes=5), (key, moved)
    assert p.of_kind(EventKind.escalated) == []


async def test_continue_as_new_carries_open_changes_and_the_exception(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    now = await today(p := await scenario_start_can(scenario, prince2, p2_charter))
    st = await report(p, earned=18, cost=150_000, as_of=now)
    await change(p, "eva", "Archive old payslips", cost_impact=60_000)
    await change(p, "eva", "Second archive", cost_impact=70_000)
    st = await p.status()
    assert st.control is not None and st.control.exception is not None
    assert [d.id for d in st.decisions] == ["CR-1", "CR-2", "EX-1"]
    st = await decide_change(p, "ben", "CR-1", "approve")  # advice, carried on to the next run
    st = await p.status()
    cr1 = st.control.changes[0].decision if st.control is not None else None
    assert cr1 is not None and [(v.actor, v.counted) for v in cr1.votes] == [("ben", False)]
    st = await decide_change(p, "ada", "CR-1", "approve")
    st = await decide_exception(p, "ada", "widen_tolerance", tolerances=Tolerances(cost=10))
    assert st.control is not None and st.control.changes[0].state == "approved"
    assert [d.id for d in st.decisions] == ["CR-2"]
    assert len(await p.run_histories()) > 1, "never continued as new"
    p.assert_sound_ledger()


async def scenario_start_can(
    scenario: Scenario, model: g.GovernanceModel, charter: g.Charter
) -> Project:
    now = (await scenario.harness.env.get_current_time()).date()
    start = now - timedelta(days=START_DAYS_AGO)
    baseline = charter.baseline.model_copy(
        update={"start": start, "planned_end": start + timedelta(days=300)}
    )
    return await scenario.start(
        charter.model_copy(update={"baseline": baseline}), model, continue_as_new_after=2
    )


async def test_a_vanishing_actual_cost_keeps_reports_exact(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """actual_cost 5e-324 is a valid figure (ge=0): CPI = EV / AC overflows to inf. The
    highlight report's forecast then carries Infinity: the chain's sha256 is of Infinity,
    the ledger gets null (or the workflow fails); the stored report must hash to the event."""
    p = await started(scenario, p2_charter, prince2)
    outcome = await step(p, report(p, earned=18, cost=5e-324))
    assert isinstance(outcome, ProjectStatus), outcome
    issued = p.of_kind(EventKind.report_issued)
    assert issued, "no report issued"
    for event in issued:
        kind, number = event.payload["kind"], event.payload["number"]
        stored = p.harness.ledger.report(p.pid, kind, number)
        assert stored is not None
        assert digest(stored.content) == event.payload["sha256"], (
            f"{kind} report {number}: stored content does not hash to the chain's sha256 "
            f"(cpi stored as {stored.content.get('forecast', {}).get('cpi')!r})"
        )


async def overdrawn(p: Project) -> ProjectStatus:
    """Three minor changes of 13,000 by the project manager, then a fourth: EX-1 (cause
    change_budget) at the board, CR-4 referred to it."""
    for n in range(3):
        await change(p, "dev", f"Small fix {n}", cost_impact=13_000)
    st = await change(p, "dev", "One fix too many", cost_impact=13_000)
    assert st.control is not None and st.control.exception is not None
    assert st.control.exception.cause == "change_budget"
    return st


async def test_exception_plan_that_rounds_scope_to_zero_is_refused(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """ExceptionPlan.scope 0.3 (gt=0) becomes round(0.3) = 0 items in the new baseline:
    unreadable for every client, and the next progress report divides by zero."""
    p = await started(scenario, p2_charter, prince2)
    await overdrawn(p)  # no progress report yet: the plan is not assessed against one
    outcome = await step(
        p, decide_exception(p, "ada", "approve_plan", plan=ExceptionPlan(scope=0.3))
    )
    if isinstance(outcome, ProjectStatus):
        assert outcome.control is not None and outcome.control.baseline.scope.amount > 0
    else:  # a refusal is fine; a status the client cannot read is not
        assert isinstance(outcome, service.ProjectError), repr(outcome)


async def test_approving_a_plan_for_a_change_budget_exception_does_not_overdraw_it(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """widen_tolerance checks the widened change budget covers the referred change;
    approve_plan (here only a later end) approves the change all the same."""
    p = await started(scenario, p2_charter, prince2)
    st = await overdrawn(p)
    assert st.control is not None
    end = st.control.baseline.planned_end + timedelta(days=10)
    message = await p.refused(
        lambda: decide_exception(p, "ada", "approve_plan", plan=ExceptionPlan(planned_end=end)),
        "InvalidDecision",
    )
    assert "CR-4" in message
    # A plan with a budget whose change budget (3 %) pays for CR-4 is taken.
    st = await decide_exception(p, "ada", "approve_plan", plan=ExceptionPlan(budget=1_800_000))
    assert st.control is not None and st.control.changes[-1].state == "approved"
    assert st.control.change_budget_left >= 0


async def test_approving_a_change_does_not_bar_the_approver_from_the_exception_it_causes(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A formal change adding 10 % scope, approved with ada's deciding vote, turns the
    forecast red at stage level: the exception goes to the board, whose only decider is ada;
    but the exception records ada as its requester, and four eyes leaves nobody to decide."""
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=18, cost=140_000)  # on plan: green
    await change(p, "dev", "Ten percent more", scope_impact=18)
    await decide_change(p, "ben", "CR-1", "approve")
    st = await decide_change(p, "ada", "CR-1", "approve")
    assert st.control is not None and st.control.exception is not None
    ex = st.control.exception
    assert ex.level == "board" and ex.decision is not None
    assert ex.decision.eligible == ["ada"], (
        f"exception {ex.id} requested by {ex.decision.requested_by!r}: eligible "
        f"{ex.decision.eligible}"
    )


async def test_formal_change_cannot_grow_the_budget_past_what_money_holds(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """A budget of 999,999,999,999,999 (Money: 15 digits) and a valid formal change of
    1e13: the new baseline (model_copy, never validated) holds 16 digits; no client can read
    the project's status again (and a continue-as-new would not start)."""
    big = p2_charter.baseline.model_copy(update={"budget": g.Charter.model_validate(
        {**p2_charter.model_dump(mode="json"),
         "baseline": {**p2_charter.baseline.model_dump(mode="json"),
                      "budget": "999999999999999"}}).baseline.budget})  # fmt: skip
    p = await started(scenario, p2_charter.model_copy(update={"baseline": big}), prince2)
    message = await p.refused(
        lambda: change(p, "dev", "Gold plating", cost_impact=1e13), "InvalidBaseline"
    )
    assert "budget" in message
