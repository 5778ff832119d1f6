"""A Temporal reset of a project's workflow, on the real dev server.

A reset rewinds the workflow to an earlier workflow task; the ledger does not rewind. The
events the old run wrote stay in the chain (they happened); the reset run's first write records
a ``history_reset`` event naming the seqs it supersedes, then goes on after them, withdraws
every open task and issues the ones its own state calls for.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyExcludeType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client

import governance as g
from activities import ProjectActivities
from governance.audit import AuditEvent
from governance.messages import ActivityName, RecordInput, RecordResult
from ledger import Ledger
from phasegate import service
from tests.integration.conftest import chain_of, request_gate, settled
from worker import build_worker

pytestmark = pytest.mark.devserver


async def last_workflow_task(client: Client, project_id: str) -> int:
    """The event id of the workflow's last completed workflow task."""
    history = await service.handle(client, project_id).fetch_history()
    return max(
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )


async def reset(
    client: Client,
    project_id: str,
    event_id: int,
    exclude: Sequence[ResetReapplyExcludeType.ValueType] = (),
) -> str:
    """``temporal workflow reset --event-id`` (with ``--reapply-exclude``): the new run's id."""
    response = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=service.workflow_id(project_id)),
            reason="test",
            workflow_task_finish_event_id=event_id,
            request_id=uuid.uuid4().hex,
            reset_reapply_exclude_types=list(exclude),
        )
    )
    return response.run_id


def kinds(events: Sequence[AuditEvent]) -> list[str]:
    return [str(e.kind) for e in events]


START = ["project_started", "phase_started"]
SUBMITTED = "deliverable_submitted"
"""The idea gate's Idébeskrivning, submitted before its gate is requested."""
FIRST_GATE_PASSED = [
    *START,
    SUBMITTED,
    "gate_opened",
    "vote_cast",
    "vote_cast",
    "gate_passed",
    "phase_started",
]


@asynccontextmanager
async def gate_requested(
    client: Client,
    tmp_path: Path,
    charter: g.Charter,
    model: g.GovernanceModel,
    activities: Callable[[Ledger], ProjectActivities] = ProjectActivities,
) -> AsyncIterator[tuple[str, Ledger, ProjectActivities]]:
    """A new project on its own worker and ledger, its first gate's deliverable submitted and
    the gate requested, recorded."""
    charter = charter.model_copy(update={"id": f"reset-{uuid.uuid4().hex[:6]}"})
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        acts = activities(ledger)
        tq = f"tq-{uuid.uuid4().hex}"
        async with build_worker(client, ledger, tq, activities=acts):
            await service.start_project(client, charter, model, task_queue=tq)
            await request_gate(client, charter.id)
            await settled(client, charter.id)
            yield charter.id, ledger, acts


