from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from phasegate._exit import exit_code
from phasegate.devserver import DevServer

PROBE = Path(__file__).with_name("exit_probe.py")
REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"ok": 0, "fail": 1, "exit3": 3, "raise": 1, "stuck": 0}
RUNS = 20


@pytest.mark.parametrize(
    ("value", "code"),
    [(None, 0), (0, 0), (2, 2), (True, 1), (False, 0), (256, 1), (-1, 1), ("bad input", 1)],
)
def test_exit_code_maps_results_and_system_exit_codes(value: object, code: int) -> None:
    assert exit_code(value) == code


@pytest.mark.devserver
def test_client_process_exit_code_is_always_the_intended_one(devserver: DevServer) -> None:
    """Runs of a command that leaves with a worker and an activity still in flight (and, in mode
    ``stuck``, a task that ignores cancellation): every exit code is the one the command chose,
    never 134 (SDK issue #300) nor a hang in the teardown of the tasks it left running."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    modes = list(EXPECTED)
    results: list[tuple[str, int | str, str]] = []
    for run in range(RUNS):
        mode = modes[run % len(modes)]
        try:
            proc = subprocess.run(
                [sys.executable, str(PROBE), devserver.address, mode],
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except subprocess.TimeoutExpired as exc:
            results.append((mode, "hung", f"stdout: {exc.stdout!r}"))
            continue
        assert "probe: activity running" in proc.stdout, proc.stderr[-2000:]
        results.append((mode, proc.returncode, proc.stderr[-500:]))
    wrong = [r for r in results if r[1] != EXPECTED[r[0]]]
    assert not wrong, wrong
