"""The CLI over the REST API (``PHASEGATE_API_URL`` and ``PHASEGATE_TOKEN`` set): the real app
served by uvicorn on a free port (a thread) against the folder's dev server, worker and
ledger; the CLI in-process with no Temporal address, ledger or data dir of its own. What it
prints is what the local mode prints on the same server; the actor is the token's person, and
``--as`` naming anyone else is refused before anything is sent."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_support import EXAMPLE, PMO, Api, RemoteCli, eventually, free_port, new_project

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path) -> str:
    """A new project whose first gate's deliverable is submitted."""
    return new_project(setup_cli, tmp_path)


def votes(ledger: Ledger, pid: str) -> list[str | None]:
    return [e.actor for e in ledger.events(pid) if e.kind == "vote_cast"]


def test_status_history_and_tasks_print_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, pid: str
) -> None:
    requested = remote("david")("gate", "request", pid)
    assert setup_cli("project", "status", pid).stdout == requested.stdout
    assert "awaiting: anna, bo" in requested.stdout
    anna = remote("anna")
    for command in (
        ("project", "status", pid),
        ("project", "status", pid, "--json"),
        ("project", "history", pid),
        ("project", "history", pid, "--json"),
        ("tasks", "--assignee", "anna", "--project", pid),
        ("tasks", "--assignee", "anna", "--project", pid, "--status", "all", "--json"),
    ):
        assert anna(*command).stdout == setup_cli(*command).stdout, command
    assert "Decide gate" in anna("tasks", "--project", pid).stdout  # her own, by default


def test_project_list_prints_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, pid: str
) -> None:
    """The PMO sees every project, as the local mode lists them (same filters)."""
    pmo = remote(PMO)
    for command in (
        ("project", "list"),
        ("project", "list", "--json"),
        ("project", "list", "--phase", "idea", "--state", "open"),
    ):
        local, over = eventually(
            lambda command=command: (setup_cli(*command).stdout, pmo(*command).stdout),
            lambda pair: pair[0] == pair[1],
        )
        assert over == local, command
    assert pid in pmo("project", "list").stdout
    mine = remote("olle")("project", "list")  # in no charter: sees none
    assert mine.stdout == "no projects\n"


def test_a_decision_over_the_api_is_the_tokens_persons(
    remote: Callable[..., RemoteCli], pid: str, ledger: Ledger
) -> None:
    remote("david")("gate", "request", pid, "--comment", "ready")
    remote("bo")("gate", "decide", pid, "--as", "bo", "--decision", "approve")  # --as: the same
    last = remote("anna")("gate", "decide", pid, "--decision", "approve")
    assert last.stdout.startswith("gate passed: pre_study started\n")
    assert votes(ledger, pid) == ["bo", "anna"]


def test_a_vote_for_a_delegator_over_the_api_is_the_substitutes(
    remote: Callable[..., RemoteCli], pid: str, ledger: Ledger, as_: dict[str, Api]
) -> None:
    now = datetime.now(UTC)
    delegated = as_["anna"].post(
        f"/api/projects/{pid}/delegations",
        {
            "to": "erik",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=2)).isoformat(),
        },
    )
    assert delegated.status_code == 200, delegated.text
    remote("david")("gate", "request", pid)
    refused = remote("bo")("gate", "decide", pid, "--for", "anna", "--decision", "approve", code=1)
    assert "anna" in refused.stderr and votes(ledger, pid) == []
    voted = remote("erik")("gate", "decide", pid, "--for", "anna", "--decision", "approve")
    assert "anna: approve" in voted.stdout
    cast = eventually(lambda: [e for e in ledger.events(pid) if e.kind == "vote_cast"], bool)
    assert [(e.actor, e.payload["on_behalf_of"]) for e in cast] == [("erik", "anna")]


def test_as_another_person_is_refused_and_nothing_is_recorded(
    remote: Callable[..., RemoteCli], pid: str, ledger: Ledger, tokens: dict[str, str]
) -> None:
    remote("david")("gate", "request", pid)
    before = ledger.last_seq(pid)
    anna = remote("anna")
    refused = anna("gate", "decide", pid, "--as", "bo", "--decision", "approve", code=2)
    assert refused.stderr.startswith(
        "error: --as bo: over the API you act as anna, the person of PHASEGATE_TOKEN"
    )
    assert "(nothing was sent)" in refused.stderr
    anna("hold", pid, "--as", "bo", "--comment", "stop", code=2)
    anna("gate", "request", pid, "--as", "david", code=2)
    task_id = anna("tasks", "--project", pid, "--json").stdout.split('"id": ')[1].split(",")[0]
    remote("bo")("tasks", "complete", task_id, "--as", "anna", code=2)
    assert ledger.last_seq(pid) == before
    assert votes(ledger, pid) == []
    assert '"votes": []' in anna("project", "status", pid, "--json").stdout


def test_a_refusal_reaches_the_cli_as_the_local_mode_prints_it(
    remote: Callable[..., RemoteCli], setup_cli: Cli, pid: str
) -> None:
    remote("david")("gate", "request", pid)
    bo = remote("bo")
    bo("gate", "decide", pid, "--decision", "approve")
    again = bo("gate", "decide", pid, "--decision", "approve", code=1)
    local = setup_cli("gate", "decide", pid, "--as", "bo", "--decision", "approve", code=1)
    assert again.stderr == local.stderr
    assert again.stderr.startswith('error: "bo" has already decided gate idea_gate')
    assert (
        bo("project", "status", "nope-" + pid, code=1).stderr == f"error: no project nope-{pid}\n"
    )
    # The executive's board action goes through; erik holds no board role.
    assert remote("erik")("hold", pid, "--comment", "x", code=1).stderr.startswith("error: ")


