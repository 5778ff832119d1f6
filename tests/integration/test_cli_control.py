"""Control through the CLI, against the real dev server and a worker process: what the
README's "Management by exception" shows. A progress report forecasting a cost overrun makes
`rag.cost` red, `project list --rag red` finds the project and `project status --json` carries
the earned-value figures; the board approves an exception plan; a minor change and a formal
change decided by two board members while a gate is open; each refusal changes nothing."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver
EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"
FIGURES = ("pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac", "etc", "vac", "tcpi")


TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=80)
PLANNED_END = TODAY + timedelta(days=180)
"""The example charter's baseline moved so that today is 80 of its 260 days in: a report as of
today is neither before the start nor in the future."""


def start(cli: Cli, tmp_path: Path) -> str:
    """The example project (BAC 800,000 SEK, 240 points, cost tolerance 8%) under a new id."""
    pid = f"ctl-{uuid.uuid4().hex[:6]}"
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("id: new-crm", f"id: {pid}")
        .replace("start: 2027-01-11", f"start: {START.isoformat()}")
        .replace("planned_end: 2027-09-30", f"planned_end: {PLANNED_END.isoformat()}")
    )
    charter = tmp_path / f"{pid}.yaml"
    charter.write_text(text, encoding="utf-8")
    assert cli("project", "start", charter).stdout.strip() == pid
    return pid


def settled(cli: Cli, pid: str) -> Any:
    """The project's status once the ledger holds every event it accepted."""
    deadline = time.monotonic() + 30
    while True:
        st = cli.json("project", "status", pid)
        if st["recorded_seq"] == st["last_seq"] or time.monotonic() > deadline:
            return st


def unchanged(cli: Cli, pid: str, command: Callable[[], Result]) -> Result:
    """Run ``command`` and show that the project did not move."""
    before = settled(cli, pid)
    result = command()
    assert settled(cli, pid) == before
    return result


def refused(cli: Cli, pid: str, *args: str | Path) -> Result:
    """``phasegate ARGS`` exits 1 and the project does not move."""
    return unchanged(cli, pid, lambda: cli(*args, code=1))


def listed(cli: Cli, colour: str, pid: str) -> list[str]:
    """The lines of `project list --rag COLOUR` naming ``pid`` (visibility is not instant)."""
    deadline = time.monotonic() + 20
    while True:
        out = cli("project", "list", "--rag", colour).stdout
        lines = [line for line in out.splitlines() if line.split()[:1] == [pid]]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def progress(pid: str, actor: str, as_of: date, cost: float, scope: float) -> list[str]:
    """The arguments of a progress report."""
    return [
        "progress", pid, "--as", actor, "--as-of", as_of.isoformat(),
        "--actual-cost", f"{cost:g}", "--earned-scope", f"{scope:g}",
    ]  # fmt: skip


def report_overrun(cli: Cli, pid: str) -> Result:
    """60 of 240 points earned (EV 200,000) for 300,000 spent: CPI 2/3, EAC 1,200,000, 50%
    over a cost tolerance of 8% (5% at stage)."""
    return cli(
        "progress", pid, "--as", "david", "--as-of", TODAY.isoformat(),
        "--actual-cost", "300000", "--earned-scope", "60",
        "--risk", "Leverantören levererar sent:0.3:50000",
        "--comment", "Integrationen blev dyrare",
    )  # fmt: skip


def test_a_cost_overrun_forecast_is_red_listed_and_shown_with_its_figures(
    cli: Cli, tmp_path: Path
) -> None:
    pid = start(cli, tmp_path)
    assert cli.json("project", "status", pid)["rag"] == {}
    not_the_manager = refused(cli, pid, *progress(pid, "bo", TODAY, 1000, 1))
    assert "bo" in not_the_manager.stderr
    too_much = refused(cli, pid, *progress(pid, "david", TODAY, 1000, 241))
    assert "earned" in too_much.stderr
    before_start = refused(cli, pid, *progress(pid, "david", START - timedelta(days=1), 1000, 1))
    assert re.search(r"as[_ -]of", before_start.stderr), before_start.stderr

    out = report_overrun(cli, pid).stdout
    assert "cost red" in out and "EAC 1,200,000" in out

    st = settled(cli, pid)
    assert st["rag"]["cost"] == "red"
    forecast = st["forecast"]
    assert set(FIGURES) <= set(forecast)
    assert (forecast["ev"], forecast["ac"]) == (pytest.approx(200000), pytest.approx(300000))
    assert forecast["cpi"] == pytest.approx(2 / 3)
    assert forecast["eac"] == pytest.approx(1200000)
    assert forecast["vac"] == pytest.approx(-400000)
    assert forecast["etc"] == pytest.approx(900000)
    assert st["control"]["rag_levels"]["project"]["cost"]["colour"] == "red"
    assert "cost" in st["control"]["exception"]["aspects"]

    [line] = listed(cli, "red", pid)
    assert line.split()[-1] == "red"
    assert listed(cli, "green", pid) == []
    rows = [r for r in cli.json("project", "list", "--rag", "red") if r["project_id"] == pid]
    assert [r["rag"] for r in rows] == ["red"]

    human = cli("project", "status", pid).stdout
    assert "  forecast: as of" in human and "EAC 1,200,000" in human
    assert "cost red" in human and "  exception: EX-1" in human

    earlier = refused(cli, pid, *progress(pid, "david", (TODAY - timedelta(days=1)), 310000, 62))
    assert earlier.stderr.startswith("error: ")
    assert "ok:" in cli("audit", "verify", "--project", pid).stdout


