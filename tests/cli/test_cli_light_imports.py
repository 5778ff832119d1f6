"""The light commands start without the Temporal SDK, SQLAlchemy and Alembic: `--help`,
`model list`, `model validate` of a built-in and `charter validate` of an example, with no
ledger present and with a SQLite ledger holding published models (its registry read with
sqlite3 alone); nor with structlog (it imports rich), as no log line is written. `model list`
and `model validate` also load neither the messages module nor the tables a charter is checked
against, nor rich, nor asyncio. Each runs in a fresh interpreter, so that no other test's
imports hide one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_support import cli, registry_through_ledger, write_model

from phasegate.cli import _model
from phasegate.settings import sqlite_url

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "temporalio",
    "sqlalchemy",
    "alembic",
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


@pytest.mark.parametrize(
    "args",
    [
        ("model", "list"),
        ("model", "list", "--json"),
        ("model", "validate", "prince2"),
        ("model", "validate", "acme@1.10"),
        ("model", "validate", "acme"),
        ("charter", "validate", "examples/prince2-charter.yaml"),
    ],
    ids=" ".join,
)
def test_with_a_ledger_present_a_light_command_still_imports_nothing_heavy(
    args: tuple[str, ...], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`phasegate dev` made the default SQLite ledger and models were published: the registry
    is read with sqlite3 alone, and the command answers as it did through SQLAlchemy."""
    for version in ("1.2", "1.10"):
        model = write_model(tmp_path / f"acme-{version}.yaml", version=version)
        assert cli("model", "publish", model, "--as", "eva").exit_code == 0
    assert (data_dir / "ledger.db").is_file()
    result = run_probe(*args)
    assert result["code"] == 0, result["output"]
    loaded = result["heavy"]
    assert isinstance(loaded, list)
    assert [m for m in loaded if m in HEAVY] == []
    if args[0] == "model":
        assert loaded == []
    monkeypatch.setattr(_model, "registry", registry_through_ledger)
    assert result["output"] == cli(*args).output
    if args[:2] == ("model", "list"):
        assert "acme@1.2" in str(result["output"]) and "acme@1.10" in str(result["output"])


def test_an_explicit_sqlite_ledger_url_is_read_without_sqlalchemy_too(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PHASEGATE_LEDGER_URL=sqlite:///...`` (escaped): neither checking the setting nor
    reading the registry imports SQLAlchemy."""
    ledger = tmp_path / "q?mark #ü" / "ledger.db"
    monkeypatch.setenv("PHASEGATE_LEDGER_URL", sqlite_url(ledger))
    model = write_model(tmp_path / "acme.yaml", version="1.2")
    assert cli("model", "publish", model, "--as", "eva").exit_code == 0
    assert ledger.is_file() and not data_dir.exists()
    result = run_probe("model", "list")
    assert result["code"] == 0, result["output"]
    assert result["heavy"] == []
    assert "acme@1.2\tpublished by eva" in str(result["output"])


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
