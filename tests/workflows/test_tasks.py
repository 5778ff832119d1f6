"""Review tasks a gate hands out, completed by their assignee or by the project manager: a
``task_completed`` event in the chain and the task ``done`` in the inbox, in one write. Every
other attempt is refused, says why, and changes nothing (``Project.refused``)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import governance as g
from governance.audit import EventKind
from governance.messages import CompleteTaskInput
from phasegate import history, service
from tests.workflows.scenario import Project, Scenario
from workflows import ProjectWorkflow

REVIEW = "idea_gate/1/task1/anna"
"""projektflödet's idea gate hands its one review task to the bestallare: anna."""
TITLE = "Bedöm idébeskrivningen"
DECIDE_ANNA, DECIDE_BO = "idea_gate/1/decide/anna", "idea_gate/1/decide/bo"


async def workflow_refuses(p: Project, arg: CompleteTaskInput, kind: str) -> str:
    """The update sent as it is (no client-side check of the inbox first) is refused by the
    workflow with ``kind`` and changes nothing; returns the refusal's message."""
    failure = await p.unchanged(
        partial(p.handle.execute_update, ProjectWorkflow.complete_task, arg)
    )
    assert isinstance(failure, WorkflowUpdateFailedError), repr(failure)
    assert isinstance(failure.cause, ApplicationError), repr(failure.cause)
    assert failure.cause.type == kind, f"expected {kind}, got {failure.cause.type}: {failure}"
    return failure.cause.message


