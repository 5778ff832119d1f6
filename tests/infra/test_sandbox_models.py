"""Every governance model builds its validator inside the workflow sandbox (``defer_build``:
a real worker first uses most of them in a workflow task)."""

from __future__ import annotations

from pathlib import Path

from tests.infra.sandbox_probe import run_probe

PROBE = Path(__file__).with_name("sandbox_models_probe.py")


def test_every_governance_model_builds_for_the_first_time_inside_the_sandbox() -> None:
    result, stderr = run_probe(PROBE)
    assert result.get("failures") == [], (result, stderr)
    assert result["models"] > 100 and result["built_here"] > 100, result
