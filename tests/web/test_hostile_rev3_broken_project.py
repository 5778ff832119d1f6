"""Hostile review (rev3): one project that cannot answer its queries (its workflow task fails,
as after a bad deploy) must not take the portfolio and the audit page away from everybody."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from web_support import Served, signed_in

from phasegate.devserver import DevServer
from phasegate.service import workflow_id
from tests.api.api_support import PMO, new_project
from tests.integration.conftest import Cli, WorkerProcess

pytestmark = pytest.mark.devserver


async def _start(address: str, task_queue: str, pid: str) -> None:
    client = await Client.connect(address)
    # A ProjectWorkflow whose input no worker can read: its every task, and query, fails.
    await client.start_workflow(
        "ProjectWorkflow", {"not": "a project"}, id=workflow_id(pid), task_queue=task_queue
    )


async def _delete(address: str, pid: str) -> None:
    client = await Client.connect(address)
    await client.get_workflow_handle(workflow_id(pid)).terminate("rev3 test over")
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id(pid)),
        )
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id(pid)}'")]
        if not found:
            return
        await asyncio.sleep(0.2)


@pytest.fixture
def broken(web_devserver: DevServer, web_worker: WorkerProcess) -> Iterator[str]:
    pid = f"rev3-broken-{uuid.uuid4().hex[:6]}"
    asyncio.run(_start(web_devserver.address, web_worker.task_queue, pid))
    try:
        yield pid
    finally:
        asyncio.run(_delete(web_devserver.address, pid))


def test_a_project_that_cannot_answer_does_not_take_the_portfolio_away(
    web: Served, web_tokens: dict[str, str], web_cli: Cli, tmp_path: Path, broken: str
) -> None:
    healthy = new_project(web_cli, tmp_path)
    anna = signed_in(web, web_tokens["anna"])
    for path in ("/", "/audit"):
        started = time.monotonic()
        page = anna.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[-400:])
        assert healthy in page.text and broken not in page.text
        assert time.monotonic() - started < 25, path  # PEOPLE_TIMEOUT, not 30 s per page
    pia = signed_in(web, web_tokens[PMO])  # the PMO sees every project, the broken one too
    for path in ("/", "/audit"):
        started = time.monotonic()
        page = pia.get(path)
        assert page.status_code == 200 and healthy in page.text and broken in page.text, path
        assert time.monotonic() - started < 25, path
