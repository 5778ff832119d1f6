"""Deliverables and an iteration cycle through the CLI, against the real dev server and a worker
process: what the README's "Running the execution phase" shows, and each bad input refused
with its message and exit code while nothing changes."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver
EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"

PLAN = """\
- {id: CRM-1, title: Importera kundregistret, owner: erik, estimate: 2, points: 3}
- {id: CRM-2, title: Säljtratt i vyn, owner: cecilia, estimate: 1.5, points: 2}
- {id: CRM-3, title: Inloggning med SSO, owner: david, estimate: 1, points: 1}
"""
ADDED = "- {id: CRM-4, title: Exportera till Excel, owner: erik, estimate: 0.5, points: 1}\n"


def start(cli: Cli, tmp_path: Path) -> str:
    pid = f"exe-{uuid.uuid4().hex[:6]}"
    charter = tmp_path / "charter.yaml"
    charter.write_text(EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}"))
    assert cli("project", "start", charter).stdout.strip() == pid
    return pid


def settled(cli: Cli, pid: str) -> tuple[Any, Any]:
    """The project's status and its open iteration's once the ledger holds every event they
    accepted (a step's events are written just after it answers); ``days_left``, which
    counts down by itself, left out."""
    deadline = time.monotonic() + 30
    while True:
        st = cli.json("project", "status", pid)
        it = cli.json("iteration", "status", pid)["iteration"] if st["execution"] else None
        done = st["recorded_seq"] == st["last_seq"] and (
            it is None or it["recorded_seq"] == it["last_seq"]
        )
        if done or time.monotonic() > deadline:
            if it is not None:
                del it["days_left"]
            return st, it


def unchanged(cli: Cli, pid: str, refused: Callable[[], Result]) -> Result:
    """Run ``refused`` and show that neither the project nor its iteration moved."""
    before = settled(cli, pid)
    result = refused()
    assert settled(cli, pid) == before
    return result


def pass_gate(cli: Cli, pid: str, tmp_path: Path) -> None:
    """Submit every deliverable the current gate lists, request it, and have anna and bo
    approve (enough for each gate of projektflodet up to execution)."""
    for d in cli.json("deliverable", "list", pid):
        doc = tmp_path / f"{d['name']}.md"
        doc.write_text(f"# {d['name']}\n", encoding="utf-8")
        cli("deliverable", "submit", pid, d["name"], "--as", "david", "--file", doc)
    cli("gate", "request", pid, "--as", "david")
    cli("gate", "decide", pid, "--as", "anna", "--decision", "approve")
    cli("gate", "decide", pid, "--as", "bo", "--decision", "approve")


def test_a_gate_request_waits_for_its_deliverables_which_keep_their_versions(
    cli: Cli, tmp_path: Path
) -> None:
    pid = start(cli, tmp_path)
    listed = cli("deliverable", "list", pid).stdout
    assert listed == "Idébeskrivning: missing\n"
    assert "deliverables: 0 of 1 present" in cli("project", "status", pid).stdout

    refused = unchanged(cli, pid, lambda: cli("gate", "request", pid, "--as", "david", code=1))
    assert "Idébeskrivning" in refused.stderr

    unknown = unchanged(
        cli,
        pid,
        lambda: cli(
            "deliverable",
            "submit",
            pid,
            "Projektplan",
            "--as",
            "david",
            "--url",
            "https://wiki.example.se/plan",
            code=1,
        ),
    )
    assert "Projektplan" in unknown.stderr

    first, second = tmp_path / "ide-v1.md", tmp_path / "ide-v2.md"
    first.write_bytes(b"# Ny CRM\n")
    second.write_bytes("# Ny CRM\nMed säljtratt.\n".encode())
    cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", first)
    out = cli(
        "deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", second,
        "--comment", "med säljtratt",
    ).stdout  # fmt: skip
    sha = hashlib.sha256(second.read_bytes()).hexdigest()
    size = len(second.read_bytes())
    assert out.startswith(f"Idébeskrivning: version 2 of 2, sha256 {sha[:12]}, {size} B, by david")
    [row] = cli.json("deliverable", "list", pid)
    assert row["present"] and row["versions"] == 2
    assert (row["current"]["sha256"], row["current"]["size"]) == (sha, size)
    assert row["current"]["comment"] == "med säljtratt"

    out = cli("gate", "request", pid, "--as", "david").stdout
    assert "idea_gate" in out
    assert "ok:" in cli("audit", "verify", "--project", pid).stdout


def test_an_iteration_cycle_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    pid = start(cli, tmp_path)
    early = unchanged(
        cli, pid, lambda: cli("iteration", "done", pid, "--as", "erik", "CRM-1", code=1)
    )
    assert early.stderr == (
        f"error: project {pid} has no open iteration (phase idea runs no iterations)\n"
    )
    none = cli("iteration", "status", pid, code=1)
    assert (
        none.stderr
        == f"error: project {pid} has run no iterations (phase idea runs no iterations)\n"
    )
    for _ in range(3):  # idea, pre-study and planning
        pass_gate(cli, pid, tmp_path)
    assert cli.json("project", "status", pid)["phase"] == "execution"

    status = cli.json("iteration", "status", pid)
    assert status["iteration"]["number"] == 1 and status["iteration"]["state"] == "planning"

    plan = tmp_path / "items.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(PLAN.replace("estimate: 1,", "estimate: -1,"), encoding="utf-8")
    malformed = unchanged(
        cli, pid, lambda: cli("iteration", "plan", pid, "--as", "erik", "--file", broken, code=1)
    )
    assert malformed.stderr == (
        f"error: {broken}: [2].estimate: Input should be greater than 0, got -1\n"
    )
    too_big = tmp_path / "too-big.yaml"
    too_big.write_text(PLAN.replace("estimate: 2,", "estimate: 3,"), encoding="utf-8")
    refused = unchanged(
        cli, pid, lambda: cli("iteration", "plan", pid, "--as", "erik", "--file", too_big, code=1)
    )
    assert 'item "CRM-1"' in refused.stderr and "max_item_effort" in refused.stderr
    not_a_planner = unchanged(
        cli, pid, lambda: cli("iteration", "plan", pid, "--as", "bo", "--file", plan, code=1)
    )
    assert "bo" in not_a_planner.stderr

    out = cli(
        "iteration", "plan", pid, "--as", "erik", "--file", plan, "--length", "P3W",
        "--goal", "Kundregistret i CRM:et",
    ).stdout  # fmt: skip
    assert (
        "step executing" in out
        and "0 of 3 done (0 of 4.5 person-days); committed 3 (4.5 person-days)\n" in out
    )

    cli("iteration", "done", pid, "--as", "cecilia", "CRM-2")
    unknown = unchanged(
        cli, pid, lambda: cli("iteration", "done", pid, "--as", "erik", "CRM-9", code=1)
    )
    assert "CRM-9" in unknown.stderr
    added = tmp_path / "added.yaml"
    added.write_text(ADDED, encoding="utf-8")
    cli("iteration", "add", pid, "--as", "erik", "--file", added)
    out = cli("iteration", "done", pid, "--as", "erik", "CRM-1", "CRM-4").stdout
    assert "3 of 4 done (4 of 5 person-days); committed 3 (4.5 person-days), added 1 (0.5" in out

    cli("iteration", "close", pid, "--as", "erik", "--comment", "Klart tidigt")
    out = cli(
        "iteration", "demo", pid, "--as", "erik", "--attendee", "anna", "--attendee", "bo",
        "--feedback", "bo: Importen fungerar", "--feedback", "anna: Visa tratten: per säljare",
    ).stdout  # fmt: skip
    assert "anna: Visa tratten: per säljare" in out
    not_receiver = unchanged(
        cli,
        pid,
        lambda: cli("iteration", "deliver", pid, "--as", "erik", "--decision", "deliver", code=1),
    )
    assert "erik" in not_receiver.stderr
    cli("iteration", "deliver", pid, "--as", "bo", "--decision", "deliver", "--comment", "Ut")
    cli(
        "iteration", "retro", pid, "--as", "erik", "--keep", "Parprogrammering",
        "--change", "Mindre poster", "--obstacle", "leverantor: Testmiljön saknas",
    )  # fmt: skip

    status = cli.json("iteration", "status", pid)
    [first] = status["execution"]["history"]
    assert (first["number"], first["delivered"]) == (1, True)
    assert (first["committed_items"], first["completed_items"], first["added_items"]) == (3, 3, 1)
    assert [i["id"] for i in status["execution"]["backlog"]] == ["CRM-3"]
    assert status["iteration"]["number"] == 2 and status["iteration"]["state"] == "planning"
    human = cli("iteration", "status", pid).stdout
    assert "iteration 2 of phase execution, step planning" in human
    assert "burn-up:" in human and "forecast:" in human
    assert "iteration: 2 open, 1 finished" in cli("project", "status", pid).stdout

    tasks = cli.json("tasks", "--assignee", "cecilia", "--project", pid)
    assert any("Testmiljön saknas" in t["title"] for t in tasks)
    # The project's chain and each iteration's verify; the ended iteration 1 and the open
    # iteration 2 are neither reported as ended outside governance nor as missing.
    verify = cli("audit", "verify")
    assert (
        verify.stdout.startswith("ok:") and "in 1 project(s) verified (3 chain(s))" in verify.stdout
    )
    assert verify.stderr == ""

    # The phase is done: its gate closes the open iteration 2 (never planned), recorded so.
    pass_gate(cli, pid, tmp_path)
    status = cli.json("iteration", "status", pid)
    assert status["iteration"] is None
    assert [(v["number"], v["outcome"]) for v in status["execution"]["history"]] == [
        (1, "done"),
        (2, "closed"),
    ]
    assert "no open iteration" in cli("iteration", "status", pid).stdout
    after = cli("iteration", "plan", pid, "--as", "erik", "--file", plan, code=1)
    assert (
        after.stderr
        == f"error: project {pid} has no open iteration (phase closure runs no iterations)\n"
    )
