"""Helpers of the CLI tests: run the real command line, write models and charters, and take
snapshots of a folder to show that a refused command created nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from phasegate.cli import app
from phasegate.cli._ledger import reading, shown_url
from phasegate.models import Registry
from phasegate.settings import Settings
from tests.governance.gov_cases import PF_CHARTER, PF_MODEL, dump

runner = CliRunner()


def cli(*args: str | Path) -> Result:
    """``phasegate ARGS`` through the app itself; a Python exception (a traceback) fails."""
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


@contextmanager
def registry_through_ledger(s: Settings) -> Iterator[Registry]:
    """The registry read through the SQLAlchemy ``Ledger`` (as before ``RegistryFile``): what
    the commands that read models answered then, to compare with."""
    with reading(s) as ledger:
        yield Registry(ledger, shown_url(s))


def model_data(name: str = "acme", version: str = "1.0", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(PF_MODEL)
    data.update({"name": name, "version": version, "title": "Acme delivery", **changes})
    return data


def write_model(path: Path, name: str = "acme", version: str = "1.0", **changes: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(model_data(name, version, **changes)), encoding="utf-8")
    return path


def write_charter(path: Path, model: str = "acme@1.0", **changes: Any) -> Path:
    data = copy.deepcopy(PF_CHARTER)
    data.update({"model": model, **changes})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(data), encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time, and every folder (a
    folder's own mtime moves when SQLite opens and removes its -wal file beside a database)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        if p.is_file()
        else (0, 0)
        for p in sorted(root.rglob("*"))
    }
