"""A command line naming a command group imports that group's module only (``_app.PARTS``):
in a fresh interpreter, the group alone answers as the whole app does. A command that another
module attached to the group (``project history``) would be missing there, and only there:
in-process tests import every module first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from phasegate.cli._app import PARTS, part

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from typer.testing import CliRunner
from phasegate.cli._app import for_command_line, whole
args = sys.argv[1:]
alone = CliRunner().invoke(for_command_line(args), args, color=False)
every = CliRunner().invoke(whole(), args, color=False)
print(json.dumps([[alone.exit_code, alone.output], [every.exit_code, every.output]]))
"""
GROUPS = [name for name in PARTS if isinstance(part(name), typer.Typer)]


@pytest.mark.parametrize("group", GROUPS)
def test_a_group_alone_in_a_fresh_interpreter_answers_as_the_whole_app(
    group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    for args in ([group, "--help"], [group, "no-such-command"]):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        alone, every = json.loads(done.stdout.splitlines()[-1])
        assert alone == every, args


def test_project_history_is_there_when_only_the_project_group_is_loaded() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "project", "history", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    (code, output), _ = json.loads(done.stdout.splitlines()[-1])
    assert code == 0 and "audit trail" in output, output
