"""The phasegate worker: every workflow and activity on one task queue.

``phasegate worker`` and ``phasegate dev`` call ``run_worker``; tests call ``build_worker``
with their own client and ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import ProjectActivities
from ledger import Ledger
from phasegate.settings import Settings
from phasegate.temporal import connect
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
    client: Client,
    ledger: Ledger,
    task_queue: str,
    *,
    max_threads: int = 8,
    activities: ProjectActivities | None = None,
) -> AsyncIterator[Worker]:
    """A running worker; leaving the block shuts it down (before the client goes away).

    ``activities`` defaults to ``ProjectActivities(ledger)``; the fault-injection tests pass
    a subclass that kills its own process around the ledger's commit."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_threads) as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=(activities or ProjectActivities(ledger)).all(),
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
    """Serve until ``stop`` is set (or forever). Migrates the ledger first."""
    client = client or await connect(settings)
    stop = stop or asyncio.Event()
    with Ledger(settings.effective_ledger_url()) as ledger:
        ledger.migrate()
        async with build_worker(client, ledger, settings.task_queue):
            log.info(
                "worker.started",
                task_queue=settings.task_queue,
                namespace=settings.namespace,
                address=settings.effective_address(),
            )
            await stop.wait()
    log.info("worker.stopped")


if __name__ == "__main__":
    from phasegate._exit import run_and_exit
    from phasegate.logging import configure_logging
    from phasegate.settings import get_settings

    def _main() -> None:
        settings = get_settings()
        configure_logging(settings.log_format, settings.log_level)
        asyncio.run(run_worker(settings))

    run_and_exit(_main)
