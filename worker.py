"""The phasegate worker: every workflow and activity on one task queue.

``phasegate worker`` and ``phasegate dev`` call ``run_worker``; tests call ``build_worker``
with their own client and ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import ProjectActivities
from ledger import Ledger
from phasegate.settings import Settings
from phasegate.temporal import connect, pollers
from workflows import ProjectWorkflow

WORKFLOWS = [ProjectWorkflow]
PASSED_THROUGH = ("governance", "states", "transitions", "yaml", "rich")
"""Modules the sandbox need not re-import on every run (see DESIGN: ~4 ms per run); rich is
here because the SDK renders a failed workflow task's traceback with it inside the sandbox."""

log = structlog.get_logger("phasegate.worker")


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    )


@asynccontextmanager
async def build_worker(
    client: Client, ledger: Ledger, task_queue: str, *, max_threads: int = 8
) -> AsyncIterator[Worker]:
    """A running worker; leaving the block shuts it down (before the client goes away)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_threads) as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=ProjectActivities(ledger).all(),
            activity_executor=pool,
            max_concurrent_activities=max_threads,
            max_concurrent_local_activities=max_threads,
            workflow_runner=sandbox_runner(),
        )
        async with worker:
            yield worker


async def run_worker(
    settings: Settings, client: Client | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve until ``stop`` is set (or forever). Migrates the ledger first. Logs
    ``worker.started`` once Temporal lists this worker among the task queue's pollers."""
    client = client or await connect(settings)
    stop = stop or asyncio.Event()
    with Ledger(settings.effective_ledger_url()) as ledger:
        ledger.migrate()
        async with build_worker(client, ledger, settings.task_queue):
            if await _accepted(client, settings.task_queue, stop):
                log.info(
                    "worker.started",
                    task_queue=settings.task_queue,
                    namespace=settings.namespace,
                    address=client.service_client.config.target_host,
                )
            await stop.wait()
    log.info("worker.stopped")


async def _accepted(client: Client, task_queue: str, stop: asyncio.Event) -> bool:
    """Wait until the server has seen this worker poll ``task_queue`` (a worker Temporal
    refuses fails instead, out of ``build_worker``); False when ``stop`` came first."""
    while not stop.is_set():
        if client.identity in await pollers(client, task_queue):
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.1)
    return False


if __name__ == "__main__":
    from phasegate._exit import run_and_exit
    from phasegate.logging import configure_logging
    from phasegate.settings import get_settings

    def _main() -> None:
        settings = get_settings()
        configure_logging(settings.log_format, settings.log_level)
        asyncio.run(run_worker(settings))

    run_and_exit(_main)
