"""Replaying committed histories: today's workflows must make the same decisions.

The histories are recorded by the scenario tests; regenerate them after a deliberate change
of the workflow's commands with::

    PHASEGATE_RECORD_HISTORIES=1 pytest tests/workflows
"""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

import worker
from tests.workflows.scenario import ACCEPTED, CONTINUED, HISTORIES, RECORD
from workflows import IterationWorkflow, ProjectWorkflow

SCENARIOS = {
    "projektflodet_happy": 1,
    "prince2_happy": 1,
    "prince2_advice": 1,
    "sla_escalation": 1,
    "hold_resume": 1,
    "continue_as_new": 6,
    "iteration_cycle": 1,
    "iteration_demo_escalated": 1,
    "iteration_closed_by_gate": 1,
    "control_cost_exception": 1,
    "control_time_escalated_closed": 1,
    "control_formal_change_beside_gate": 1,
    "portfolio_row": 1,
    "portfolio_row_people": 1,
    "delegation_window": 1,
}
"""Each recorded scenario and the fewest runs its history holds."""


def load(name: str) -> list[WorkflowHistory]:
    paths = sorted(HISTORIES.glob(f"{name}.json")) or sorted(
        HISTORIES.glob(f"{name}.run*.json"), key=lambda p: int(p.suffixes[0].removeprefix(".run"))
    )
    return [WorkflowHistory.from_json(f"{name}-{p.stem}", p.read_text()) for p in paths]


@pytest.mark.skipif(RECORD, reason="histories are being rewritten by this run")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_committed_history_replays_without_nondeterminism(name: str) -> None:
    histories = load(name)
    assert len(histories) >= SCENARIOS[name], (
        f"missing history {name} in {HISTORIES}: record it with PHASEGATE_RECORD_HISTORIES=1"
    )
    assert all(any(e.event_type == ACCEPTED for e in h.events) for h in histories)
    if SCENARIOS[name] > 1:
        assert all(h.events[-1].event_type == CONTINUED for h in histories[:-1])
    replayer = Replayer(
        workflows=[ProjectWorkflow, IterationWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=worker.sandbox_runner(),
    )
    failures = {}
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = repr(result.replay_failure)
    assert failures == {}


@pytest.mark.skipif(RECORD, reason="histories are being rewritten by this run")
def test_every_committed_history_belongs_to_a_known_scenario() -> None:
    """A stale file (a scenario renamed or removed) would never be replayed: refuse it."""
    names = {p.name.split(".")[0] for p in HISTORIES.glob("*.json")}
    assert names == set(SCENARIOS)
