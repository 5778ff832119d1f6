"""The light commands start without the Temporal SDK and SQLAlchemy: `--help`, `model list`
(with no ledger present: reading a ledger's registry needs SQLAlchemy), `model validate` of a
built-in and `charter validate` of an example; nor with structlog (it imports rich), as no log
line is written. `model list` and `model validate` also load neither the messages module nor
the tables a charter is checked against, nor rich, nor asyncio. Each runs in a fresh
interpreter, so that no other test's imports hide one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from phasegate.settings import sqlite_url

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "temporalio",
    "sqlalchemy",
    "worker",
    "workflows",
    "phasegate.devserver",
    "fastapi",
    "uvicorn",
    "jwt",
    "structlog",
)
MODEL_ONLY = ("governance.messages", "pycountry", "email_validator", "holidays", "rich", "asyncio")
"""Not needed to read a model either (`model list`, `model validate`): nor asyncio, which only
a command that talks to a server runs."""
PROBE = """
import json, sys
from typer.testing import CliRunner
from phasegate.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
heavy = sorted(m for m in {heavy!r} + {model_only!r} if m in sys.modules)
print(json.dumps({{"code": result.exit_code, "output": result.output, "heavy": heavy}}))
"""


def run_probe(*args: str, cwd: Path = ROOT) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY, model_only=MODEL_ONLY), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("model", "--help"),
        ("model", "list"),
        ("model", "list", "--json"),
        ("model", "validate", "prince2"),
        ("model", "validate", "projektflodet"),
        ("charter", "validate", "examples/prince2-charter.yaml"),
        ("charter", "validate", "examples/projektflodet-charter.yaml"),
    ],
    ids=" ".join,
)
def test_light_command_imports_neither_temporal_nor_sqlalchemy(
    args: tuple[str, ...], data_dir: Path
) -> None:
    assert not (data_dir / "ledger.db").exists()  # model list reads no ledger: there is none
    result = run_probe(*args)
    assert result["code"] == 0, result["output"]
    loaded = result["heavy"]
    assert isinstance(loaded, list)
    assert [m for m in loaded if m in HEAVY] == []
    if args[0] == "model" and args[1] != "--help":
        assert loaded == []


def test_the_probe_sees_a_command_that_needs_temporal() -> None:
    """A server-facing command imports the SDK when it runs: the probe would notice a light
    command doing the same."""
    result = run_probe("project", "status", "nothing-here")
    assert result["code"] == 1
    heavy = result["heavy"]
    assert isinstance(heavy, list)
    assert "temporalio" in heavy
    assert "sqlalchemy" not in heavy  # status reads no ledger: SQLAlchemy (and alembic) stay out


@pytest.mark.parametrize(
    "folder", ["plain", "with space", "q?mark", "per%cent", "hash#tag", "plus+sign", "ünï"]
)
def test_default_ledger_url_is_the_one_sqlalchemy_renders(tmp_path: Path, folder: str) -> None:
    """The default SQLite URL, built without SQLAlchemy, is exactly the URL SQLAlchemy builds
    (and parses back to the same file)."""
    path = tmp_path / folder / "ledger.db"
    expected = sa.URL.create("sqlite", database=str(path.resolve()))
    assert sqlite_url(path) == expected.render_as_string(hide_password=False)
    assert sa.make_url(sqlite_url(path)).database == str(path.resolve())
