"""The CLI against the real dev server: a namespace that does not exist, a blank namespace, a
worker that is refused, and the warning when no worker polls the task queue."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from ledger import Ledger
from phasegate.devserver import DevServer
from tests.cli.test_cli_config import HEAD
from tests.integration.conftest import PHASEGATE, WorkerProcess

pytestmark = pytest.mark.devserver
EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"


def phasegate(*args: str, timeout: float = 90, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    run = subprocess.run(
        [PHASEGATE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, "PHASEGATE_LOG_FORMAT": "json", **env},
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def charter_file(tmp_path: Path) -> tuple[Path, str]:
    pid = f"cfg-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "charter.yaml"
    path.write_text(EXAMPLE.read_text().replace("id: new-crm", f"id: {pid}"))
    return path, pid


ITEMS = Path(__file__).parents[2] / "examples" / "iteration-items.yaml"
COMMANDS = {
    "project start": lambda charter: ["project", "start", str(charter)],
    "project list": lambda charter: ["project", "list"],
    "project status": lambda charter: ["project", "status", "p1"],
    "gate request": lambda charter: ["gate", "request", "p1", "--as", "david"],
    "hold": lambda charter: ["hold", "p1", "--as", "anna", "--comment", "budget review"],
    "deliverable submit": lambda charter: [
        "deliverable",
        "submit",
        "p1",
        "Idébeskrivning",
        "--as",
        "david",
        "--file",
        str(charter),
    ],
    "deliverable list": lambda charter: ["deliverable", "list", "p1"],
    "iteration plan": lambda charter: [
        "iteration",
        "plan",
        "p1",
        "--as",
        "erik",
        "--file",
        str(ITEMS),
    ],
    "iteration done": lambda charter: ["iteration", "done", "p1", "--as", "erik", "CRM-1"],
    "iteration status": lambda charter: ["iteration", "status", "p1"],
    "worker": lambda charter: ["worker"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_namespace_that_does_not_exist_is_one_message(
    command: str, dev_server: DevServer, tmp_path: Path
) -> None:
    charter, _ = charter_file(tmp_path)
    namespace = f"nope-{uuid.uuid4().hex[:6]}"
    run = phasegate(
        *COMMANDS[command](charter),
        "--address",
        dev_server.address,
        "--namespace",
        namespace,
        PHASEGATE_LEDGER_URL=f"sqlite:///{tmp_path / 'ledger.db'}",
    )
    assert run.returncode == 1
    assert run.stderr.startswith(
        f"error: namespace '{namespace}' does not exist on {dev_server.address}\n"
    ), run.stderr
    assert "worker.started" not in run.stderr


def test_a_blank_namespace_setting_is_the_default_namespace(dev_server: DevServer) -> None:
    run = phasegate(
        "project",
        "list",
        "--address",
        dev_server.address,
        PHASEGATE_NAMESPACE="",
        PHASEGATE_TASK_QUEUE=" ",
    )
    assert run.returncode == 0, run.stderr


def test_a_worker_refuses_a_ledger_at_an_unknown_migration(
    dev_server: DevServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger(url) as ledger:
        ledger.migrate()
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        conn.execute("UPDATE ledger_alembic_version SET version_num = '9999'")
    run = phasegate("worker", "--address", dev_server.address, "--ledger-url", url)
    assert run.returncode == 1
    assert f"is at migration '9999', which this phasegate (newest: '{HEAD}') does not know" in (
        run.stderr
    )
    assert "worker.started" not in run.stderr


def test_status_and_list_warn_when_no_worker_polls_the_task_queue(
    dev_server: DevServer, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    common = ["--address", dev_server.address, "--task-queue", worker_process.args[-1]]
    ledger = ["--ledger-url", worker_process.args[worker_process.args.index("--ledger-url") + 1]]
    charter, pid = charter_file(tmp_path)
    # The worker's ledger, not the default one of the working directory (which may hold a
    # `phasegate dev` ledger whose projects pin it).
    assert phasegate("project", "start", str(charter), *common, *ledger).returncode == 0
    warning = f"warning: no worker polls task queue '{worker_process.args[-1]}'"

    listed = phasegate("project", "list", *common)
    assert listed.returncode == 0 and pid in listed.stdout
    assert warning in listed.stderr
    status = phasegate("project", "status", pid, *common, timeout=120)
    assert status.returncode == 1  # nobody answers the query either
    assert status.stderr.startswith(warning)

    worker_process.start()
    listed = phasegate("project", "list", *common)
    assert listed.returncode == 0 and warning not in listed.stderr
    status = phasegate("project", "status", pid, *common)
    assert status.returncode == 0 and status.stderr == ""
    assert f"{pid}: " in status.stdout
