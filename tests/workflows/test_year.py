"""A year of one project under time skipping: start to closure, nothing lost on the way."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

import governance as g
from governance.audit import EventKind
from tests.workflows.scenario import CONTINUED, Iteration, Scenario
from tests.workflows.year import YEAR, simulate_year

CHILD_STARTED = EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
EVERY_WORKING_DAY = timedelta(days=1)


@pytest_asyncio.fixture
async def env(own_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    """A server of the test's own: its project runs iterations (see ``own_env``)."""
    yield own_env


async def test_a_year_with_17_iterations_runs_to_closure_across_continue_as_new_losing_nothing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # Continued as new after every 8 handled updates: in the gate phases and at iteration
    # boundaries (each iteration's result counts as one), never with an iteration open.
    p = await scenario.start(pf_charter, projektflodet, continue_as_new_after=8)
    year = await simulate_year(p)
    facts = year.iterations
    n = len(facts)
    assert len(year.done) == len(YEAR) >= 15 and n == len(YEAR) + 1
    assert timedelta(days=350) <= year.closed_at - year.started_at <= timedelta(days=380)
    assert year.reviewed_at - year.closed_at >= timedelta(days=180)  # the review waited
    assert year.result.outcome == "closed"
    velocities = [f.completed_effort for f in year.done]
    assert len(set(velocities)) >= 8, velocities  # the script varies them

    # The project continued as new, more than once, and its iterations span several runs,
    # each started exactly once.
    runs = await p.run_histories()
    assert len(runs) >= 3
    assert all(r.events[-1].event_type == CONTINUED for r in runs[:-1])
    started = [sum(e.event_type == CHILD_STARTED for e in r.events) for r in runs]
    assert sum(started) == n and sum(1 for s in started if s) >= 2, started

    # The project's chain: seqs 1..n, verified; one start and one finish per iteration, in
    # order, each finish tied to the head of the iteration's own chain.
    st = await p.status()
    assert st.state == "closed" and st.outcome == "closed"
    events = p.assert_sound_ledger()
    assert year.result.last_seq == len(events)
    starts = [e.payload["number"] for e in p.of_kind(EventKind.iteration_started)]
    finishes = p.of_kind(EventKind.iteration_finished)
    assert starts == [f.payload["number"] for f in finishes] == list(range(1, n + 1))
    kinds = [str(e.kind) for e in events]
    assert kinds[-1] == "closed" and kinds.count("gate_passed") == 6

    ledger_events = len(events)
    for f, fin in zip(facts, finishes, strict=True):
        it = Iteration(p, f.number)
        chain = it.assert_sound_chain()
        ledger_events += len(chain)
        assert fin.payload["chain_head"] == {"seq": chain[-1].seq, "hash": chain[-1].hash}
        assert chain[0].kind == EventKind.iteration_opened
        assert chain[-1].kind == EventKind.iteration_ended
        assert chain[-1].payload["outcome"] == f.outcome
        figures = {
            k: fin.payload[k]
            for k in ("completed_items", "completed_effort", "added_items", "delivered")
        }
        assert figures == {
            "completed_items": f.completed_items,
            "completed_effort": f.completed_effort,
            "added_items": f.added_items,
            "delivered": f.delivered,
        }, f.number

        # Stand-ups: one per working day of the timebox (to its end, or to when it was
        # closed early), Swedish holidays off, counted from the plan alone.
        standups = [e for e in chain if e.kind == EventKind.standup]
        assert [e.payload["n"] for e in standups] == list(range(1, len(standups) + 1))
        if f.planned_at is None:
            assert standups == []
            continue
        assert f.timebox is not None
        (ended,) = [e for e in chain if e.kind == EventKind.execution_ended]
        end = ended.at if f.closed_early else f.planned_at + f.timebox
        assert ended.at >= end and (ended.payload["reason"] == "closed early") == f.closed_early
        off = g.days_off_between("SE", f.planned_at.date(), end.date())
        expected = g.cadence_times(f.planned_at, end, EVERY_WORKING_DAY, "SE", days_off=off)
        assert [e.payload["due"] for e in standups] == [d.isoformat() for d in expected], f.number

    # The velocity history holds every iteration with its figures; the forecast is there.
    ex = st.execution
    assert ex is not None and ex.open_iteration is None and ex.iterations == n
    assert [
        (v.number, v.outcome, v.committed_items, v.completed_items, v.completed_effort)
        for v in ex.history
    ] == [
        (f.number, f.outcome, f.committed_items, f.completed_items, f.completed_effort)
        for f in facts
    ]
    assert [(v.added_effort, v.delivered) for v in ex.history] == [
        (f.added_effort, f.delivered) for f in facts
    ]
    total_added = sum(f.added_effort for f in facts)
    assert ex.burn_up.completed == sum(velocities)
    assert ex.burn_up.total == 240 + total_added
    assert ex.forecast is not None and ex.forecast.based_on == len(YEAR)
    assert math.isclose(ex.forecast.mean_velocity, sum(velocities) / len(velocities))
    assert ex.forecast.remaining == ex.burn_up.total - ex.burn_up.completed
    assert ex.forecast.mean_date is not None and ex.forecast.pessimistic_date is not None
    assert ex.forecast.pessimistic_date >= ex.forecast.mean_date
