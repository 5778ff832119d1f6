"""Configuration mistakes through the real CLI: one message, exit 1, no traceback."""

from __future__ import annotations

import os
import pwd
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

import ledger
from governance.audit import AuditEventIn, EventKind
from ledger import Ledger
from phasegate.settings import Settings

PHASEGATE = str(Path(sys.executable).with_name("phasegate"))
VERSION_TABLE = "ledger_alembic_version"

HEAD = ScriptDirectory(str(Path(ledger.__file__).parent / "migrations")).get_current_head()
"""The newest ledger migration of this code."""


def phasegate(*args: str, user: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process; ``user`` runs it as that unprivileged user (when root)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    prefix = []
    if user is not None and os.geteuid() == 0:
        account = pwd.getpwnam(user)
        prefix = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}"]
        prefix.append("--clear-groups")
    run = subprocess.run(
        [*prefix, PHASEGATE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def one_event(project_id: str = "p1") -> AuditEventIn:
    return AuditEventIn(
        project_id=project_id,
        seq=1,
        at=datetime(2027, 1, 11, 9, 0, tzinfo=UTC),
        kind=EventKind.project_started,
        from_state=None,
        to_state="idea",
        actor="anna",
        role="bestallare",
        comment=None,
        payload={},
        model="projektflodet@1.0",
        model_hash="ab" * 32,
        workflow_id=f"project-{project_id}",
        run_id="run-1",
    )


def ledger_with_one_event(data_dir: Path) -> str:
    url = Settings(data_dir=data_dir).effective_ledger_url()
    with Ledger(url) as ledger:
        ledger.migrate()
        ledger.append(one_event())
    return url


def set_revision(data_dir: Path, revision: str) -> None:
    with sqlite3.connect(data_dir / "ledger.db") as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = ?", (revision,))


def revision(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "ledger.db") as conn:
        return str(conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0])


# -- addresses and the dev server ---------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "localhost:http", "localhost"])
def test_an_address_with_a_bad_port_is_a_message(address: str, tmp_path: Path) -> None:
    run = phasegate("project", "list", "--address", address, "--data-dir", str(tmp_path))
    assert run.returncode == 1
    assert run.stderr.startswith(
        f"error: setting address: must be host:port with a port from 1 to 65535, got '{address}'"
    )


@pytest.mark.parametrize("command", [["worker"], ["dev", "--no-ui"]])
def test_a_bad_log_level_is_a_message(command: list[str], tmp_path: Path) -> None:
    run = phasegate(*command, "--log-level", "loud", "--data-dir", str(tmp_path))
    assert run.returncode == 1
    assert run.stderr.startswith("error: setting log_level: Input should be 'DEBUG', 'INFO'")
    assert list(tmp_path.iterdir()) == []  # refused before anything started


def test_no_dev_server_for_the_data_dir_is_said_not_guessed(tmp_path: Path) -> None:
    """No fallback to 127.0.0.1:7233, which may be another data dir's server and ledger."""
    run = phasegate("project", "status", "p1", "--data-dir", str(tmp_path))
    assert run.returncode == 1
    assert f"error: no phasegate dev server runs for data dir {tmp_path}" in run.stderr
    assert "phasegate dev --data-dir" in run.stderr and "--address" in run.stderr


# -- the ledger -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a?b", "50%", "a#b", "x%41y"])
def test_a_data_dir_with_url_characters_reads_its_own_ledger(tmp_path: Path, name: str) -> None:
    data = tmp_path / name / "data"
    ledger_with_one_event(data)
    run = phasegate("audit", "verify", "--data-dir", str(data))
    assert (run.returncode, run.stdout.strip()) == (
        0,
        "ok: 1 events in 1 project(s) verified (1 chain(s))",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no stray ledger beside it


@pytest.mark.parametrize(
    "command",
    [["audit", "verify"], ["audit", "export"], ["tasks"], ["report", "p1"]],
    ids=" ".join,
)
def test_a_ledger_at_an_unknown_migration_is_refused_by_readers(
    tmp_path: Path, command: list[str]
) -> None:
    ledger_with_one_event(tmp_path)
    set_revision(tmp_path, "9999")
    run = phasegate(*command, "--data-dir", str(tmp_path))
    assert run.returncode == 1
    assert f"is at migration '9999', which this phasegate (newest: '{HEAD}') does not know" in (
        run.stderr
    )
    assert "a newer phasegate wrote it" in run.stderr
    assert revision(tmp_path) == "9999"


@pytest.mark.parametrize(
    "command",
    [["audit", "verify"], ["audit", "export"], ["tasks"], ["report", "p1"]],
    ids=" ".join,
)
def test_readers_never_migrate_an_older_ledger(tmp_path: Path, command: list[str]) -> None:
    ledger_with_one_event(tmp_path)
    set_revision(tmp_path, "0001")
    run = phasegate(*command, "--data-dir", str(tmp_path))
    assert run.returncode == 1
    assert f"is at migration '0001', older than this phasegate's '{HEAD}'" in run.stderr
    assert revision(tmp_path) == "0001"


def test_readers_do_not_create_a_ledger_where_there_is_none(tmp_path: Path) -> None:
    run = phasegate("tasks", "--data-dir", str(tmp_path / "typo"))
    assert run.returncode == 1
    assert "error: no ledger at sqlite:///" in run.stderr
    assert not (tmp_path / "typo").exists()


@pytest.fixture
def read_only_data_dir() -> Iterator[Path]:
    """A data dir holding a ledger with one event, that the ``nobody`` user may only read
    (root may write anywhere, so the CLI runs as ``nobody`` when the tests run as root)."""
    base = Path(tempfile.mkdtemp(prefix="phasegate-ro-"))  # not under pytest's 0700 tmp dir
    data = base / "data"
    ledger_with_one_event(data)
    for path in (base, data):
        path.chmod(0o555)
    (data / "ledger.db").chmod(0o444)
    yield data
    for path in (base, data):
        path.chmod(stat.S_IRWXU)
    subprocess.run(["rm", "-rf", str(base)], check=True)


@pytest.mark.parametrize(
    ("command", "out"),
    [
        (["audit", "verify"], "ok: 1 events in 1 project(s) verified (1 chain(s))"),
        (["audit", "export", "--format", "csv"], "p1,1,"),
        (["tasks", "--status", "all"], ""),
        (["report", "p1", "--list", "--format", "json"], "[]"),
    ],
    ids=["verify", "export", "tasks", "report"],
)
def test_a_read_only_data_dir_can_be_read(
    read_only_data_dir: Path, command: list[str], out: str
) -> None:
    run = phasegate(*command, "--data-dir", str(read_only_data_dir), user="nobody")
    assert run.returncode == 0, run.stderr
    assert out in run.stdout
    assert sorted(p.name for p in read_only_data_dir.iterdir()) == ["ledger.db"]


def test_dev_in_a_read_only_data_dir_is_a_message(read_only_data_dir: Path) -> None:
    run = phasegate("dev", "--no-ui", "--data-dir", str(read_only_data_dir), user="nobody")
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: cannot run a dev server in {read_only_data_dir}: ")
    assert "Permission denied" in run.stderr
