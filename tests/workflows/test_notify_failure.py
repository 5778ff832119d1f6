"""Side effects that fail: a notification channel that is down must not undo or fail a
recorded decision; a ledger that refuses the chain must stop the workflow, visibly."""

from __future__ import annotations

import concurrent.futures
import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import governance as g
from activities import ProjectActivities
from governance.audit import AuditEventIn, EventKind
from governance.messages import ActivityName, NotifyInput
from ledger import Ledger
from phasegate import service
from phasegate.devserver import test_server_path
from phasegate.temporal import register_search_attributes
from tests.workflows.scenario import eventually
from worker import WORKFLOWS, build_worker, sandbox_runner

calls: list[str] = []


@activity.defn(name=ActivityName.NOTIFY)
def broken_channel(input: NotifyInput) -> None:
    calls.append(input.kind)
    raise RuntimeError("SMTP relay unreachable")


async def test_decisions_stand_when_every_notification_fails(
    env: WorkflowEnvironment,
    tmp_path: Path,
    projektflodet: g.GovernanceModel,
    pf_charter: g.Charter,
) -> None:
    tq = f"tq-{uuid.uuid4().hex}"
    charter = pf_charter.model_copy(update={"id": f"notify-{uuid.uuid4().hex[:6]}"})
    with (
        Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger,
        concurrent.futures.ThreadPoolExecutor(4) as pool,
    ):
        ledger.migrate()
        real = ProjectActivities(ledger)
        activities = [real.record, broken_channel]
        async with Worker(
            env.client,
            task_queue=tq,
            workflows=WORKFLOWS,
            activities=activities,
            activity_executor=pool,
            workflow_runner=sandbox_runner(),
        ):
            client = env.client
            await service.start_project(client, charter, projektflodet, task_queue=tq)
            st = await service.request_gate(client, charter.id, "david")
            assert st.state == "idea_gate"
            await service.decide_gate(client, charter.id, "anna", "approve")
            st = await service.decide_gate(client, charter.id, "bo", "approve")
            assert st.state == "pre_study"
            handle = service.handle(client, charter.id)
            assert (await handle.describe()).status is not None
            assert [e.kind for e in ledger.events(charter.id)][-2:] == [
                "gate_passed",
                "phase_started",
            ]
            assert ledger.verify(charter.id).ok
            await handle.terminate("test over")
    assert "gate_opened" in calls and "decision" in calls


async def test_a_ledger_that_refuses_the_chain_stops_the_workflow_task_not_one_update(
    tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The ledger already holds a different seq 1 for this id (say, a purged old run):
    the workflow must not carry on past events it could not record.

    On a test server of its own: a workflow task failing again and again holds the shared
    server's skipped time still for every test after it.
    """
    path = test_server_path()
    assert path is not None
    charter = pf_charter.model_copy(update={"id": f"diverged-{uuid.uuid4().hex[:6]}"})
    tq = f"tq-{uuid.uuid4().hex}"
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(path)
    ) as env:
        await register_search_attributes(env.client)
        with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            ledger.migrate()
            ledger.append(
                AuditEventIn(
                    project_id=charter.id, seq=1, at=datetime.now(UTC),
                    kind=EventKind.project_started, model=projektflodet.ref,
                    model_hash=projektflodet.content_hash(),
                    workflow_id=f"project-{charter.id}", run_id="an-older-run",
                )
            )  # fmt: skip
            async with build_worker(env.client, ledger, tq):
                await service.start_project(env.client, charter, projektflodet, task_queue=tq)
                handle = service.handle(env.client, charter.id)

                async def task_failed() -> bool:
                    history = await handle.fetch_history()
                    return any(
                        e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
                        and "the ledger refused events 1..2"
                        in e.workflow_task_failed_event_attributes.failure.message
                        for e in history.events
                    )

                await eventually(task_failed)
                assert [e.run_id for e in ledger.events(charter.id)] == ["an-older-run"]
                await handle.terminate("test over")
