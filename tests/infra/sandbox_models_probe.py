"""Builds every pydantic model of governance for the first time inside the workflow sandbox
worker.py configures, in a process of its own (nothing built by the host first): the models
build their validators when first used (``defer_build``), and a real worker's first use of
most of them is in a workflow task; run as a subprocess by test_sandbox_models.py.

usage: python sandbox_models_probe.py TEST_SERVER_PATH

Prints one JSON line: how many models the workflow built, and each failure.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import pkgutil
import sys
import uuid

from temporalio import workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    import governance

    MODULES = [
        importlib.import_module(f"governance.{info.name}")
        for info in pkgutil.iter_modules(governance.__path__)
    ]


@workflow.defn(sandboxed=True)
class BuildEveryModel:
    @workflow.run
    async def run(self) -> dict[str, object]:
        models = {
            f"{value.__module__}.{value.__qualname__}": value
            for module in MODULES
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, BaseModel)
            and value.__module__.startswith("governance.")
        }
        built, failures = 0, []
        for name, model in sorted(models.items()):
            try:
                if not model.__pydantic_complete__:
                    model.model_rebuild(raise_errors=True)
                    built += 1
                model.model_json_schema()
            except Exception as exc:
                failures.append(f"{name}: {exc!r}")
        return {"models": len(models), "built_here": built, "failures": failures}


async def main(test_server: str) -> None:
    from worker import sandbox_runner

    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=test_server
    )
    try:
        queue = f"tq-{uuid.uuid4().hex}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[BuildEveryModel],
            workflow_runner=sandbox_runner(),
        ):
            handle = await env.client.start_workflow(
                BuildEveryModel.run, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
            )
            try:
                result = await asyncio.wait_for(handle.result(), timeout=30)
            except TimeoutError:
                await handle.terminate()
                result = {"error": "the workflow task kept failing (see stderr)"}
    finally:
        await env.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    from phasegate._exit import run_and_exit  # leaves without the SDK's interpreter-exit crash

    run_and_exit(lambda: main(sys.argv[1]))
