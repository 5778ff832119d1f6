"""The reading commands start light against a real server: `project status` and `project list`
answer without the SDK's client layer (its converters, the workflow modules) and without
SQLAlchemy; `project list` without the messages module either. Each runs in a fresh interpreter,
so that no other test's imports hide one; its output is the in-process command's. The probe
leaves PHASEGATE_LEDGER_URL unset: neither command uses the ledger, and a ledger URL that is
set is checked with SQLAlchemy's URL parser, which imports SQLAlchemy (see the README)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "projektflodet-charter.yaml"
NOT_FOR_READING = ("temporalio.client", "temporalio.converter", "workflows.project", "sqlalchemy")
PROBE = """
import json, os, sys
from typer.testing import CliRunner
from phasegate.cli import app
result = CliRunner(env=json.loads(sys.argv[1])).invoke(app, sys.argv[2:])
loaded = sorted(m for m in {names!r} if m in sys.modules)
print(json.dumps({{"code": result.exit_code, "output": result.stdout, "loaded": loaded}}))
sys.stdout.flush()
os._exit(0)  # the client was used: leave without the interpreter-exit crash (phasegate._exit)
"""


def fresh(cli: Cli, *args: str) -> dict[str, object]:
    """``phasegate ARGS`` in a new interpreter, with the environment of ``cli``."""
    names = (*NOT_FOR_READING, "governance.messages")
    env = json.dumps({k: v for k, v in cli.runner.env.items() if k != "PHASEGATE_LEDGER_URL"})
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(names=names), env, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_status_and_list_answer_without_the_client_layer(cli: Cli, tmp_path: Path) -> None:
    pid = f"light-{uuid.uuid4().hex[:6]}"
    charter = tmp_path / f"{pid}.yaml"
    charter.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}"), encoding="utf-8"
    )
    cli("project", "start", charter, "--as", "david")

    status = fresh(cli, "project", "status", pid)
    assert status["code"] == 0, status
    assert status["output"] == cli("project", "status", pid).stdout
    assert status["loaded"] == ["governance.messages"]  # the status is one of its models

    as_json = fresh(cli, "project", "status", pid, "--json")
    assert as_json["code"] == 0 and json.loads(str(as_json["output"]))["project_id"] == pid

    listed = fresh(cli, "project", "list", "--json")
    assert listed["code"] == 0, listed
    assert pid in [row["project_id"] for row in json.loads(str(listed["output"]))]
    assert listed["loaded"] == []
    for _ in range(10):  # the same table, once visibility has settled on the new project
        table = fresh(cli, "project", "list")
        assert table["code"] == 0, table
        if table["output"] == cli("project", "list").stdout:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"project list differs: {table}")