def test_tasks_complete_and_audit_verify_over_the_api(
    remote: Callable[..., RemoteCli], setup_cli: Cli, pid: str
) -> None:
    remote("david")("gate", "request", pid)
    anna = remote("anna")
    review = [
        line.split("\t")
        for line in anna("tasks", "--project", pid).stdout.splitlines()
        if not line.endswith("(round 1)")
    ]
    assert len(review) == 1
    task_id, title = review[0][0], review[0][-1]
    done = anna("tasks", "complete", task_id, "--comment", "read")
    assert done.stdout == f"done: {title} ({pid}, task {task_id})\n"
    status = anna("tasks", "--project", pid, "--status", "done").stdout
    assert status.startswith(f"{task_id}\t{pid}\tanna\tdone\t")
    verified = anna("audit", "verify", "--project", pid)
    assert verified.stdout == setup_cli("audit", "verify", "--project", pid).stdout
    assert verified.stdout.startswith("ok: ")
    everything = anna("audit", "verify", code=1)  # every project: the PMO's
    assert everything.stderr == ("error: only the PMO verifies every project: give `project`\n")


def test_audit_export_over_the_api_is_the_local_export(
    remote: Callable[..., RemoteCli], setup_cli: Cli, pid: str, tmp_path: Path
) -> None:
    remote("david")("gate", "request", pid, "--comment", "=cmd|' /C calc'!A0")  # a formula
    anna = remote("anna")
    for fmt in ("jsonl", "csv"):
        command = ("audit", "export", "--project", pid, "--format", fmt)
        over = anna(*command)
        assert over.stdout == setup_cli(*command).stdout and over.stdout
        local_file, api_file = tmp_path / f"local.{fmt}", tmp_path / f"api.{fmt}"
        written = setup_cli(*command, "-o", str(local_file)).stderr
        assert anna(*command, "-o", str(api_file)).stderr == written.replace("local.", "api.")
        assert api_file.read_bytes() == local_file.read_bytes()
    assert "'=cmd|" in anna("audit", "export", "--project", pid, "--format", "csv").stdout
    refused = anna("audit", "export", "-o", str(tmp_path / "all.jsonl"), code=1)  # the PMO's
    assert refused.stderr == "error: only the PMO exports every project: give `project`\n"
    assert not list(tmp_path.glob("*all.jsonl*"))  # nothing left behind
    assert anna("audit", "export", "-o", str(tmp_path), code=2).stderr.startswith(
        f"error: --output {tmp_path} is a directory"
    )


def test_project_start_over_the_api_starts_it_as_the_tokens_person(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path, ledger: Ledger
) -> None:
    pid = f"cli-{uuid.uuid4().hex[:8]}"
    charter = tmp_path / "charter.yaml"
    charter.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}"), encoding="utf-8"
    )
    david = remote("david")
    refused = david("project", "start", str(charter), "--as", "anna", code=2)
    assert refused.stderr.startswith("error: --as anna: over the API you act as david")
    local_file = david("project", "start", str(charter), "--model", "./acme.yaml", code=2)
    assert "a local model file does not go over the API" in local_file.stderr
    assert ledger.last_seq(pid) == 0  # nothing started
    assert david("project", "start", str(charter)).stdout == f"{pid}\n"
    [first] = eventually(lambda: ledger.events(pid)[:1], bool)  # recorded by the worker
    assert (first.kind, first.actor) == ("project_started", "david")
    assert "projektflodet@1.0 (built-in" in david("project", "status", pid).stdout
    again = david("project", "start", str(charter), code=1)
    assert again.stderr.startswith("error: ") and pid in again.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(charter.read_text(encoding="utf-8").replace("title:", "titel:", 1))
    assert (
        david("project", "start", str(bad), code=1).stderr
        == setup_cli("project", "start", bad, code=1).stderr
    )


def test_a_wrong_or_revoked_token_is_told_so(
    remote: Callable[..., RemoteCli], pid: str, ledger: Ledger
) -> None:
    wrong = remote("anna", token="pg_000000000000_nope")("project", "status", pid, code=1)
    assert wrong.stderr.startswith("error: the API at http://127.0.0.1:")
    assert "refused the token: PHASEGATE_TOKEN is wrong, revoked or expired" in wrong.stderr
    token_id, token = ledger.create_token("bo", "revoked in a test")
    ledger.revoke_token(token_id)
    revoked = remote("bo", token=token)("gate", "decide", pid, "--decision", "approve", code=1)
    assert "refused the token" in revoked.stderr
    assert votes(ledger, pid) == []


def test_an_unreachable_api_url_is_told_so(remote: Callable[..., RemoteCli], pid: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = remote("anna", url=url)("project", "status", pid, code=1)
    assert result.stderr.startswith(f"error: the API at {url} is unreachable (")
    assert "check PHASEGATE_API_URL" in result.stderr


@pytest.mark.parametrize("odd", ["..", "../tasks", "a/b", "x?y=1", "%2e%2e", "a#b", " ", "Ab"])
def test_an_id_no_charter_has_names_no_project_as_locally(
    remote: Callable[..., RemoteCli], setup_cli: Cli, odd: str
) -> None:
    result = remote("anna")("project", "status", odd, code=1)
    assert result.stderr == setup_cli("project", "status", odd, code=1).stderr
    assert result.stderr == f"error: no project {odd}\n"
