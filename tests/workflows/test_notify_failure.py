"""A notification channel that is down must not undo or fail a recorded decision."""

from __future__ import annotations

import concurrent.futures
import uuid
from pathlib import Path

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import governance as g
from activities import ProjectActivities
from governance.messages import ActivityName, NotifyInput
from ledger import Ledger
from phasegate import service
from worker import WORKFLOWS, sandbox_runner

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
        activities = [real.record_events, real.create_tasks, real.close_tasks, broken_channel]
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
