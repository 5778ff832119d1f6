"""The project page of projects well under way: a PRINCE2 project with a progress report, a
change and an exception (earned value, RAG, control), and a projektflödet project in its
execution phase with a finished iteration (velocity, burn-up)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from web_support import Served, signed_in, start_under_way

from ledger import Ledger
from tests.api.api_support import EXAMPLE, new_project
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

ITEMS = Path(__file__).parents[2] / "examples" / "iteration-items.yaml"


def svgs(html: str) -> dict[str, ET.Element]:
    """Each inline SVG of the page by its title, parsed (so it is well-formed)."""
    out = {}
    rest = html
    while "<svg " in rest:
        start = rest.index("<svg ")
        end = rest.index("</svg>", start) + len("</svg>")
        root = ET.fromstring(rest[start:end])
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text
        out[title.text] = root
        rest = rest[end:]
    return out


def test_a_project_under_control_shows_earned_value_changes_and_its_exception(
    web: Served, web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    pid = start_under_way(web_cli, tmp_path, "Extra report", "1000", "P1D")
    ada = signed_in(web, web_ledger.create_token("ada", "web tests")[1])
    page = ada.get(f"/projects/{pid}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Baseline version 1: 2026-09-01 to 2027-06-30, 1,000,000 EUR, 200 items" in html
    assert "Extra report" in html and "minor" in html  # the change, in the table
    assert "Exception EX-1" in html and "cost" in html
    assert 'class="rag rag-red"' in html
    charts = svgs(html)
    assert set(charts) == {"Lifecycle of prince2@2.0", "Earned value"}
    ev = charts["Earned value"]
    kinds = {p.get("class") for p in ev.iter("{http://www.w3.org/2000/svg}polyline")}
    assert kinds == {"series pv", "series ev", "series ac"}
    portfolio = ada.get("/?rag=red&model=prince2@2.0").text
    assert f"/projects/{pid}" in portfolio and "exception EX-1" in portfolio


def _to_execution(cli: Cli, pid: str) -> None:
    """Pass the gates before execution: the deliverables submitted, the gate requested by
    david, approved by whoever it awaits."""
    for _ in range(20):
        st = cli.json("project", "status", pid)
        if st["state"] == "execution":
            return
        if st["gate"] is None:
            for d in st["deliverables"]:
                if not d["present"]:
                    url = f"https://docs.example.org/{pid}/{d['name'].replace(' ', '-')}"
                    cli("deliverable", "submit", pid, d["name"], "--as", "david", "--url", url)
            cli("gate", "request", pid, "--as", "david")
        else:
            who = st["gate"]["awaited"][0]
            cli("gate", "decide", pid, "--as", who, "--decision", "approve")
    raise AssertionError(f"{pid} did not reach execution")


def test_a_project_in_execution_shows_its_iterations_and_burn_up(
    web: Served, web_cli: Cli, web_tokens: dict[str, str], tmp_path: Path
) -> None:
    pid = f"web-{uuid.uuid4().hex[:8]}"
    charter = tmp_path / "charter.yaml"
    charter.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}"), "utf-8"
    )
    web_cli("project", "start", charter, "--as", "david")
    _to_execution(web_cli, pid)
    web_cli("iteration", "plan", pid, "--as", "erik", "--file", ITEMS, "--goal", "Import")
    web_cli("iteration", "done", pid, "--as", "david", "CRM-1", "CRM-2")
    web_cli("iteration", "close", pid, "--as", "erik", "--comment", "early")
    web_cli("iteration", "demo", pid, "--as", "erik", "--attendee", "bo", "--feedback", "bo: ok")
    web_cli("iteration", "deliver", pid, "--as", "bo", "--decision", "deliver")
    web_cli("iteration", "retro", pid, "--as", "erik", "--keep", "Pairing")
    anna = signed_in(web, web_tokens["anna"])
    for _ in range(50):  # the project records what the iteration returned
        html = anna.get(f"/projects/{pid}").text
        if "<caption>Velocity</caption>" in html:
            break
    assert "<caption>Velocity</caption>" in html
    burn_up = svgs(html)["Burn-up"]
    desc = burn_up.find("{http://www.w3.org/2000/svg}desc")
    assert desc is not None and desc.text is not None
    assert desc.text.startswith("5 of 240 points completed after 1 iteration(s)")
    steps = html.split('class="step ')
    assert sum(s.startswith("passed") for s in steps) == 3 and 'current" aria-current' in html


def test_a_rejected_project_shows_how_it_ended(
    web: Served, web_cli: Cli, web_ledger: Ledger, tmp_path: Path
) -> None:
    """A rejected project sits in the lifecycle's "closed" state; its page says "rejected",
    as `project status` and `project list --state` do."""
    pid = new_project(web_cli, tmp_path)
    web_cli("gate", "request", pid, "--as", "david")
    web_cli("gate", "decide", pid, "--as", "anna", "--decision", "reject", "--comment", "Nej")
    anna = signed_in(web, web_ledger.create_token("anna", "web tests")[1])
    html = anna.get(f"/projects/{pid}").text
    assert 'state <strong id="state">rejected</strong>' in html
