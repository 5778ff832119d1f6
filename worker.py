"""The phasegate worker: every workflow and activity on one task queue.

``phasegate worker`` and ``phasegate dev`` call ``run_worker``; tests call ``build_worker``
with their own client and ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import Postman, ProjectActivities, load_config
from governance import load_lookups
from governance.messages import LEDGER_MEMO
from governance.notifications import NotifyConfig
from ledger import Ledger
from phasegate.settings import Settings
from phasegate.temporal import connect, pollers
from workflows import IterationWorkflow, ProjectWorkflow

WORKFLOWS = [ProjectWorkflow, IterationWorkflow]
PASSED_THROUGH = (
    "governance", "states", "transitions", "yaml", "rich", "email_validator", "idna", "pycountry",
    "holidays",
)  # fmt: skip
"""Modules the sandbox need not re-import on every run (see DESIGN: ~4 ms per run); rich is
here because the SDK renders a failed workflow task's traceback with it inside the sandbox;
email_validator, idna and pycountry because the charter's validators run there again when
the workflow's input is decoded; holidays because the model's calendar country is checked
there too (imported inside the sandbox it calls time.localtime, which the sandbox refuses).
A workflow never builds a holiday table (that calls locale, refused too, and a library
upgrade could change it under a replay): the days_off activity hands it the days off."""

log = structlog.get_logger("phasegate.worker")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The sandbox worker.py runs workflows in, with the tables that validating their input
    looks values up in loaded first (see ``governance.load_lookups``)."""
    load_lookups()
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
    outbox: bool = True,
) -> AsyncIterator[Worker]:
    """A running worker; leaving the block shuts it down (before the client goes away).

    ``activities`` defaults to ``ProjectActivities(ledger)``; the fault-injection tests pass
    a subclass that kills its own process around the ledger's commit. ``outbox``: the
    ``record`` activity stores notifications for a postman (see activities/_postman.py)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_threads) as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            activities=(activities or ProjectActivities(ledger, outbox=outbox)).all(),
            activity_executor=pool,
            max_concurrent_activities=max_threads,
            max_concurrent_local_activities=max_threads,
            workflow_runner=sandbox_runner(),
        )
        async with worker:
            yield worker


class WorkerRefused(Exception):
    """This worker must not serve the task queue (its ledger is not the projects' ledger)."""


LEDGER_CHECK_LIMIT = 1000
"""Running projects whose pinned ledger a starting worker compares with its own."""


async def check_ledger(client: Client, task_queue: str, ledger: Ledger) -> None:
    """Refuse to serve ``task_queue`` when a running project on it writes to another ledger:
    two ledgers on one queue would split each project's chain between them."""
    mine = ledger.ledger_id()
    query = f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    async for wf in client.list_workflows(query, limit=LEDGER_CHECK_LIMIT):
        theirs = (await wf.memo()).get(LEDGER_MEMO)
        if theirs is not None and theirs != mine:
            raise WorkerRefused(
                f"task queue {task_queue!r} serves projects that write to ledger {theirs} "
                f"(e.g. {wf.id}), but this worker's ledger is {mine} at {ledger.display_url}; "
                "start the worker with that project's ledger (--ledger-url, or the --data-dir "
                "it was started with), or on another task queue"
            )


async def run_worker(
    settings: Settings,
    client: Client | None = None,
    stop: asyncio.Event | None = None,
    ledger: Ledger | None = None,
) -> None:
    """Serve until ``stop`` is set (or forever). Opens the settings' ledger and migrates it
    first, unless ``ledger`` is given (the caller has migrated that one, and keeps it: ``phasegate
    dev`` shares it with the API); refuses to start (``WorkerRefused``) if the queue's
    projects write to another ledger. Logs ``worker.started`` once Temporal lists this worker
    among the task queue's pollers."""
    config = notify_config(settings)  # a bad configuration stops the worker before it starts
    client = client or await connect(settings)
    stop = stop or asyncio.Event()
    with contextlib.ExitStack() as owned:
        if ledger is None:
            ledger = owned.enter_context(Ledger(settings.effective_ledger_url()))
            ledger.migrate()
        await check_ledger(client, settings.task_queue, ledger)
        async with (
            build_worker(client, ledger, settings.task_queue, outbox=config is not None),
            _postman(ledger, config, settings, stop),
        ):
            if await _accepted(client, settings.task_queue, stop):
                log.info(
                    "worker.started",
                    ledger=ledger.display_url,
                    ledger_id=ledger.ledger_id(),
                    task_queue=settings.task_queue,
                    namespace=settings.namespace,
                    address=client.service_client.config.target_host,
                )
            await stop.wait()
    log.info("worker.stopped")


def notify_config(settings: Settings) -> NotifyConfig | None:
    """The notification configuration the settings name (``GovernanceError`` when it is
    invalid); None when they name none."""
    if settings.notify_config is None:
        return None
    return load_config(settings.notify_config, os.environ)


@asynccontextmanager
async def _postman(
    ledger: Ledger, config: NotifyConfig | None, settings: Settings, stop: asyncio.Event
) -> AsyncIterator[None]:
    """The worker's postman delivers the outbox while the worker runs (none without a
    notification configuration)."""
    if config is None:
        yield
        return
    async with Postman(ledger, config, dashboard_url=settings.dashboard_url) as postman:
        task = asyncio.create_task(postman.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task


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
