"""`progress`, `change ...` and `exception decide` over the REST API (``PHASEGATE_API_URL``
and ``PHASEGATE_TOKEN`` set): two PRINCE2 projects under way (examples/prince2-under-way.yaml),
the same commands given locally (``--as``) on one and over the API (the token's person) on the
other, print the same (the project id and the times aside); on one project, what both modes
read is the same, refusals come back as the local mode prints them, and ``--as`` naming
another person is refused before anything is sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from api_support import RemoteCli, eventually

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver

UNDER_WAY = Path(__file__).parents[2] / "examples" / "prince2-under-way.yaml"
PROGRESS = (
    "--as-of",
    "2026-11-27",
    "--actual-cost",
    "312000",
    "--earned-scope",
    "58",
    "--risk",
    "Bank file format changes:0.4:50000",
    "--comment",
    "Parallel runs cost more than planned",
)
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)?")


def start(cli: Cli, folder: Path) -> str:
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = folder / f"{pid}.yaml"
    charter.write_text(
        UNDER_WAY.read_text(encoding="utf-8").replace("id: payroll-cutover", f"id: {pid}"),
        encoding="utf-8",
    )
    assert cli("project", "start", charter, "--as", "dev").stdout.strip() == pid
    return pid


def same(local: str, local_pid: str, over: str, api_pid: str) -> None:
    """The two outputs are the same, each project's id and every time aside."""

    def plain(text: str, pid: str) -> str:
        return TIME.sub("<time>", text.replace(pid, "<pid>"))

    assert plain(over, api_pid) == plain(local, local_pid)


