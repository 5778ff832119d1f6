"""Whole projects, first phase to closure, under both built-in models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

import governance as g
from governance.audit import EventKind
from governance.messages import ProjectResult
from tests.workflows.scenario import (
    ACCEPTED,
    P2_ADVISERS,
    P2_APPROVERS,
    PF_APPROVERS,
    Project,
    Scenario,
    eventually,
)


@pytest_asyncio.fixture
async def env(own_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    """A server of each test's own: these projects run iterations (see ``own_env``)."""
    yield own_env


def happy_kinds(model: g.GovernanceModel, plan: dict[str, list[str]]) -> list[str]:
    """The ledger of a project whose every gate passes on the first request, its
    deliverables submitted just before; an iterative phase runs an iteration until then."""
    kinds = ["project_started", "phase_started"]
    for i, phase in enumerate(model.phases):
        iterating = phase.iterative
        if iterating:
            kinds.append("iteration_started")
        kinds += ["deliverable_submitted"] * len(phase.gate.deliverables)
        if iterating:
            kinds.append("iteration_closed")
        kinds.append("gate_opened")
        if iterating:
            kinds.append("iteration_finished")
        kinds += [*["vote_cast"] * len(plan[phase.id]), "gate_passed"]
        kinds.append("closed" if i == len(model.phases) - 1 else "phase_started")
    return kinds


async def run_projektflodet(p: Project) -> ProjectResult:
    """Every Projektflödet gate; the benefits review only once its six months have passed."""
    model = p.model
    st = await p.status()
    assert (st.state, st.phase_index, st.gate, st.last_seq) == ("idea", 0, None, 2)
    for phase in model.phases[:-1]:
        assert (await p.status()).state == phase.id
        st = await p.pass_gate(PF_APPROVERS[phase.id], pm="david")

    assert st.state == "benefits_realisation"
    assert st.phase_opens_at is not None
    assert st.phase_opens_at - st.phase_started_at == timedelta(days=180)
    message = await p.refused(lambda: p.request("david", deliverables=False), "PhaseNotOpen")
    assert "opens at" in message
    assert "request_gate" not in await p.allowed("david")

    await p.sleep(days=181)

    async def opened() -> bool:
        return (await p.status()).phase_opens_at is None

    await eventually(opened)
    control = ["report_progress", "request_change"]
    assert await p.allowed("david") == control  # its deliverable is missing
    await p.submit("david", "Effektuppföljning")
    assert await p.allowed("david") == ["request_gate", *control]
    st = await p.pass_gate(PF_APPROVERS["benefits_realisation"], pm="david")
    assert (st.state, st.terminal, st.phase, st.gate) == ("closed", True, None, None)
    result = await p.result()
    assert result == ProjectResult(project_id=p.pid, outcome="closed", last_seq=st.last_seq)
    return result


def check_projektflodet_ledger(p: Project, result: ProjectResult) -> None:
    events = p.assert_sound_ledger()
    assert result.last_seq == len(events)
    # Beside the gates, the project issued a highlight report each week (P7D).
    kinds = [str(e.kind) for e in events if e.kind != EventKind.report_issued]
    assert kinds == happy_kinds(p.model, PF_APPROVERS)
    assert len(p.of_kind(EventKind.report_issued)) >= 25  # 181 days of P7D
    passed = [e for e in events if e.kind == EventKind.gate_passed]
    assert [(e.from_state, e.to_state) for e in passed] == [
        ("idea_gate", "pre_study"),
        ("pre_study_gate", "planning"),
        ("planning_gate", "execution"),
        ("execution_gate", "closure"),
        ("closure_gate", "benefits_realisation"),
        ("benefits_realisation_gate", "closed"),
    ]
    votes = [(e.actor, e.payload["decision"]) for e in events if e.kind == EventKind.vote_cast]
    assert votes == p.decisions
    # The benefits gate opened no earlier than six months after the closure gate passed.
    benefits_opened = [e for e in events if e.kind == EventKind.gate_opened][-1]
    assert benefits_opened.at - passed[4].at >= timedelta(days=180)
    assert all(
        e.model == "projektflodet@1.0" and e.model_hash == p.model.content_hash() for e in events
    )
    assert p.tasks(status="open") == []