async def test_reset_keeps_the_old_events_records_itself_and_goes_on_with_current_tasks(
    client: Client,
    tmp_path: Path,
    projektflodet: g.GovernanceModel,
    pf_charter: g.Charter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reset as an operator runs it (Temporal reapplies the updates after the reset point;
    the old requests have expired, so the validator refuses them again)."""
    async with gate_requested(client, tmp_path, pf_charter, projektflodet) as (pid, ledger, _):
        point = await last_workflow_task(client, pid)  # right after the gate request
        expiry = timedelta(seconds=6)
        with monkeypatch.context() as m:
            m.setattr(service, "EXPIRY", expiry)
            await service.decide_gate(client, pid, "anna", "rework", "needs numbers")
            await service.request_gate(client, pid, "david")  # round 2: Idébeskrivning counts
            await service.decide_gate(client, pid, "anna", "approve")
        old = await settled(client, pid)
        assert old.last_seq == 8 and old.gate is not None and old.gate.round == 2
        open_before = {t.key for t in ledger.tasks(project_id=pid, status="open")}
        assert open_before == {"idea_gate/2/task1/anna", "idea_gate/2/decide/bo"}
        await asyncio.sleep(expiry.total_seconds())  # the requests after the point expire

        run_id = await reset(client, pid, point)

        st = await settled(client, pid)
        assert st.gate is not None and st.gate.round == 1 and st.gate.votes == []
        assert st.last_seq == 4, "the reset run knows only what came before its point"
        # The project goes on: the votes are cast again, the reset run does not know them.
        st = await service.decide_gate(client, pid, "bo", "approve")
        st = await settled(client, pid)
        reissued = {t.key for t in ledger.tasks(project_id=pid, status="open")}
        st = await service.decide_gate(client, pid, "anna", "approve")
        assert st.state == "pre_study"
        st = await settled(client, pid)
        chain = chain_of(ledger, st)
        tasks = {t.key: t.status for t in ledger.tasks(project_id=pid)}
        notes = [n for n in ledger.unrouted_notifications(1000) if n.project_id == pid]

    old_run = [*START, SUBMITTED, "gate_opened", "vote_cast", "gate_rework", "gate_opened"]
    # Notifications keep to their events: the old run's rework decision (seq 6) stays, the
    # reset run's, renumbered after the reset event, is stored beside it (no key reused).
    decided = [n.key.split("#")[1] for n in notes if n.kind == "decision"]
    assert [int(k.split(".")[0]) for k in decided] == [6, 13], decided
    assert kinds(chain) == [
        *old_run,
        "vote_cast",
        "history_reset",
        "vote_cast",
        "vote_cast",
        "gate_passed",
        "phase_started",
    ]
    assert len({e.run_id for e in chain[:8]}) == 1 and chain[7].run_id != run_id
    marker = chain[8]
    assert marker.run_id == run_id and marker.actor == "temporal"
    assert (marker.payload["superseded_from"], marker.payload["superseded_to"]) == (5, 8)
    assert [e.actor for e in chain[9:11]] == ["bo", "anna"]
    assert st.last_seq == st.recorded_seq == len(chain) == 13
    # After the reset event, the inbox held the reset run's tasks under a new key epoch: the
    # round-1 review and anna's decide task (bo had just voted); the old run's open ones were
    # withdrawn, its closed ones left as they were.
    assert reissued == {"e9/idea_gate/1/task1/anna", "e9/idea_gate/1/decide/anna"}
    assert {k: tasks[k] for k in open_before} == dict.fromkeys(open_before, "withdrawn")
    assert tasks["idea_gate/1/decide/anna"] == "done"
    assert not [k for k, status in tasks.items() if status == "open"]


async def test_a_review_task_completed_before_the_reset_point_is_not_issued_again(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The reset run's state knows anna completed her review task: of the gate's tasks it
    issues again only those still open (anna's decide task), not hers."""
    async with gate_requested(client, tmp_path, pf_charter, projektflodet) as (pid, ledger, _):
        [review] = [t for t in ledger.tasks(project_id=pid) if t.key == "idea_gate/1/task1/anna"]
        await service.complete_task(client, ledger, review.id, "anna", "read")
        await settled(client, pid)
        point = await last_workflow_task(client, pid)  # right after the completion
        await service.decide_gate(client, pid, "bo", "approve")
        assert (await settled(client, pid)).last_seq == 6

        await reset(client, pid, point, [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE])

        st = await settled(client, pid)
        assert st.gate is not None and st.gate.votes == [] and st.last_seq == 5
        await service.decide_gate(client, pid, "bo", "approve")  # the reset run's first write
        st = await settled(client, pid)
        chain = chain_of(ledger, st)
        tasks = {t.key: t.status for t in ledger.tasks(project_id=pid)}

    assert kinds(chain) == [
        *START,
        SUBMITTED,
        "gate_opened",
        "task_completed",
        "vote_cast",
        "history_reset",
        "vote_cast",
    ]
    assert tasks == {
        "idea_gate/1/task1/anna": "done",
        "idea_gate/1/decide/anna": "withdrawn",
        "idea_gate/1/decide/bo": "done",
        "e7/idea_gate/1/decide/anna": "open",
    }


class HeldActivities(ProjectActivities):
    """Holds the write of anna's vote until the test lets it go."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger)
        self.release = threading.Event()
        self.holding = threading.Event()

    @activity.defn(name=ActivityName.RECORD)
    def record(self, input: RecordInput) -> RecordResult:
        if any(e.actor == "anna" and e.kind == "vote_cast" for e in input.events):
            self.holding.set()
            assert self.release.wait(60)
        return super().record(input)


async def test_reset_to_a_point_where_a_write_was_pending_records_the_reset_and_goes_on(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The reset run re-runs a ``record`` activity the old run had scheduled before the reset
    point and completed after it: the ledger has that write, and more after it."""
    project = gate_requested(client, tmp_path, pf_charter, projektflodet, HeldActivities)
    async with project as (pid, ledger, acts):
        assert isinstance(acts, HeldActivities)
        await service.decide_gate(client, pid, "anna", "approve")
        assert await asyncio.to_thread(acts.holding.wait, 30)
        await service.decide_gate(client, pid, "bo", "approve")  # accepted, write queued
        point = await last_workflow_task(client, pid)  # anna's write still in flight
        acts.release.set()
        old = await settled(client, pid)
        assert old.state == "pre_study" and old.last_seq == 8

        run_id = await reset(
            client, pid, point, [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE]
        )

        st = await settled(client, pid)
        assert st.state == "idea_gate" and st.gate is not None
        assert [v.actor for v in st.gate.votes] == ["anna"]
        assert st.ledger_error is None
        st = await service.decide_gate(client, pid, "bo", "approve")
        assert st.state == "pre_study"
        st = await settled(client, pid)
        assert st.ledger_error is None
        chain = chain_of(ledger, st)

    assert kinds(chain) == [
        *FIRST_GATE_PASSED,
        "history_reset",
        "vote_cast",
        "gate_passed",
        "phase_started",
    ]
    marker = chain[8]
    assert marker.run_id == run_id
    assert (marker.payload["superseded_from"], marker.payload["superseded_to"]) == (6, 8)
    assert st.last_seq == st.recorded_seq == len(chain) == 12


async def test_reset_to_the_first_workflow_task_records_the_reset_and_goes_on(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """``temporal workflow reset --type FirstWorkflowTask``: the reset run writes its chain
    from seq 1 again, with other times; that is this workflow reset, not a reused project id."""
    async with gate_requested(client, tmp_path, pf_charter, projektflodet) as (pid, ledger, _):
        history = await service.handle(client, pid).fetch_history()
        first = next(
            e.event_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        )

        run_id = await reset(
            client, pid, first, [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE]
        )

        st = await settled(client, pid)
        assert st.state == "idea" and st.ledger_error is None
        # It knows no deliverable either: the Idébeskrivning is submitted again.
        st = await request_gate(client, pid)
        st = await settled(client, pid)
        assert st.ledger_error is None
        chain = chain_of(ledger, st)
        open_tasks = {t.key for t in ledger.tasks(project_id=pid, status="open")}

    first_request = [*START, SUBMITTED, "gate_opened"]
    assert kinds(chain) == [*first_request, "history_reset", *first_request]
    marker = chain[4]
    assert marker.run_id == run_id
    assert (marker.payload["superseded_from"], marker.payload["superseded_to"]) == (1, 4)
    assert open_tasks == {f"e5/idea_gate/1/{k}" for k in ("task1/anna", "decide/anna", "decide/bo")}