def test_progress_changes_and_the_exception_print_what_the_local_mode_prints(
    remote: Callable[..., RemoteCli], setup_cli: Cli, tmp_path: Path, ledger: Ledger
) -> None:
    here, there = start(setup_cli, tmp_path), start(setup_cli, tmp_path)
    dev, ada, ben = remote("dev"), remote("ada"), remote("ben")

    # A usage error is the local mode's, and nothing is sent.
    bad = ("--as-of", "2026-02-30", "--actual-cost", "1", "--earned-scope", "1")
    refused = dev("progress", there, *bad, code=2)
    assert refused.stderr == setup_cli("progress", here, "--as", "dev", *bad, code=2).stderr
    assert refused.stderr.startswith("error: --as-of 2026-02-30: not a date")
    # --as another person: refused before anything is sent.
    before = ledger.last_seq(there)
    other = dev("progress", there, "--as", "ada", *PROGRESS, code=2)
    assert other.stderr.startswith("error: --as ada: over the API you act as dev")
    assert ledger.last_seq(there) == before

    # A progress report beyond the stage tolerance: the exception is raised.
    local = setup_cli("progress", here, "--as", "dev", *PROGRESS)
    over = dev("progress", there, "--as", "dev", *PROGRESS)  # --as the token's person: the same
    same(local.stdout, here, over.stdout, there)
    assert "exception: EX-1" in over.stdout and "progress report 1" in over.stdout
    for command in (("project", "status"), ("change", "list"), ("exception", "show")):
        for extra in ((), ("--json",)):
            args = (*command, there, *extra)
            assert ben(*args).stdout == setup_cli(*args).stdout, args

    # The exception: another's refusal as locally; the executive's plan.
    plan = tmp_path / "plan.yaml"
    plan.write_text("budget: 1100000\n", encoding="utf-8")
    decide = ("exception", "decide", "--decision", "approve-plan", "--plan", str(plan))
    no = ben(*decide[:2], there, *decide[2:], code=1)
    local_no = setup_cli(*decide[:2], here, *decide[2:], "--as", "ben", code=1)
    same(local_no.stderr, here, no.stderr, there)
    assert no.stderr.startswith('error: "ben" may not decide exception EX-1')
    widen = ("--decision", "widen", "--tolerance", "cost=8%", "--comment", "worth it")
    local = setup_cli("exception", "decide", here, "--as", "ada", *widen)
    over = ada("exception", "decide", there, *widen)
    same(local.stdout, here, over.stdout, there)
    assert "exception:" not in over.stdout
    assert ben("exception", "show", there).stdout == f"{there}: no open exception\n"
    assert ben("exception", "show", there, "--json").stdout == '{\n  "exception": null\n}\n'
    assert (
        ben("exception", "decide", there, *widen, code=1).stderr
        == setup_cli("exception", "decide", there, "--as", "ben", *widen, code=1).stderr
    )

    # Changes: a minor one decided at once, a formal one by the executive's vote.
    minor = ("--title", "Extra payslip field", "--cost-impact", "8000", "--time-impact", "P2D")
    formal = (
        *("--title", "Second bank connection", "--cost-impact", "60000"),
        *("--time-impact", "P2W", "--scope-impact", "10", "--reason", "Split file formats"),
    )
    for args in (minor, formal):
        local = setup_cli("change", "request", here, "--as", "dev", *args)
        over = dev("change", "request", there, *args)
        same(local.stdout, here, over.stdout, there)
    assert over.stdout.startswith("CR-2: formal, assessed: Second bank connection")
    assert dev("change", "request", there, *minor, "--json").stdout.startswith('{\n  "id": "CR-3"')
    setup_cli("change", "request", here, "--as", "dev", *minor)
    vote = ("--decision", "approve", "--comment", "Needed")
    local_no = setup_cli("change", "decide", here, "CR-2", "--as", "dev", *vote, code=1)
    same(local_no.stderr, here, dev("change", "decide", there, "cr-2", *vote, code=1).stderr, there)
    local = setup_cli("change", "decide", here, "CR-2", "--as", "ada", *vote)
    over = ada("change", "decide", there, "CR-2", *vote)
    same(local.stdout, here, over.stdout, there)
    assert "approved" in over.stdout
    again = ada("change", "decide", there, "CR-2", *vote, code=1)
    assert again.stderr == "error: change CR-2 is not open for a decision: it is approved\n"
    assert (
        ada("change", "decide", there, "CR-x", *vote, code=2).stderr
        == setup_cli("change", "decide", there, "CR-x", "--as", "ada", *vote, code=2).stderr
    )
    for args in (
        ("change", "show", there, "cr-2"),
        ("change", "show", there, "CR-1", "--json"),
    ):
        assert ben(*args).stdout == setup_cli(*args).stdout, args
    assert ben("change", "show", there, "CR-2").stdout.startswith("CR-2: formal, approved: ")
    for args, code in ((("change", "show", there, "CR-9"), 1), (("change", "show", there, "X"), 2)):
        assert ben(*args, code=code).stderr == setup_cli(*args, code=code).stderr, args
    assert ben("change", "show", there, "CR-9", code=1).stderr == (
        f"error: project {there} has no change CR-9\n"
    )
    for extra in ((), ("--json",)):
        args = ("change", "list", there, *extra)
        assert ben(*args).stdout == setup_cli(*args).stdout, args
    same(setup_cli("change", "list", here).stdout, here, ben("change", "list", there).stdout, there)

    # The reports the progress report issued (a highlight and an exception report), as the
    # ledger holds them: the same whichever way they are read.
    listed = eventually(
        lambda: setup_cli("report", there, "--list").stdout, lambda out: out.count("\n") >= 2
    )
    assert ben("report", there, "--list").stdout == listed
    for command in (
        ("report", there),
        ("report", there, "--list", "--format", "json"),
        ("report", there, "--list", "--kind", "exception"),
        ("report", there, "--kind", "exception"),
        ("report", there, "--kind", "exception", "--number", "1", "--format", "json"),
        ("report", there, "--kind", "highlight", "--number", "1"),
    ):
        assert ben(*command).stdout == setup_cli(*command).stdout, command
    assert ben("report", there).stdout.startswith("# ")
    for command, code in (
        (("report", there, "--number", "1"), 2),  # both kinds have a #1
        (("report", there, "--kind", "exception", "--number", "9"), 1),
        (("report", there, "--list", "--number", "1"), 2),
    ):
        over = ben(*command, code=code)
        assert over.stderr == setup_cli(*command, code=code).stderr, command
        assert over.stderr.startswith("error: ") and over.stdout == ""

    # --for: a vote as a delegator's substitute, recorded as the token's person for them.
    window = ("--to", "ben", "--from", "2026-11-01", "--until", "2099-03-05")
    ada("delegate", there, *window)
    dev("change", "request", there, *formal)
    voted = ben("change", "decide", there, "CR-4", "--for", "ada", "--decision", "approve")
    assert voted.stdout.startswith("CR-4: formal, approved: ")
    cast = eventually(
        lambda: [e for e in ledger.events(there) if e.kind == "vote_cast"][-1:],
        lambda found: bool(found) and found[0].payload.get("on_behalf_of") == "ada",
    )
    assert [(e.actor, e.payload["on_behalf_of"]) for e in cast] == [("ben", "ada")]