async def test_projektflodet_project_runs_every_gate_to_closed_with_benefits_review_after_6_months(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    result = await run_projektflodet(p)
    check_projektflodet_ledger(p, result)
    assert {e.run_id for e in p.events()} == {p.first_run_id}
    assert (await p.handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    await p.record("projektflodet_happy")


async def test_prince2_project_runs_every_stage_boundary_to_closure(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    st = await p.status()
    assert (st.model, st.model_hash) == ("prince2@2.0", prince2.content_hash())
    assert st.phases == ["starting_up", "initiation", "delivery_1", "delivery_2", "closing"]
    for phase in prince2.phases:
        st = await p.status()
        assert st.state == phase.id and st.phase == phase.id
        opened = await p.request("dev")
        assert opened.gate is not None
        # The executive decides; the senior user and the senior supplier advise.
        assert (opened.gate.eligible, opened.gate.required) == (["ada"], ["executive"])
        assert opened.gate.advisers == opened.gate.advice_awaited == ["ben", "chloe"]
        for actor in P2_ADVISERS[phase.id]:
            st = await p.decide(actor, "approve")
            assert st.gate is not None and st.gate.approvals == 0  # advice is not counted
        for actor in P2_APPROVERS[phase.id]:
            st = await p.decide(actor, "approve")
        assert st.gate is None
    assert (st.state, st.terminal) == ("closed", True)
    result = await p.result()
    assert result.outcome == "closed"

    events = p.assert_sound_ledger()
    assert result.last_seq == len(events)
    plan = {ph: P2_ADVISERS[ph] + people for ph, people in P2_APPROVERS.items()}
    assert [str(e.kind) for e in events] == happy_kinds(prince2, plan)
    assert [e.to_state for e in events if e.kind == EventKind.gate_passed] == [
        "initiation",
        "delivery_1",
        "delivery_2",
        "closing",
        "closed",
    ]
    votes = [(e.actor, e.role, e.payload.get("counted")) for e in p.of_kind(EventKind.vote_cast)]
    assert votes == [
        (a, {"ben": "senior_user", "chloe": "senior_supplier", "ada": "executive"}[a],
         None if a == "ada" else False)
        for ph in plan.values() for a in ph
    ]  # fmt: skip
    # The initiation gate asked each board member for their part.
    initiation = {t.key: t for t in p.tasks() if t.gate == "initiation_gate/1"}
    assert {t.assignee for t in initiation.values() if "/task" in t.key} == {"ada", "ben", "chloe"}
    assert {t.title for t in initiation.values() if "/advise/" in t.key} == {
        "Advise on gate: Authorise the project (round 1)"
    }
    # A passed gate: the voters' decide tasks and the advisers' advise tasks are done; work
    # nobody reported done (the review tasks, the advise task of a board member who gave no
    # advice) is withdrawn.
    voted = {f"{ph}_gate/1/decide/{a}" for ph, people in P2_APPROVERS.items() for a in people}
    voted |= {f"{ph}_gate/1/advise/{a}" for ph, people in P2_ADVISERS.items() for a in people}
    advise = {f"{ph}_gate/1/advise/{a}" for ph in P2_APPROVERS for a in ("ben", "chloe")}
    assert advise <= {t.key for t in p.tasks()}
    assert {t.key: t.status for t in p.tasks()} == {
        t.key: "done" if t.key in voted else "withdrawn" for t in p.tasks()
    }
    assert "withdrawn" in {t.status for t in p.tasks()}
    await p.record("prince2_happy")


async def test_continue_as_new_every_two_updates_loses_and_repeats_nothing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet, continue_as_new_after=2)
    result = await run_projektflodet(p)
    check_projektflodet_ledger(p, result)

    runs = await p.run_histories()
    # 27 updates (11 deliverables, 6 requests, 10 votes), a new run after every second one.
    assert len(runs) >= 6
    assert (await p.handle.describe()).run_id != p.first_run_id
    run_ids = {e.run_id for e in p.events()}
    assert p.first_run_id in run_ids and len(run_ids) >= 6
    accepted = [e for run in runs for e in run.events if e.event_type == ACCEPTED]
    update_ids = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        for e in accepted
    ]
    deliverables = sum(len(phase.gate.deliverables) for phase in projektflodet.phases)
    assert len(update_ids) == len(set(update_ids)) == 16 + deliverables == 27
    await p.record("continue_as_new")
