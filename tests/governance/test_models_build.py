"""Every pydantic model of governance builds when first used.

The models build their validators lazily (``defer_build``), and ``messages`` no longer
rebuilds its forward-referencing models at import: an annotation that cannot be resolved
(a name imported only for type checkers, a typo) would no longer fail at import but at the
model's first use, inside a workflow task or a request. The check runs in a fresh
interpreter, so that no other test's use has built a model first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import importlib, inspect, json, pkgutil, typing
from pydantic import BaseModel
import governance

models = {}
for info in pkgutil.iter_modules(governance.__path__):
    module = importlib.import_module(f"governance.{info.name}")
    for value in vars(module).values():
        if inspect.isclass(value) and issubclass(value, BaseModel):
            if value.__module__.startswith("governance."):
                models[f"{value.__module__}.{value.__qualname__}"] = value

failures = []
for name, model in sorted(models.items()):
    try:
        model.model_rebuild(raise_errors=True)
        model.model_json_schema()
        model.model_json_schema(mode="serialization")
        assert model.__pydantic_complete__, "not complete"
        for field, info in model.model_fields.items():
            assert not isinstance(info.annotation, (str, typing.ForwardRef)), field
    except Exception as exc:
        failures.append(f"{name}: {exc!r}")
print(json.dumps({"models": len(models), "failures": failures}))
"""


def test_every_governance_model_builds_at_its_first_use_in_a_fresh_interpreter() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["models"] > 100  # the probe found them
    assert result["failures"] == []
