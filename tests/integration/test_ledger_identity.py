"""One ledger per task queue: a project pins the ledger it writes to, and a worker started on
another ledger (another data dir, a typo in --ledger-url) refuses to serve that queue."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

import governance as g
from governance.messages import LEDGER_MEMO
from ledger import Ledger
from phasegate import service
from tests.integration.conftest import PHASEGATE, eventually
from worker import build_worker

pytestmark = pytest.mark.devserver


async def test_a_worker_on_another_ledger_refuses_the_queue_naming_both_ledgers(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    tq = f"tq-{uuid.uuid4().hex}"
    charter = pf_charter.model_copy(update={"id": f"pinned-{uuid.uuid4().hex[:6]}"})
    with (
        Ledger(f"sqlite:///{tmp_path / 'a.db'}") as first,
        Ledger(f"sqlite:///{tmp_path / 'b.db'}") as other,
    ):
        first.migrate()
        other.migrate()
        async with build_worker(client, first, tq):
            # Started without a pinned ledger: the first write pins the worker's ledger.
            await service.start_project(client, charter, projektflodet, task_queue=tq)
            handle = service.handle(client, charter.id)

            async def memo() -> dict[str, object]:
                return await (await handle.describe()).memo()

            async def listed() -> list[str]:
                query = f"TaskQueue = '{tq}' AND ExecutionStatus = 'Running'"
                return [
                    str((await wf.memo()).get(LEDGER_MEMO))
                    async for wf in client.list_workflows(query)
                ]

            pinned = await eventually(memo, lambda m: LEDGER_MEMO in m)
            assert pinned[LEDGER_MEMO] == first.ledger_id()
            await eventually(listed, lambda ids: ids == [first.ledger_id()])

        result = subprocess.run(
            [PHASEGATE, "worker", "--address", client.service_client.config.target_host,
             "--ledger-url", other.url, "--task-queue", tq],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "PHASEGATE_LOG_FORMAT": "json"},
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert first.ledger_id() in result.stderr and other.ledger_id() in result.stderr
        assert "Traceback" not in result.stderr
        await handle.terminate("test over")


async def test_a_project_terminated_from_temporal_is_reported_as_ended_outside_governance(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    tq = f"tq-{uuid.uuid4().hex}"
    tag = uuid.uuid4().hex[:6]
    running, terminated, cancelled = (
        pf_charter.model_copy(update={"id": f"{name}-{tag}"})
        for name in ("running", "terminated", "cancelled")
    )
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        async with build_worker(client, ledger, tq):
            for charter in (running, terminated, cancelled):
                await service.start_project(client, charter, projektflodet, task_queue=tq)
                await service.until_recorded(
                    client, charter.id, await service.status(client, charter.id)
                )
            await service.board_action(client, cancelled.id, "cancel", "anna", "stopped")
            await service.handle(client, terminated.id).terminate("an operator's shortcut")
            unfinished = ledger.unfinished_projects()
            assert {running.id, terminated.id} <= set(unfinished)
            assert cancelled.id not in unfinished
            found = await service.ended_outside_governance(client, [running.id, terminated.id])
            assert found == [service.EndedOutside(terminated.id, "terminated")]
            for pid, code in ((terminated.id, 1), (cancelled.id, 0), (running.id, 0)):
                result = subprocess.run(
                    [PHASEGATE, "audit", "verify", "--project", pid, "--ledger-url", ledger.url,
                     "--address", client.service_client.config.target_host],
                    capture_output=True, text=True, timeout=60,
                )  # fmt: skip
                assert result.returncode == code, result.stdout + result.stderr
                said = f"ended outside governance: project {pid} (terminated in Temporal"
                assert (said in result.stdout) == (code == 1)
            await service.handle(client, running.id).terminate("test over")
