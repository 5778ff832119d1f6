"""Hostile review of issue #12 on the time-skipping server: advisers, completing review tasks
and the portfolio row. Tests that fail prove a finding; the others are attacks that held up
(kept so they stay held)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import partial

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import governance as g
from governance.audit import EventKind
from governance.messages import CompleteTaskInput
from phasegate import service
from phasegate.cli._project import _due_of, gate_lines
from tests.workflows.scenario import Project, Scenario, eventually, with_roles
from tests.workflows.test_control import change, started
from tests.workflows.test_portfolio_row import row, row_when
from tests.workflows.test_tasks import REVIEW, workflow_refuses
from workflows import ProjectWorkflow

P2_GATE = "starting_up_gate/1"


def listed(p: Project, memo_row: dict[str, object]) -> service.ProjectRow:
    """The row `project list` builds for ``p`` from its memo."""
    return service.ProjectRow(
        p.pid, "idea", "projektflodet@1.0", "gate:idea_gate", "running",
        **service.row_of_memo(memo_row),
    )  # fmt: skip


async def escalations(p: Project, n: int) -> None:
    async def seen() -> bool:
        return len(p.of_kind(EventKind.escalated)) >= n

    await eventually(seen)


# -- findings -----------------------------------------------------------------------------------


async def test_a_gate_past_the_sla_of_the_top_of_its_chain_is_listed_as_overdue(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The idea gate escalates to the portfolio (the top level, P10D). Once that SLA passes
    too, the gate still waits (nobody above), but the row loses its deadline: `project list`
    shows due "-" and `--overdue` leaves the project out, the one the PMO must chase most."""
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.sleep(days=10, hours=1)
    await escalations(p, 1)
    await p.sleep(days=10, hours=1)  # the portfolio's SLA passed as well
    await escalations(p, 2)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "portfolio"  # still undecided
    memo = await row_when(p, lambda r: True)
    now = await p.harness.env.get_current_time()
    r = listed(p, memo)
    shown = gate_lines(st.gate, now)  # `project status` says nothing of it either
    assert _due_of(r, now).startswith("overdue"), (memo, _due_of(r, now), shown)
    assert r.overdue(now), memo


async def test_an_advise_task_refused_with_a_hint_like_a_decide_task(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    """`tasks complete` of an advise task (it is in the adviser's inbox, with an id) says "no
    open review task ... (UnknownTask)", as if it did not exist, instead of telling the adviser
    to give the advice with `gate decide` as a decide task's refusal does."""
    p = await scenario.start(p2_charter, prince2)
    await p.request("dev")
    await p.recorded()
    message = await p.refused(partial(p.complete, "ben", f"{P2_GATE}/advise/ben"), "DecideTask")
    assert "gate decide" in message


# -- attacks that held up -----------------------------------------------------------------------


async def test_concurrent_completions_of_one_task_record_it_once(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.recorded()
    [tid] = [t.id for t in p.tasks() if t.key == REVIEW]
    client, ledger = p.harness.client, p.harness.ledger
    # Through the inbox (both see it open), and straight to the workflow, all at once.
    raw = [
        p.handle.execute_update(
            ProjectWorkflow.complete_task, CompleteTaskInput(actor=actor, key=REVIEW)
        )
        for actor in ("anna", "david", "anna")
    ]
    results = await asyncio.gather(
        service.complete_task(client, ledger, tid, "anna"),
        service.complete_task(client, ledger, tid, "david"),
        *raw,
        return_exceptions=True,
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 1, results
    for r in results:
        if isinstance(r, service.ProjectError):
            assert r.kind == "TaskClosed", r
        elif isinstance(r, WorkflowUpdateFailedError):
            assert isinstance(r.cause, ApplicationError) and r.cause.type == "TaskClosed", r
    await p.recorded()
    assert len(p.of_kind(EventKind.task_completed)) == 1
    assert p.task_status()[REVIEW] == "done"
    p.assert_sound_ledger()


async def test_a_round_one_task_is_not_completed_once_round_two_opened(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.recorded()
    [old] = [t.id for t in p.tasks() if t.key == REVIEW]
    await p.decide("anna", "rework", "more numbers")
    st = await p.request("david")
    assert st.gate is not None and st.gate.round == 2
    with_id = partial(service.complete_task, p.harness.client, p.harness.ledger, old, "anna")
    await p.refused(with_id, "TaskClosed")
    await workflow_refuses(p, CompleteTaskInput(actor="david", key=REVIEW), "UnknownTask")
    await p.complete("anna", "idea_gate/2/task1/anna")
    [done] = p.of_kind(EventKind.task_completed)
    assert done.payload["round"] == 2


async def test_an_adviser_who_holds_the_escalation_level_advises_first_then_decides_there(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    charter = with_roles(p2_charter, ben=["senior_user", "corporate"])
    p = await scenario.start(charter, prince2)
    await p.request("dev")
    st = await p.decide("ben", "approve")  # advice, not a decision at a level
    assert st.gate is not None and st.gate.approvals == 0
    assert [(v.counted, v.level) for v in st.gate.votes] == [(False, None)]
    await p.sleep(days=7, hours=1)
    await escalations(p, 1)
    st = await p.status()
    assert st.gate is not None and st.gate.level == "corporate"
    assert sorted(st.gate.awaited) == ["ben", "grace"]  # the advice does not count there
    st = await p.decide("ben", "approve")
    assert st.gate is None and st.state == "initiation"


async def test_the_row_deadline_moves_with_the_resume(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.deadline is not None
    first = st.gate.deadline
    await p.sleep(days=2)
    await p.board("hold", "anna", "budget")
    await p.sleep(days=20)  # the old deadline passes while held: no clock runs
    memo = await row(p)
    now = await p.harness.env.get_current_time()
    assert not listed(p, memo).overdue(now) and _due_of(listed(p, memo), now) == "-"
    await p.board("resume", "anna")
    st = await p.status()
    assert st.gate is not None and st.gate.deadline is not None and st.gate.level is None
    assert st.gate.deadline - first >= timedelta(days=20)
    memo = await row_when(p, lambda r: r["held_since"] is None)
    assert datetime.fromisoformat(str(memo["deadline"])) == st.gate.deadline
    assert _due_of(listed(p, memo), now).startswith("in ")


async def test_the_row_deadline_is_a_formal_changes_when_no_gate_is_open(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    st = await change(p, "dev", "Second payroll run", cost_impact=50_000)
    assert st.control is not None and st.gate is None
    decision = st.control.changes[-1].decision
    assert decision is not None and decision.deadline is not None
    memo = await row_when(p, lambda r: r["deadline"] is not None)
    assert datetime.fromisoformat(str(memo["deadline"])) == decision.deadline
