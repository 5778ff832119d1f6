"""The project commands of the CLI against the real dev server and a worker process."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phasegate.cli import app
from phasegate.devserver import DevServer
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver
EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"


def test_a_project_through_its_first_gate_from_the_cli(
    dev_server: DevServer, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    worker_process.start()
    ledger_url = worker_process.args[worker_process.args.index("--ledger-url") + 1]
    tq = worker_process.args[-1]
    pid = f"cli-{uuid.uuid4().hex[:6]}"
    charter = tmp_path / "charter.yaml"
    charter.write_text(EXAMPLE.read_text().replace("id: new-crm", f"id: {pid}"))
    env = {
        "PHASEGATE_ADDRESS": dev_server.address,
        "PHASEGATE_LEDGER_URL": ledger_url,
        "PHASEGATE_TASK_QUEUE": tq,
        "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
    }
    runner = CliRunner(env=env)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output, result.stderr)
        return result.stdout

    assert run("project", "start", str(charter)).strip() == pid
    again = runner.invoke(app, ["project", "start", str(charter)])
    assert again.exit_code == 1 and f"project {pid} already exists" in again.stderr

    missing = runner.invoke(app, ["gate", "request", pid, "--as", "david"])
    assert missing.exit_code == 1 and "missing: Idébeskrivning" in missing.stderr
    idea = tmp_path / "ide.md"
    idea.write_text("# Nytt CRM-system\n", encoding="utf-8")
    run("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--file", str(idea))
    out = run("gate", "request", pid, "--as", "david")
    assert "idea_gate" in out and "awaiting: anna, bo" in out
    inbox = run("tasks", "--assignee", "anna", "--project", pid, "--json")
    assert sorted(t["title"] for t in json.loads(inbox)) == [
        "Bedöm idébeskrivningen",
        "Decide gate: Beslutspunkt 1: starta förstudie (round 1)",
    ]

    run("gate", "decide", pid, "--as", "bo", "--decision", "approve", "--comment", "fine")
    refused = runner.invoke(app, ["gate", "decide", pid, "--as", "bo", "--decision", "approve"])
    assert refused.exit_code == 1
    assert '"bo" has already decided gate idea_gate' in refused.stderr
    wrong = runner.invoke(app, ["gate", "decide", pid, "--as", "erik", "--decision", "approve"])
    assert wrong.exit_code == 1 and "may not decide gate idea_gate" in wrong.stderr

    status = json.loads(run("project", "status", pid, "--json"))
    assert status["gate"]["awaited"] == ["anna"]
    assert [v["actor"] for v in status["gate"]["votes"]] == ["bo"]

    run("hold", pid, "--as", "anna", "--comment", "budget review")
    held = runner.invoke(app, ["gate", "decide", pid, "--as", "anna", "--decision", "approve"])
    assert held.exit_code == 1 and "on hold" in held.stderr
    run("resume", pid, "--as", "anna")
    out = run("gate", "decide", pid, "--as", "anna", "--decision", "approve")
    assert out.startswith("gate passed: pre_study started\n")  # the deciding vote says so
    assert "state:  pre_study" in out

    jsonl = [json.loads(line) for line in run("audit", "export", "--project", pid).splitlines()]
    kinds = [e["kind"] for e in jsonl]
    assert kinds == [
        "project_started",
        "phase_started",
        "deliverable_submitted",
        "gate_opened",
        "vote_cast",
        "held",
        "resumed",
        "vote_cast",
        "gate_passed",
        "phase_started",
    ]
    rows = list(
        csv.DictReader(io.StringIO(run("audit", "export", "--project", pid, "--format", "csv")))
    )
    assert [r["kind"] for r in rows] == kinds
    assert "ok: 10 events" in run("audit", "verify", "--project", pid)

    # Someone edits the record behind the ledger's back: verify names the event.
    db = ledger_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE audit_events SET actor = 'mallory' WHERE project_id = ? AND seq = 5", (pid,)
        )
    broken = runner.invoke(app, ["audit", "verify", "--project", pid])
    assert broken.exit_code == 1
    assert f"broken: project {pid} at seq 5" in broken.stdout

    unknown = runner.invoke(app, ["project", "status", "no-such-project"])
    assert unknown.exit_code == 1 and "no project no-such-project" in unknown.stderr


def test_a_review_task_is_completed_from_the_cli_by_its_id(
    dev_server: DevServer, worker_process: WorkerProcess, tmp_path: Path
) -> None:
    worker_process.start()
    pid = f"cli-{uuid.uuid4().hex[:6]}"
    charter = tmp_path / "charter.yaml"
    charter.write_text(EXAMPLE.read_text().replace("id: new-crm", f"id: {pid}"))
    runner = CliRunner(
        env={
            "PHASEGATE_ADDRESS": dev_server.address,
            "PHASEGATE_LEDGER_URL": worker_process.ledger_url,
            "PHASEGATE_TASK_QUEUE": worker_process.task_queue,
            "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
        }
    )

    def run(*args: str, code: int = 0) -> tuple[str, str]:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output, result.stderr)
        return result.stdout, result.stderr

    run("project", "start", str(charter))
    run("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--url", "https://x.se/i")
    run("gate", "request", pid, "--as", "david")
    inbox, _ = run("tasks", "--assignee", "anna", "--project", pid)
    rows = [line.split("\t") for line in inbox.splitlines()]
    assert [(r[1:4], r[5]) for r in rows] == [
        ([pid, "anna", "open"], "Bedöm idébeskrivningen"),
        ([pid, "anna", "open"], "Decide gate: Beslutspunkt 1: starta förstudie (round 1)"),
    ]
    review, decide = rows[0][0], rows[1][0]
    listed = json.loads(run("tasks", "--assignee", "anna", "--project", pid, "--json")[0])
    assert [str(t["id"]) for t in listed] == [review, decide]  # the same ids in JSON

    _, err = run("tasks", "complete", review, "--as", "bo", code=1)
    assert err.startswith(
        f'error: "bo" may not complete task "Bedöm idébeskrivningen" (task {review}): only'
    )
    _, err = run("tasks", "complete", decide, "--as", "anna", code=1)
    assert "vote with `phasegate gate decide`" in err
    # Named as the person named it: by its id and title, not by its key in the project.
    title = "Decide gate: Beslutspunkt 1: starta förstudie (round 1)"
    assert err.startswith(f'error: task {decide} ("{title}") is a decision') and "/" not in err
    _, err = run("tasks", "complete", "999999", "--as", "anna", code=1)
    assert err.startswith("error: no task 999999 in the ledger (`phasegate tasks` lists")

    _, err = run("tasks", "--assignee", "anna", "complete", review, "--as", "anna", code=2)
    assert err.startswith("error: --assignee: for the listing (`phasegate tasks`), not for")
    out, _ = run("tasks", "complete", review, "--as", "anna", "--comment", "läst")
    assert out == f"done: Bedöm idébeskrivningen ({pid}, task {review})\n"
    _, err = run("tasks", "complete", review, "--as", "anna", code=1)
    assert f'("Bedöm idébeskrivningen", {pid}) is already done' in err

    inbox, _ = run("tasks", "--assignee", "anna", "--project", pid)
    assert [line.split("\t")[0] for line in inbox.splitlines()] == [decide]
    done, _ = run("tasks", "--project", pid, "--status", "done")
    assert done.startswith(f"{review}\t{pid}\tanna\tdone\tdue ")
    timeline, _ = run("project", "history", pid)
    _, who, role, what = timeline.splitlines()[-1].split(maxsplit=3)
    assert (who, role, what) == (
        "anna",
        "(bestallare)",
        "completed task: Bedöm idébeskrivningen: läst",
    )
    assert "ok: 5 events" in run("audit", "verify", "--project", pid)[0]
