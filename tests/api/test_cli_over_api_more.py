"""`deliverable ...`, `report`, `delegate`/`delegation ...`, `calendar export` and `iteration
...` over the REST API (``PHASEGATE_API_URL`` and ``PHASEGATE_TOKEN`` set), on projects of the
example charter: the same command given locally (``--as``) and over the API (the token's
person) prints the same (each project's id and the times aside, where two projects are
compared); refusals come back as the local mode prints them, and ``--as`` naming another
person is refused before anything is sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from api_support import EXAMPLE, RemoteCli, eventually, new_project

import governance as g
from ledger import Ledger
from phasegate.cli import app
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)?")


def same(local: str, local_pid: str, over: str, api_pid: str) -> None:
    """The two outputs are the same, each project's id and every time aside."""

    def plain(text: str, pid: str) -> str:
        return TIME.sub("<time>", text.replace(pid, "<pid>"))

    assert plain(over, api_pid) == plain(local, local_pid)


def test_deliverables_over_the_api_print_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path, ledger: Ledger
) -> None:
    here, there = new_project(setup_cli, tmp_path), new_project(setup_cli, tmp_path)
    david = remote("david")
    paper = tmp_path / "idea.md"
    paper.write_text("# The idea\n", encoding="utf-8")
    submit = ("deliverable", "submit")
    args = ("Idébeskrivning", "--file", str(paper), "--comment", "second draft")
    local = setup_cli(*submit, here, *args, "--as", "david")
    over = david(*submit, there, *args)
    same(local.stdout, here, over.stdout, there)
    assert "Idébeskrivning: version 2 of 2, sha256 " in over.stdout
    url = ("Idébeskrivning", "--url", "https://docs.example.org/idea", "--json")
    same(
        setup_cli(*submit, here, *url, "--as", "david").stdout,
        here,
        david(*submit, there, *url, "--as", "david").stdout,  # --as the token's person
        there,
    )
    for extra in ((), ("--json",)):
        command = ("deliverable", "list", there, *extra)
        assert remote("anna")(*command).stdout == setup_cli(*command).stdout, command

    before = ledger.last_seq(there)
    other = david(*submit, there, *args, "--as", "anna", code=2)
    assert other.stderr.startswith("error: --as anna: over the API you act as david")
    missing = ("Idébeskrivning", "--file", str(tmp_path / "none.md"))
    assert (
        david(*submit, there, *missing, code=1).stderr
        == setup_cli(*submit, there, *missing, "--as", "david", code=1).stderr
    )
    unlisted = ("Nope", "--url", "https://docs.example.org/nope")
    refused = david(*submit, there, *unlisted, code=1)
    local_refused = setup_cli(*submit, here, *unlisted, "--as", "david", code=1)
    same(local_refused.stderr, here, refused.stderr, there)
    assert refused.stderr.startswith("error: ")
    assert ledger.last_seq(there) == before


def test_delegations_over_the_api_print_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path, ledger: Ledger
) -> None:
    here, there = new_project(setup_cli, tmp_path), new_project(setup_cli, tmp_path)
    anna, erik = remote("anna"), remote("erik")
    window = ("--to", "erik", "--from", "2026-11-01", "--until", "2099-03-05", "--reason", "away")
    local = setup_cli("delegate", here, "--as", "anna", *window)
    over = anna("delegate", there, *window)
    same(local.stdout, here, over.stdout, there)
    assert (
        over.stdout.startswith("delegation 1: erik for anna (") and "until 2099-03-0" in over.stdout
    )
    twice = anna("delegate", there, *window, "--json", code=1)  # one substitute at a time
    local_twice = setup_cli("delegate", here, "--as", "anna", *window, "--json", code=1)
    same(local_twice.stderr, here, twice.stderr, there)
    assert "one substitute at a time" in twice.stderr
    for extra in ((), ("--json",)):
        command = ("delegation", "list", there, *extra)
        assert erik(*command).stdout == setup_cli(*command).stdout, command

    before = ledger.last_seq(there)
    other = anna("delegate", there, *window, "--as", "bo", code=2)
    assert other.stderr.startswith("error: --as bo: over the API you act as anna")
    assert anna("delegation", "revoke", there, "1", "--as", "erik", code=2).stderr.startswith(
        "error: --as erik: over the API you act as anna"
    )
    bad = ("--to", "erik", "--from", "2026-11-01", "--until", "someday")
    assert (
        anna("delegate", there, *bad, code=2).stderr
        == setup_cli("delegate", there, "--as", "anna", *bad, code=2).stderr
    )
    self_ = ("--to", "anna", "--from", "2026-11-01", "--until", "2099-03-05")
    refused = anna("delegate", there, *self_, code=1)
    same(
        setup_cli("delegate", here, "--as", "anna", *self_, code=1).stderr,
        here,
        refused.stderr,
        there,
    )
    assert ledger.last_seq(there) == before

    # Revoked by the substitute, as locally; then nothing is left to revoke.
    assert erik("delegation", "revoke", there, "1", "--comment", "back").stdout == (
        "delegation 1 revoked\n"
    )
    setup_cli("delegation", "revoke", here, "1", "--as", "erik", "--comment", "back")
    gone = erik("delegation", "revoke", there, "1", code=1)
    same(
        setup_cli("delegation", "revoke", here, "1", "--as", "erik", code=1).stderr,
        here,
        gone.stderr,
        there,
    )
    assert erik("delegation", "list", there).stdout == setup_cli("delegation", "list", there).stdout