async def test_the_assignee_completes_a_review_task_recorded_and_done_in_the_inbox(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    assert "complete_task" in await p.allowed("anna")
    st = await p.complete("anna", REVIEW, "read it twice")
    assert st.state == "idea_gate" and st.recorded_seq == st.last_seq
    [done] = p.of_kind(EventKind.task_completed)
    assert (done.actor, done.role, done.comment) == ("anna", "bestallare", "read it twice")
    assert done.from_state == done.to_state == "idea_gate"
    assert done.payload == {"task": REVIEW, "title": TITLE, "assignee": "anna", "round": 1}
    [task] = [t for t in p.tasks() if t.key == REVIEW]
    assert (task.status, task.closed_at) == ("done", done.at)
    assert p.task_status() == {REVIEW: "done", DECIDE_ANNA: "open", DECIDE_BO: "open"}
    for actor in ("anna", "david"):  # nothing left to complete, for her or the manager
        assert "complete_task" not in await p.allowed(actor)

    # The gate is decided as ever; the completed task stays done, not withdrawn.
    await p.decide("bo", "approve")
    st = await p.decide("anna", "approve")
    assert st.state == "pre_study"
    assert p.task_status() == {REVIEW: "done", DECIDE_ANNA: "done", DECIDE_BO: "done"}
    p.assert_sound_ledger()


async def test_the_project_manager_completes_someone_elses_review_task(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    assert "complete_task" in await p.allowed("david")
    await p.complete("david", REVIEW)
    [done] = p.of_kind(EventKind.task_completed)
    assert (done.actor, done.role, done.comment) == ("david", "projektledare", None)
    assert done.payload["assignee"] == "anna"
    assert history.phrase(done) == f"completed task: {TITLE} (assigned to anna)"
    assert p.task_status()[REVIEW] == "done"
    assert "complete_task" not in await p.allowed("anna")


async def test_nobody_else_completes_a_task_and_a_held_project_takes_none(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    for actor in ("bo", "cecilia", "gustav"):  # an approver, the supplier, the portfolio owner
        message = await p.refused(partial(p.complete, actor, REVIEW), "NotAuthorised")
        # The inbox's id, as `phasegate tasks` shows it, not the workflow's key.
        assert re.fullmatch(
            rf'"{actor}" may not complete task "{TITLE}" \(task \d+\): only its assignee, '
            r"anna, or the project manager \(projektledare\) may",
            message,
        ), message
        assert "complete_task" not in await p.allowed(actor)
    message = await p.refused(partial(p.complete, "mallory", REVIEW), "UnknownActor")
    assert '"mallory" is not a person in the charter' in message

    await p.board("hold", "anna", "budget review")
    await p.refused(partial(p.complete, "anna", REVIEW), "OnHold")
    assert "complete_task" not in await p.allowed("anna")
    await p.board("resume", "anna")
    await p.complete("anna", REVIEW)
    assert len(p.of_kind(EventKind.task_completed)) == 1


async def test_a_task_is_completed_once(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.complete("anna", REVIEW)
    for actor in ("anna", "david"):
        message = await p.refused(partial(p.complete, actor, REVIEW), "TaskClosed")
        assert f'("{TITLE}", {p.pid}) is already done' in message
    # The workflow itself knows, whatever the inbox says.
    message = await workflow_refuses(p, CompleteTaskInput(actor="anna", key=REVIEW), "TaskClosed")
    assert message == f'task "{TITLE}" ({REVIEW}) is already done'
    assert len(p.of_kind(EventKind.task_completed)) == 1


async def test_decide_tasks_are_done_by_deciding_not_completed(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    for actor in ("anna", "david"):
        message = await p.refused(partial(p.complete, actor, DECIDE_ANNA), "DecideTask")
        assert re.fullmatch(
            r'task \d+ \("Decide gate: Beslutspunkt 1: starta förstudie \(round 1\)"\) is a '
            r"decision, done when you decide: vote with `phasegate gate decide`",
            message,
        ), message
    for key, hint in {
        "change/CR-1/decide/anna": "decide it with `phasegate change decide`",
        "e7/exception/EX-2/portfolio/decide/gustav": "decide it with `phasegate exception decide`",
        "e7/idea_gate/1/portfolio/decide/gustav": "vote with `phasegate gate decide`",
    }.items():
        message = await workflow_refuses(p, CompleteTaskInput(actor="david", key=key), "DecideTask")
        assert message.endswith(hint), message
    message = await workflow_refuses(
        p, CompleteTaskInput(actor="david", key="it-2/demo/david"), "IterationTask"
    )
    assert "iteration 2's" in message
    assert p.task_status() == {REVIEW: "open", DECIDE_ANNA: "open", DECIDE_BO: "open"}


async def test_unknown_tasks_and_those_of_a_decided_gate_are_refused(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    client, ledger = p.harness.client, p.harness.ledger
    unknown = max((t.id for t in ledger.tasks()), default=0) + 1000
    try:
        await service.complete_task(client, ledger, unknown, "anna")
    except service.ProjectError as exc:
        assert exc.kind == "UnknownTask"
        assert str(exc) == (
            f"no task {unknown} in the ledger (`phasegate tasks` lists the tasks with their ids)"
        )
    else:
        raise AssertionError("an unknown task id was taken")
    await p.request("david")
    for key in ("idea_gate/1/task2/anna", "idea_gate/1/task1/bo", "pre_study_gate/1/task1/bo"):
        message = await workflow_refuses(
            p, CompleteTaskInput(actor="david", key=key), "UnknownTask"
        )
        assert message == f"no open review task {key} in project {p.pid}"
    await p.decide("bo", "approve")
    await p.decide("anna", "approve")
    assert p.task_status()[REVIEW] == "withdrawn"  # the gate passed: nobody needs it now
    message = await p.refused(partial(p.complete, "anna", REVIEW), "TaskClosed")
    assert "is already withdrawn" in message
    message = await workflow_refuses(p, CompleteTaskInput(actor="anna", key=REVIEW), "UnknownTask")
    assert message.endswith("(no gate is open: it is in pre_study)")


async def test_an_expired_request_or_an_ended_project_completes_nothing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    now = await p.harness.env.get_current_time()
    late = CompleteTaskInput(actor="anna", key=REVIEW, expires_at=now - timedelta(seconds=1))
    message = await workflow_refuses(p, late, "RequestExpired")
    assert "nothing was applied" in message

    await p.board("cancel", "anna", "no budget")
    assert p.task_status()[REVIEW] == "cancelled"
    message = await p.refused(partial(p.complete, "anna", REVIEW), "TaskClosed")
    assert "is already cancelled" in message
    # Sent anyway, past the inbox's check: the project's workflow has ended.
    send = partial(
        service.send_update,
        p.harness.client,
        service.project(p.pid),
        ProjectWorkflow.complete_task,
        CompleteTaskInput(actor="anna", key=REVIEW),
    )
    message = await p.refused(send, "ProjectClosed")
    assert message == f"project {p.pid} is no longer running"
    assert not p.of_kind(EventKind.task_completed)


async def test_a_task_id_names_its_own_project(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """Every project's idea gate hands out a task keyed ``idea_gate/1/task1/anna``: the id in
    the inbox says whose it is, and only that project completes it."""
    p = await scenario.start(pf_charter, projektflodet)
    q = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await q.request("david")
    before = await p.status()
    await q.complete("anna", REVIEW)
    assert q.task_status()[REVIEW] == "done" and p.task_status()[REVIEW] == "open"
    assert len(q.of_kind(EventKind.task_completed)) == 1
    assert not p.of_kind(EventKind.task_completed)
    assert await p.status() == before
