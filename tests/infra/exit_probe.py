"""A command that uses the Temporal client the way a CLI command might, then exits via
``run_and_exit``; run as a subprocess by test_exit.py.

usage: python exit_probe.py ADDRESS MODE [--plain]

It connects, starts a worker, starts a workflow whose activity is still running when the command
returns (the situation in which the interpreter-exit crash of SDK issue #300 shows up), and then
leaves according to MODE: ``ok`` returns 0, ``fail`` returns 1, ``exit3`` raises
``SystemExit(3)``, ``raise`` raises an exception (exit 1), ``stuck`` returns 0 leaving a task
that ignores cancellation (as the SDK worker's shutdown does once its poll tasks are cancelled).
``--plain`` exits through normal interpreter shutdown instead, for comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from phasegate._exit import exit_code, run_and_exit

RUNNING = asyncio.Event()
"""Set by the activity itself: it runs in this process, on this loop."""


@activity.defn
async def linger() -> None:
    RUNNING.set()
    await asyncio.sleep(30)


async def ignore_cancellation() -> None:
    while True:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)


@workflow.defn(sandboxed=False)
class LingerWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(linger, start_to_close_timeout=timedelta(seconds=60))


async def command(address: str, mode: str) -> int:
    client = await Client.connect(address)
    queue = f"exit-probe-{uuid.uuid4()}"
    worker = Worker(client, task_queue=queue, workflows=[LingerWorkflow], activities=[linger])
    running = asyncio.create_task(worker.run())
    await client.start_workflow(
        LingerWorkflow.run, id=f"exit-probe-{uuid.uuid4()}", task_queue=queue
    )
    # Leave with the activity in flight in this process (a pending activity in the server's
    # description may not have reached the worker yet).
    await asyncio.wait_for(RUNNING.wait(), timeout=20)
    print("probe: activity running", flush=True)
    del running  # deliberately not shut down: the crash-prone situation
    if mode == "stuck":
        stuck = asyncio.create_task(ignore_cancellation())
        await asyncio.sleep(0)  # let it start, so that it can catch a cancellation
        del stuck
        return 0
    if mode == "ok":
        return 0
    if mode == "fail":
        return 1
    if mode == "exit3":
        raise SystemExit(3)
    if mode == "raise":
        raise RuntimeError("probe failure")
    raise ValueError(f"unknown mode {mode}")


def main() -> None:
    address, mode = sys.argv[1], sys.argv[2]
    if "--plain" in sys.argv:
        try:
            code = asyncio.run(command(address, mode))
        except SystemExit as exc:
            code = exit_code(exc.code)
        sys.exit(code)
    run_and_exit(lambda: command(address, mode))


if __name__ == "__main__":
    main()
