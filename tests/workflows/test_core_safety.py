"""The sound core at run time: control characters, expired requests, stale votes, a Temporal
cancellation, and a first phase that opens later. Each refused request changes nothing."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, CancelledError

import governance as g
from governance.audit import EventKind
from governance.messages import ActorInput, DecideGateInput, RequestGateInput
from phasegate import service
from tests.workflows.scenario import Project, Scenario, eventually
from workflows import ProjectWorkflow


async def _raw_refusal(p: Project, update: object, arg: object) -> ApplicationError:
    """``arg`` sent past the client's checks: the workflow's validator refuses it, and
    nothing changes anywhere."""
    failure = await p.unchanged(partial(p.handle.execute_update, update, arg))
    assert isinstance(failure, WorkflowUpdateFailedError)
    assert isinstance(failure.cause, ApplicationError)
    return failure.cause


@pytest.mark.parametrize(
    ("field", "value"),
    [("comment", "ok\x00then"), ("comment", "\x1b[2Jwiped"), ("actor", "anna\n")],
)
async def test_control_characters_are_refused_naming_the_field(
    scenario: Scenario,
    projektflodet: g.GovernanceModel,
    pf_charter: g.Charter,
    field: str,
    value: str,
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    args = {"actor": "anna", "decision": "approve", field: value}
    message = await p.refused(
        partial(p.decide, args["actor"], "approve", args.get("comment")), "InvalidInput"
    )
    assert f"{field}: " in message and "control characters" in message
    # Sent past the client's checks, the input fails to decode into the update's model:
    # refused before the validator, and nothing changes either.
    raw = DecideGateInput.model_construct(**args)  # type: ignore[arg-type]
    await _raw_refusal(p, ProjectWorkflow.decide_gate, raw)
    # Newline and tab are fine in free text.
    st = await p.decide("anna", "approve", "line one\n\tline two")
    assert st.gate is not None and st.gate.votes[0].comment == "line one\n\tline two"


async def test_a_request_that_expired_before_a_worker_took_it_is_never_applied(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    past = await service.clock() - timedelta(seconds=1)
    for update, arg in (
        (ProjectWorkflow.request_gate, RequestGateInput(actor="david", expires_at=past)),
        (ProjectWorkflow.hold, ActorInput(actor="anna", expires_at=past)),
    ):
        cause = await _raw_refusal(p, update, arg)
        assert cause.type == "RequestExpired" and "nothing was applied" in cause.message
    await p.request("david")  # sent now, with a fresh expiry: applied
    cause = await _raw_refusal(
        p,
        ProjectWorkflow.decide_gate,
        DecideGateInput(actor="anna", decision="approve", expires_at=past),
    )
    assert cause.type == "RequestExpired"


async def test_a_vote_for_an_earlier_round_of_the_gate_is_refused_as_stale(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.decide("anna", "rework", "more detail", round=1)
    st = await p.request("david")
    assert st.gate is not None and st.gate.round == 2
    message = await p.refused(lambda: p.decide("bo", "approve", round=1), "StaleVote")
    assert "round 1" in message and "round 2 is open" in message
    await p.refused(lambda: p.decide("bo", "approve", round=3), "StaleVote")
    st = await p.decide("bo", "approve", round=2)
    assert st.gate is not None and [v.actor for v in st.gate.votes] == ["bo"]
    # Without a round the client reads the open one.
    st = await p.decide("anna", "approve")
    assert st.state == "pre_study"


async def test_a_cancellation_from_temporal_is_recorded_and_closes_every_task(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    await p.request("david")
    await p.decide("bo", "approve")
    await p.handle.cancel()
    with pytest.raises(WorkflowFailureError) as info:
        await p.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await p.handle.describe()).status == WorkflowExecutionStatus.CANCELED

    cancelled = p.of_kind(EventKind.cancelled)
    assert len(cancelled) == 1
    assert (cancelled[0].actor, cancelled[0].from_state, cancelled[0].to_state) == (
        "temporal",
        "idea_gate",
        "cancelled",
    )
    assert p.tasks(status="open") == []
    assert {t.key: t.status for t in p.tasks()} == {
        "idea_gate/1/task1/anna": "cancelled",
        "idea_gate/1/decide/anna": "cancelled",
        "idea_gate/1/decide/bo": "done",
    }
    p.assert_sound_ledger()


async def test_a_first_phase_with_starts_after_opens_only_then(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    data = projektflodet.model_dump(mode="json")
    data["phases"][0]["starts_after"] = "P1W"
    model = g.GovernanceModel.model_validate(data)
    p = await scenario.start(pf_charter, model)
    st = await p.status()
    assert st.phase_opens_at is not None
    assert st.phase_opens_at - st.started_at == timedelta(weeks=1)
    assert p.events()[1].payload["opens_at"] == st.phase_opens_at.isoformat()
    message = await p.refused(lambda: p.request("david", deliverables=False), "PhaseNotOpen")
    assert "opens at" in message
    await p.sleep(weeks=1, hours=1)

    async def opened() -> bool:
        return (await p.status()).phase_opens_at is None

    await eventually(opened)
    st = await p.request("david")
    assert st.state == "idea_gate"