def test_calendar_export_over_the_api_is_the_local_feed(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path
) -> None:
    pid = new_project(setup_cli, tmp_path)
    remote("david")("gate", "request", pid)  # a decision with a deadline: events
    anna = remote("anna")
    stamp = re.compile(r"^DTSTAMP:.*$", re.MULTILINE)
    for command in (
        ("calendar", "export", "--project", pid),
        ("calendar", "export", "--person", "anna", "--project", pid),
    ):
        over, local = anna(*command).stdout, setup_cli(*command).stdout
        assert stamp.sub("DTSTAMP", over) == stamp.sub("DTSTAMP", local), command
        assert "BEGIN:VEVENT" in over
    local_file, api_file = tmp_path / "local.ics", tmp_path / "api.ics"
    command = ("calendar", "export", "--project", pid, "-o")
    written = setup_cli(*command, str(local_file)).stderr
    assert anna(*command, str(api_file)).stderr == written.replace("local.ics", "api.ics")
    assert written.endswith(f"events written to {local_file}\n")
    stamp_bytes = re.compile(rb"^DTSTAMP:.*$", re.MULTILINE)
    assert stamp_bytes.sub(b"", api_file.read_bytes()) == stamp_bytes.sub(
        b"", local_file.read_bytes()
    )
    assert b"\r\n" in api_file.read_bytes()
    refused = anna("calendar", "export", "--person", "bo", code=1)
    assert refused.stderr == "error: only the person themself or the PMO reads their calendar\n"
    assert (
        anna("calendar", "export", code=2).stderr == setup_cli("calendar", "export", code=2).stderr
    )


ITEMS = """\
- {id: CRM-1, title: Importera kunder, owner: erik, estimate: 2, points: 3}
- {id: CRM-2, title: Säljtratt i vyn, owner: cecilia, estimate: 1.5, points: 2}
"""
LEFT = re.compile(r"\(\d+\.\d days left\)|\"days_left\": [0-9.e-]+")
"""The days left: they pass between two commands."""


def iterative_model() -> g.GovernanceModel:
    """Projektflödet from its execution phase on, as the published model cliflow@1.0."""
    builtin = g.builtin_model("projektflodet@1.0")
    assert builtin is not None
    data = builtin.model_dump(mode="json", exclude_none=True)
    data["name"], data["version"] = "cliflow", "1.0"
    data["phases"] = [p for p in data["phases"] if p["id"] not in ("idea", "pre_study", "planning")]
    return g.parse_model(data, "cliflow")


def test_an_iteration_over_the_api_prints_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path, ledger: Ledger
) -> None:
    ledger.publish_model(iterative_model(), "tests")
    pids = []
    for _ in range(2):
        pid = f"it-{uuid.uuid4().hex[:8]}"
        charter = tmp_path / f"{pid}.yaml"
        charter.write_text(
            EXAMPLE.read_text(encoding="utf-8")
            .replace("id: new-crm", f"id: {pid}")
            .replace("model: projektflodet@1.0", "model: cliflow@1.0"),
            encoding="utf-8",
        )
        setup_cli("project", "start", charter, "--as", "david")
        pids.append(pid)
    here, there = pids
    for pid in pids:
        eventually(
            lambda pid=pid: setup_cli.runner.invoke(app, ["iteration", "status", pid]).exit_code,
            lambda code: code == 0,
        )
    items, more = tmp_path / "items.yaml", tmp_path / "more.yaml"
    items.write_text(ITEMS, encoding="utf-8")
    more.write_text("- {id: CRM-4, title: Export, owner: erik, estimate: 0.5, points: 1}\n")

    def both(person: str, *command: str, code: int = 0) -> str:
        """``command`` locally on one project and over the API on the other: the same."""
        group, step, *args = command
        local = setup_cli(group, step, here, *args, "--as", person, code=code)
        over = remote(person)(group, step, there, *args, code=code)
        same(LEFT.sub("", local.stdout), here, LEFT.sub("", over.stdout), there)
        same(local.stderr, here, over.stderr, there)
        return over.stdout + over.stderr

    plan = ("iteration", "plan", "--file", str(items), "--length", "P3W", "--goal", "Kunder")
    assert '"bo"' in both("bo", *plan, code=1)
    assert "outside P2W..P6W" in both("erik", *plan[:4], "--length", "P1W", code=1)
    assert "step executing" in both("erik", *plan)
    both("cecilia", "iteration", "done", "CRM-2")
    assert "CRM-9" in both("erik", "iteration", "done", "CRM-9", code=1)
    both("erik", "iteration", "add", "--file", str(more), "--comment", "Behövs")
    both("erik", "iteration", "done", "CRM-1", "CRM-4", "--json")
    both("erik", "iteration", "close", "--comment", "Klart tidigt")
    both("erik", "iteration", "demo", "--attendee", "anna", "--feedback", "bo: Importen fungerar")
    assert "mottagare" in both("erik", "iteration", "deliver", "--decision", "deliver", code=1)
    both("bo", "iteration", "deliver", "--decision", "deliver", "--comment", "Ut")
    both("erik", "iteration", "retro", "--keep", "Par", "--obstacle", "leverantor: Test")
    for extra in ((), ("--json",)):
        command = ("iteration", "status", there, *extra)
        over, local = remote("anna")(*command).stdout, setup_cli(*command).stdout
        assert LEFT.sub("", over) == LEFT.sub("", local), command
    other = remote("erik")("iteration", "close", there, "--as", "bo", code=2)
    assert other.stderr.startswith("error: --as bo: over the API you act as erik")
