"""Requests the workflow refuses: each names why, and none leaves a trace anywhere.

``Project.refused`` compares the status query, the ledger's events and tasks, and the update
ids accepted into the workflow's history before and after every refused request.
"""

from __future__ import annotations

from collections.abc import Awaitable
from functools import partial

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import governance as g
from governance.messages import MAX_COMMENT, Action, DecideGateInput, ProjectStatus
from phasegate import service
from tests.workflows.scenario import Project, Scenario
from workflows import ProjectWorkflow

ACTIONS: tuple[Action, ...] = (
    "request_gate",
    "approve",
    "reject",
    "rework",
    "hold",
    "resume",
    "cancel",
    "complete_task",
)
REVIEW = "idea_gate/1/task1/anna"
"""The idea gate's review task (anna's): what ``act`` tries to complete."""
PF_ACTORS = ("anna", "bo", "cecilia", "david", "erik", "fatima", "gustav", "nobody")


def act(p: Project, actor: str, action: str) -> Awaitable[ProjectStatus]:
    if action == "request_gate":
        return p.request(actor, deliverables=False)
    if action in ("approve", "reject", "rework"):
        return p.decide(actor, action)
    if action == "complete_task":
        return p.complete(actor, REVIEW)
    return p.board(action, actor)


async def test_a_second_vote_by_the_same_person_is_refused_as_duplicate(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.decide("bo", "approve")
    for decision in ("approve", "reject", "rework"):
        message = await p.refused(partial(p.decide, "bo", decision), "DuplicateVote")
        assert "already decided" in message
    st = await p.status()
    assert st.gate is not None and [v.actor for v in st.gate.votes] == ["bo"]
    # Only the updates that were accepted are in the history: the deliverable submitted,
    # the request and bo's vote.
    assert len(await p.accepted_updates()) == 3


async def test_people_who_are_not_approvers_or_not_the_manager_are_refused_not_authorised(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    for actor in ("anna", "bo", "gustav"):
        message = await p.refused(partial(p.request, actor, deliverables=False), "NotAuthorised")
        assert "not the project manager" in message
    await p.request("david")
    # idea gate: anna and bo approve; the supplier, the manager and (before any
    # escalation) the portfolio owner may not decide it.
    for actor in ("cecilia", "david", "gustav"):
        message = await p.refused(partial(p.decide, actor, "approve"), "NotAuthorised")
        assert "approvers are bestallare, mottagare" in message
    for actor in ("bo", "david", "gustav"):
        await p.refused(partial(p.board, "hold", actor), "NotAuthorised")


async def test_a_person_not_in_the_charter_is_refused_as_unknown(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.refused(lambda: p.request("mallory", deliverables=False), "UnknownActor")
    await p.request("david")
    message = await p.refused(lambda: p.decide("mallory", "approve"), "UnknownActor")
    assert '"mallory" is not a person in the charter' in message
    await p.refused(lambda: p.board("cancel", "mallory"), "UnknownActor")
    assert await p.allowed("mallory") == []


async def test_a_decision_with_no_gate_open_is_refused(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    message = await p.refused(lambda: p.decide("anna", "approve"), "GateNotOpen")
    assert "no gate is open (project is in idea)" in message
    await p.request("david")
    await p.refused(lambda: p.request("david", deliverables=False), "IllegalTransition")


async def test_every_request_to_a_cancelled_project_is_refused_as_closed(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.decide("bo", "approve")
    st = await p.board("cancel", "anna", "budget withdrawn")
    assert (st.state, st.terminal, st.gate, st.phase) == ("cancelled", True, None, None)
    assert (await p.result()).outcome == "cancelled"
    assert p.kinds()[-1] == "cancelled"
    assert {t.key: t.status for t in p.tasks()} == {
        "idea_gate/1/task1/anna": "cancelled",
        "idea_gate/1/decide/anna": "cancelled",
        "idea_gate/1/decide/bo": "done",
    }
    await p.refused(lambda: p.decide("anna", "approve"), "ProjectClosed")
    await p.refused(lambda: p.request("david", deliverables=False), "ProjectClosed")
    await p.refused(lambda: p.board("resume", "anna"), "ProjectClosed")
    for actor in PF_ACTORS:
        assert await p.allowed(actor) == []
    p.assert_sound_ledger()


async def test_invalid_decision_or_oversized_comment_is_refused_and_changes_nothing(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    message = await p.refused(lambda: p.decide("anna", "maybe"), "InvalidInput")
    assert "decision" in message
    too_long = "x" * (MAX_COMMENT + 1)
    message = await p.refused(lambda: p.decide("anna", "approve", too_long), "InvalidInput")
    assert "comment" in message
    await p.refused(lambda: p.request("david", too_long, deliverables=False), "InvalidInput")
    await p.refused(lambda: p.board("hold", "anna", too_long), "InvalidInput")
    await p.refused(lambda: p.board("pause", "anna"), "InvalidInput")

    # Past the client's checks (a client of its own), the workflow still refuses the input
    # before accepting the update.
    for raw in (
        DecideGateInput.model_construct(actor="anna", decision="maybe"),  # type: ignore[arg-type]
        DecideGateInput.model_construct(actor="anna", decision="approve", comment=too_long),
    ):
        failure = await p.unchanged(
            partial(p.handle.execute_update, ProjectWorkflow.decide_gate, raw)
        )
        assert isinstance(failure, WorkflowUpdateFailedError)
        assert isinstance(failure.cause, ApplicationError)

    # The longest allowed comment is recorded whole.
    st = await p.decide("anna", "approve", "y" * MAX_COMMENT)
    assert st.gate is not None and st.gate.votes[0].comment == "y" * MAX_COMMENT
    assert p.events()[-1].comment == "y" * MAX_COMMENT


async def check_missing_deliverable_leaves_request_out(p: Project) -> None:
    """While a deliverable is missing the gate is not offered; once submitted, it is."""
    assert "request_gate" not in await p.allowed("david")
    await p.submit("david", "Idébeskrivning")


async def test_allowed_actions_match_what_the_workflow_accepts(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await check_missing_deliverable_leaves_request_out(p)

    async def check(expected: dict[str, list[Action]], *, control: bool = True) -> None:
        """Each actor's allowed actions are as expected, and every other one is refused.
        With ``control`` (a running project that is not held), the project manager may also
        report progress and everyone in the charter request a change."""
        for actor in PF_ACTORS:
            allowed = await p.allowed(actor)
            extra: list[Action] = []
            if control and actor != "nobody":
                extra = [*(["report_progress"] if actor == "david" else []), "request_change"]
            assert allowed == [*expected.get(actor, []), *extra], actor
            for action in ACTIONS:
                if action == "complete_task" and REVIEW not in p.task_status():
                    continue  # no gate has handed it out yet: nothing to try
                if action not in allowed:
                    failure = await p.unchanged(partial(act, p, actor, action))
                    assert isinstance(failure, service.ProjectError), (actor, action, failure)

    await check({"david": ["request_gate"], "anna": ["hold", "cancel"]})
    await p.request("david")
    await check(
        {
            "anna": ["approve", "reject", "rework", "hold", "cancel", "complete_task"],
            "bo": ["approve", "reject", "rework"],
            "david": ["complete_task"],  # the project manager: anna's review task
        }
    )
    await p.decide("bo", "approve")
    await check(
        {
            "anna": ["approve", "reject", "rework", "hold", "cancel", "complete_task"],
            "david": ["complete_task"],
        }
    )
    await p.board("hold", "anna")
    await check({"anna": ["resume", "cancel"]}, control=False)
    await p.board("resume", "anna")
    st = await p.decide("anna", "approve")
    assert st.state == "pre_study"
    await check({"anna": ["hold", "cancel"]})  # its deliverables are missing
    for name in ("Förstudierapport", "Preliminär business case"):
        await p.submit("erik", name)
    await check({"david": ["request_gate"], "anna": ["hold", "cancel"]})
    await p.board("cancel", "anna")
    await check({}, control=False)
