"""The PMO's views through the CLI, against the real dev server and a worker process: `project
list` as a table with a header (title, manager, what a project awaits, the days to its
deadline) and its filters `--held`, `--state`, `--overdue`; `project status` with each vote
(who, when, why), who is awaited, the clock, the hold and the last gate decided."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from phasegate import service
from phasegate.devserver import DevServer
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver
EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"
HEADER = ["project", "title", "model", "phase", "awaiting", "manager", "due", "RAG"]


def start(cli: Cli, tmp_path: Path) -> str:
    pid = f"pmo-{uuid.uuid4().hex[:6]}"
    charter = tmp_path / f"{pid}.yaml"
    charter.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}"), encoding="utf-8"
    )
    assert cli("project", "start", charter, "--as", "david").stdout.strip() == pid
    return pid


def rows(cli: Cli, *flags: str) -> dict[str, list[str]]:
    """`project list`'s rows by project id, split on the table's column gaps."""
    lines = cli("project", "list", *flags).stdout.splitlines()
    if lines == ["no projects"]:
        return {}
    assert lines[0].split() == HEADER, lines[0]
    assert set(lines[1]) == {"─"}, lines[1]
    split = [[cell.strip() for cell in line.split("   ") if cell.strip()] for line in lines[2:]]
    return {cells[0]: cells for cells in split}


def listed(cli: Cli, pid: str, check: object, *flags: str, timeout: float = 20.0) -> list[str]:
    """``pid``'s row once ``check(row or None)`` holds (visibility is not instant)."""
    deadline = time.monotonic() + timeout
    while True:
        row = rows(cli, *flags).get(pid)
        if check(row) or time.monotonic() > deadline:  # type: ignore[operator]
            return row  # type: ignore[return-value]
        time.sleep(0.3)


def test_the_portfolio_shows_what_each_project_awaits_and_filters_on_it(
    cli: Cli, tmp_path: Path
) -> None:
    gated, held = start(cli, tmp_path), start(cli, tmp_path)
    idea = tmp_path / "ide.md"
    idea.write_text("Ett nytt CRM.\n", encoding="utf-8")
    cli("deliverable", "submit", gated, "Idébeskrivning", "--as", "david", "--file", idea)
    cli("gate", "request", gated, "--as", "david")
    cli("gate", "decide", gated, "--as", "bo", "--decision", "approve", "--comment", "Bra")
    cli("hold", held, "--as", "anna", "--comment", "Budgetstopp")
    today = datetime.now(UTC).date()

    row = listed(cli, gated, lambda r: r is not None and r[4].startswith("gate"))
    assert row == [
        gated,
        "Nytt CRM-system",
        "projektflodet@1.0",
        "idea",
        "gate idea_gate",
        "david",
        "in 10 days",
        "-",
    ]
    row = listed(cli, held, lambda r: r is not None and r[4].startswith("hold"))
    assert row[4] == f"hold since {today.isoformat()} by anna"
    assert row[6] == "-"  # a held project's clocks wait: nothing is due

    only_held = rows(cli, "--held")
    assert held in only_held and gated not in only_held
    open_ones = rows(cli, "--state", "open")
    assert {gated, held} <= set(open_ones)
    assert gated not in rows(cli, "--overdue")  # its deadline is ten days off

    [as_json] = [r for r in cli.json("project", "list") if r["project_id"] == gated]
    assert as_json["title"] == "Nytt CRM-system" and as_json["managers"] == ["david"]
    deadline = datetime.fromisoformat(as_json["deadline"])
    assert deadline.date() == today + timedelta(days=10)
    assert datetime.fromisoformat(as_json["phase_since"]).date() == today

    cli("cancel", held, "--as", "anna", "--comment", "Ersatt av ett annat projekt")
    row = listed(cli, held, lambda r: r is not None, "--state", "cancelled")
    assert row[3] == "cancelled" and row[6] == "-"
    assert held not in rows(cli, "--state", "open")
    assert gated not in rows(cli, "--state", "cancelled")


