"""``project start`` against the real dev server: the model comes from the built-ins or the
ledger's registry, a local file only with --model (and is then shown as one), and a project id
the ledger already holds is refused before anything starts."""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

import governance as g
from governance.audit import AuditEventIn, EventKind
from ledger import Ledger
from phasegate.cli import app
from phasegate.devserver import DevServer
from tests.governance.gov_cases import PF_CHARTER, PF_MODEL, dump
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver

Cli = Callable[..., Result]


def make_cli(env: dict[str, str]) -> Cli:
    runner = CliRunner(env=env)

    def run(*args: str | Path) -> Result:
        result = runner.invoke(app, [str(a) for a in args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


@pytest.fixture
def cli(dev_server: DevServer, worker_process: WorkerProcess, tmp_path: Path) -> Cli:
    args = worker_process.args
    return make_cli(
        {
            "PHASEGATE_ADDRESS": dev_server.address,
            "PHASEGATE_LEDGER_URL": args[args.index("--ledger-url") + 1],
            "PHASEGATE_TASK_QUEUE": args[-1],
            "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
        }
    )


def charter_file(folder: Path, model: str, **changes: object) -> tuple[Path, str]:
    pid = f"src-{uuid.uuid4().hex[:6]}"
    data = copy.deepcopy(PF_CHARTER)
    data.update({"model": model, "id": pid, **changes})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "charter.yaml"
    path.write_text(dump(data), encoding="utf-8")
    return path, pid


def model_file(path: Path, name: str, version: str = "1.0", self_approval: bool = True) -> Path:
    data = copy.deepcopy(PF_MODEL)
    data.update(name=name, version=version)
    data["phases"][0]["gate"]["forbid_self_approval"] = self_approval
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(data), encoding="utf-8")
    return path


def listed(cli: Cli, pid: str) -> str:
    """The project's line of `project list` (visibility is not instant)."""
    deadline = time.monotonic() + 20
    while True:
        lines = [line for line in cli("project", "list").stdout.splitlines() if pid in line]
        if lines or time.monotonic() > deadline:
            assert lines, f"{pid} not listed"
            return lines[0]
        time.sleep(0.2)


def test_a_charter_runs_under_its_published_model_and_a_copy_beside_it_is_ignored(
    cli: Cli, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    worker_process.start()
    published = model_file(tmp_path / "pmo" / "acme.yaml", "acme")
    digest = g.load_model(published).content_hash()
    assert cli("model", "publish", published, "--as", "fatima").exit_code == 0
    # A weakened copy under the same name and version, beside the charter.
    model_file(tmp_path / "team" / "acme.yaml", "acme", self_approval=False)
    charter, pid = charter_file(tmp_path / "team", "acme@1.0")
    started = cli("project", "start", charter)
    assert (started.exit_code, started.stdout) == (0, f"{pid}\n"), started.output
    status = cli("project", "status", pid)
    assert f"  model:  acme@1.0 (published, sha256 {digest[:12]})" in status.stdout
    assert f"   acme@1.0 (published, sha256 {digest[:12]})   " in listed(cli, pid)


def test_a_weakened_builtin_copy_beside_the_charter_is_not_used(
    cli: Cli, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    worker_process.start()
    model_file(tmp_path / "projektflodet.yaml", "projektflodet", self_approval=False)
    charter, pid = charter_file(tmp_path, "projektflodet@1.0")
    assert cli("project", "start", charter).exit_code == 0
    builtin = g.builtin_models()["projektflodet"].content_hash()
    status = json.loads(cli("project", "status", pid, "--json").stdout)
    assert status["model_hash"] == builtin
    assert status["model_source"] == {"kind": "builtin", "file": None}


def test_a_model_file_named_with_model_is_shown_as_a_local_file_model(
    cli: Cli, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    worker_process.start()
    local = model_file(tmp_path / "drafts" / "acme.yaml", "acme", version="2.0")
    digest = g.load_model(local).content_hash()
    charter, pid = charter_file(tmp_path, "acme@2.0", title="CRM")
    refused = cli("project", "start", charter)  # not published: the file is not picked up
    assert refused.exit_code == 1
    assert refused.stderr.startswith('model: "acme@2.0" is neither a built-in model')
    assert f'model: found {local}: it holds "acme@2.0", but a file is not used' in refused.stderr
    assert cli("project", "start", charter, "--model", local).exit_code == 0
    status = cli("project", "status", pid)
    assert f"  model:  acme@2.0 (local file {local}, sha256 {digest[:12]})" in status.stdout
    assert f"   acme@2.0 (local file {local}, sha256 {digest[:12]})   " in listed(cli, pid)
    # And the source is on the record.
    export = cli("audit", "export", "--project", pid).stdout.splitlines()
    started = json.loads(export[0])
    assert started["kind"] == "project_started"
    assert started["payload"]["model_source"] == {"kind": "file", "file": str(local)}


def test_a_project_id_the_ledger_already_holds_is_refused_and_nothing_starts(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """Another namespace, another server or Temporal's retention: Temporal does not know the
    id, the ledger does."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    charter, pid = charter_file(tmp_path, "projektflodet@1.0")
    with Ledger(ledger_url) as ledger:
        ledger.migrate()
        ledger.append(
            AuditEventIn(
                project_id=pid,
                seq=1,
                at=datetime(2025, 1, 1, tzinfo=UTC),
                kind=EventKind.project_started,
                model="projektflodet@1.0",
                model_hash="ab" * 32,
                workflow_id=f"project-{pid}",
                run_id="an-old-run",
            )
        )
    cli = make_cli(
        {
            "PHASEGATE_ADDRESS": dev_server.address,
            "PHASEGATE_LEDGER_URL": ledger_url,
            "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
        }
    )
    refused = cli("project", "start", charter)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        f"error: project {pid} already exists in the ledger (1 audit events): a project id is "
        "never used twice"
    )

    async def describe() -> None:
        client = await Client.connect(dev_server.address)
        await client.get_workflow_handle(f"project-{pid}").describe()

    with pytest.raises(RPCError) as info:
        asyncio.run(describe())
    assert info.value.status == RPCStatusCode.NOT_FOUND
