"""Helpers shared by the ledger tests (a uniquely named module, importable from the tests)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

import ledger
from governance.audit import AuditEventIn, GateTaskIn

EventFactory = Callable[..., AuditEventIn]
TaskFactory = Callable[..., GateTaskIn]
RawSql = Callable[..., list[Any]]

T0 = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
HEAD = ScriptDirectory(str(Path(ledger.__file__).parent / "migrations")).get_current_head()
"""The newest ledger migration."""


def run_concurrently(args_per_process: list[list[str]]) -> list[str]:
    """Runs CHILD in one process per argument list, releases them all at once once every one
    is ready, and returns each one's stdout; fails the test if a child fails."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in args_per_process
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outputs.append(out.strip())
    return outputs


CHILD = """
import sys
from governance.audit import AuditEventIn
from ledger import Ledger

action, url, *rest = sys.argv[1:]
with Ledger(url) as ledger:
    print("ready", flush=True)
    sys.stdin.readline()
    if action == "migrate":
        ledger.migrate()
        print("migrated")
    else:
        print(ledger.append(AuditEventIn.model_validate_json(rest[0])).hash)
"""