def test_overdue_is_a_decision_past_its_deadline_and_never_a_held_project(
    cli: Cli, tmp_path: Path, dev_server: DevServer
) -> None:
    gated, held = start(cli, tmp_path), start(cli, tmp_path)
    idea = tmp_path / "ide.md"
    idea.write_text("Ett nytt CRM.\n", encoding="utf-8")
    for pid in (gated, held):
        cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", idea)
        cli("gate", "request", pid, "--as", "david")
    cli("hold", held, "--as", "anna", "--comment", "Budgetstopp")
    listed(cli, held, lambda r: r is not None and r[4].startswith("hold"))

    async def overdue_at(at: datetime) -> set[str]:
        client = await Client.connect(dev_server.address, data_converter=pydantic_data_converter)
        return {r.project_id for r in await service.list_projects(client, overdue_at=at)}

    # Eleven days from now the gate's ten-day SLA has passed; the held project's clock waits.
    later = asyncio.run(overdue_at(datetime.now(UTC) + timedelta(days=11)))
    assert gated in later and held not in later
    assert gated not in asyncio.run(overdue_at(datetime.now(UTC)))


def test_status_shows_each_vote_who_is_awaited_the_clock_the_hold_and_the_last_gate(
    cli: Cli, tmp_path: Path
) -> None:
    pid = start(cli, tmp_path)
    idea = tmp_path / "ide.md"
    idea.write_text("Ett nytt CRM.\n", encoding="utf-8")
    cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", idea)
    cli("gate", "request", pid, "--as", "david")
    out = cli(
        "gate", "decide", pid, "--as", "bo", "--decision", "approve", "--comment", "Ser bra ut"
    ).stdout
    today = datetime.now(UTC).date()
    assert f"  phase:  idea (Idé), 1 of 6, since {today.isoformat()} (0 days)" in out
    assert "  gate:   idea_gate: Beslutspunkt 1: starta förstudie" in out
    assert "round 1, rule all, 1/2 approvals; opened " in out and " by david" in out
    [vote] = [line.strip() for line in out.splitlines() if line.strip().startswith("bo: ")]
    assert vote.startswith("bo: approve at ") and vote.endswith(" (Ser bra ut)")
    assert "          awaiting: anna" in out.splitlines()
    [clock] = [line.strip() for line in out.splitlines() if line.strip().startswith("deadline:")]
    assert "(in 10 days); reminder " in clock
    assert clock.endswith("(not sent yet)")

    out = cli(
        "gate", "decide", pid, "--as", "anna", "--decision", "rework", "--comment", "Kostnader?"
    ).stdout
    assert out.splitlines()[0] == "rework: back to idea"
    [last] = [line for line in out.splitlines() if line.startswith("  last gate: ")]
    assert last.startswith("  last gate: idea_gate round 1: rework: back to idea by anna at ")
    assert last.endswith(": Kostnader?")

    out = cli("hold", pid, "--as", "anna", "--comment", "Budgetstopp").stdout
    assert "  state:  on_hold  [ON HOLD]" in out
    [held] = [line for line in out.splitlines() if line.startswith("  held:   ")]
    assert held.startswith(f"  held:   since {today.isoformat()}T")
    assert held.endswith(" by anna (0 days; every clock waits): Budgetstopp")
    out = cli("project", "status", pid).stdout
    assert "  last gate: idea_gate round 1: rework" in out  # the reason stays in sight
    history = cli("project", "history", pid).stdout
    assert "Budgetstopp" in history and "Kostnader?" in history

    out = cli("cancel", pid, "--as", "anna", "--comment", "Ersatt").stdout
    [ended] = [line for line in out.splitlines() if line.startswith("  ended:  ")]
    assert ended.startswith("  ended:  cancelled by anna at ")
    assert ended.endswith(" in phase idea: Ersatt")
