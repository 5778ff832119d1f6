"""Builds every pydantic model of governance for the first time inside the workflow sandbox
worker.py configures, in a process of its own (nothing built by the host first): the models
build their validators when first used (``defer_build``), and a real worker's first use of
most of them is in a workflow task; run as a subprocess by test_sandbox_models.py.

usage: python sandbox_models_probe.py TEST_SERVER_PATH

Prints one JSON line: how many models the workflow built, and each failure.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from sandbox_probe import probe_main, run_in_sandbox

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


async def main(test_server: str) -> dict[str, object]:
    return await run_in_sandbox(test_server, BuildEveryModel, BuildEveryModel.run, timeout=30)


if __name__ == "__main__":
    probe_main(main)
