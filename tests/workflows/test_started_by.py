"""Who started a project, and what the vote that decides a gate says it did (issue 12, items 6
and 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import governance as g
from governance.audit import EventKind
from governance.messages import GateOutcome
from phasegate import service
from tests.workflows.conftest import Harness
from tests.workflows.scenario import PF_APPROVERS, Project, Scenario, eventually, unique_id


async def test_the_project_started_event_records_who_started_it(
    harness: Harness, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    charter = pf_charter.model_copy(update={"id": unique_id("started")})
    pid = await service.start_project(
        harness.client,
        charter,
        projektflodet,
        task_queue=harness.task_queue,
        started_by="fatima",
    )

    async def recorded() -> bool:
        return harness.ledger.last_seq(pid) >= 2

    await eventually(recorded)
    first = harness.ledger.events(pid)[0]
    assert (first.kind, first.actor, first.role) == (EventKind.project_started, "fatima", "pmo")
    handle = harness.client.get_workflow_handle(service.workflow_id(pid))
    await handle.terminate("test finished")


async def test_the_deciding_vote_says_what_the_gate_decided(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p: Project = await scenario.start(pf_charter, projektflodet)
    st = await p.pass_gate(PF_APPROVERS["idea"], pm="david")
    assert st.last_gate is not None
    assert st.last_gate.describe() == "gate passed: pre_study started"
    await p.request("david")
    st = await p.decide("anna", "rework", "Not yet")
    assert st.last_gate is not None and st.last_gate.describe() == "rework: back to pre_study"


def test_gate_outcomes_read_as_what_they_did() -> None:
    at = datetime(2027, 1, 1, tzinfo=UTC)

    def said(outcome: str, to: str) -> str:
        return GateOutcome(gate="x_gate", round=1, outcome=outcome, to_state=to, at=at).describe()

    assert said("approve", "planning") == "gate passed: planning started"
    assert said("approve", "closed") == "gate passed: project closed"
    assert said("reject", "closed") == "rejected: project closed"
    assert said("reject", "pre_study") == "rejected: back to pre_study"
    assert said("rework", "pre_study") == "rework: back to pre_study"