def test_the_board_approves_an_exception_plan_which_becomes_the_baseline(
    cli: Cli, tmp_path: Path
) -> None:
    pid = start(cli, tmp_path)
    # On schedule (74 of 240 points on day 80 of 260) but 6% over: EAC 848,000 breaches the
    # stage's 5% (the board decides), not the project's 8% (which would go above the board).
    cli(*progress(pid, "david", TODAY, 261467, 74))
    exception = settled(cli, pid)["control"]["exception"]
    assert exception is not None and exception["level"] == "board"
    plan = tmp_path / "plan.yaml"
    new_end = PLANNED_END + timedelta(days=60)
    plan.write_text(f"planned_end: {new_end.isoformat()}\nbudget: 1300000\n", encoding="utf-8")

    not_the_board = refused(
        cli,
        pid,
        "exception",
        "decide",
        pid,
        "--as",
        "david",
        "--decision",
        "approve-plan",
        "--plan",
        plan,
    )
    assert "david" in not_the_board.stderr

    cli(
        "exception", "decide", pid, "--as", "anna", "--decision", "approve-plan", "--plan", plan,
        "--comment", "Ny budget enligt undantagsplanen",
    )  # fmt: skip
    st = settled(cli, pid)
    control = st["control"]
    assert control["exception"] is None
    assert control["baseline_version"] == 2
    assert float(control["baseline"]["budget"]) == 1300000
    assert control["baseline"]["planned_end"] == new_end.isoformat()
    again = refused(cli, pid, "exception", "decide", pid, "--as", "anna", "--decision", "close")
    assert again.stderr.startswith("error: ")


def test_a_minor_change_and_a_formal_change_decided_by_two_board_members(
    cli: Cli, tmp_path: Path
) -> None:
    pid = start(cli, tmp_path)
    # A gate is open while the formal change is decided: one mechanism, two decisions.
    doc = tmp_path / "ide.md"
    doc.write_text("# Ny CRM\n", encoding="utf-8")
    cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", doc)
    cli("gate", "request", pid, "--as", "david")

    # 10,000 SEK and three days: inside the manager's 2% and P5D, and the 5% change budget.
    minor = cli(
        "change", "request", pid, "--as", "david", "--title", "Exportera till Excel",
        "--cost-impact", "10000", "--time-impact", "P3D", "--reason", "Säljarna vill ha det",
    ).stdout  # fmt: skip
    assert minor.startswith("CR-1: minor, "), minor

    # 100,000 SEK is 12.5% of the budget: formal, for the board (majority, the owner required).
    formal = cli(
        "change", "request", pid, "--as", "david", "--title", "Integration med ekonomisystemet",
        "--cost-impact", "100000", "--time-impact", "P2W", "--scope-impact", "10",
    ).stdout  # fmt: skip
    assert formal.startswith("CR-2: formal, "), formal
    assert "awaiting" in formal

    st = settled(cli, pid)
    assert st["gate"] is not None
    assert {(d["kind"], d["id"]) for d in st["decisions"]} >= {("change", "CR-2")}
    assert any(d["kind"] == "gate" for d in st["decisions"])

    changes = cli.json("change", "list", pid)
    assert [(c["id"], c["classification"]) for c in changes] == [
        ("CR-1", "minor"),
        ("CR-2", "formal"),
    ]
    assert changes[1]["decision"] is not None

    unknown = refused(
        cli, pid, "change", "decide", pid, "CR-9", "--as", "anna", "--decision", "approve"
    )
    assert "CR-9" in unknown.stderr
    not_on_the_board = refused(
        cli, pid, "change", "decide", pid, "CR-2", "--as", "erik", "--decision", "approve"
    )
    assert "erik" in not_on_the_board.stderr

    first = cli("change", "decide", pid, "CR-2", "--as", "anna", "--decision", "approve").stdout
    assert first.startswith("CR-2: formal, ") and "awaiting" in first
    twice = refused(
        cli, pid, "change", "decide", pid, "CR-2", "--as", "anna", "--decision", "approve"
    )
    assert twice.stderr.startswith("error: ")
    cli("change", "decide", pid, "CR-2", "--as", "bo", "--decision", "approve", "--comment", "Ja")

    st = settled(cli, pid)
    [cr2] = [c for c in st["control"]["changes"] if c["id"] == "CR-2"]
    assert cr2["state"] == "approved" and cr2["decision"] is None
    assert st["control"]["baseline_version"] >= 2  # an approved formal change re-baselines
    assert float(st["control"]["baseline"]["budget"]) == 900000
    assert st["gate"] is not None  # the gate is still open, its own decision untouched
    listing = cli("change", "list", pid).stdout
    assert "CR-1: minor" in listing and "CR-2: formal, approved" in listing
    assert "ok:" in cli("audit", "verify", "--project", pid).stdout
