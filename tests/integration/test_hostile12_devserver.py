"""Hostile review of issue #12 on the real dev server: a worker killed at the ledger write of
``task_completed``; `tasks complete` and `project list` given bad or contradictory input.
Tests that fail prove a finding; the others are attacks that held up."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from governance.messages import CompleteTaskInput
from phasegate import service
from phasegate.cli import app
from phasegate.devserver import DevServer
from tests.integration.conftest import Cli, answered
from tests.integration.test_cli_portfolio import listed, rows, start
from tests.integration.test_faults import IDEA_TASKS, START, Case, request, run_case, vote
from workflows import ProjectWorkflow

pytestmark = pytest.mark.devserver
REVIEW = "idea_gate/1/task1/anna"


async def complete_review(c: Client, p: str) -> object:
    arg = service.command_input(CompleteTaskInput, actor="anna", key=REVIEW)
    return await answered(
        service.send_update(c, service.project(p), ProjectWorkflow.complete_task, arg)
    )


async def test_a_worker_killed_after_the_task_completed_commit_leaves_it_once(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """Held up: the write is retried on a healthy worker, the event is in the chain once and
    the task done; the project goes on."""
    case = Case(
        ("task_completed",),
        (request,),
        complete_review,
        vote("anna"),
        (*START, "gate_opened", "task_completed", "vote_cast"),
        IDEA_TASKS - {REVIEW, "idea_gate/1/decide/anna"},
    )
    client = await Client.connect(dev_server.address, data_converter=pydantic_data_converter)
    out = await run_case(client, dev_server, "task_completed", case, tmp_path)
    [kill] = out.kills
    assert kill.exit_code == -9 and kill.record_pending and len(kill.committed) == 1, kill
    st = out.status
    assert st is not None and st.recorded_seq == st.last_seq == len(out.chain)
    assert [str(e.kind) for e in out.chain] == list(case.chain)
    tasks = {t.key: t.status for t in out.tasks}
    assert tasks[REVIEW] == "done"
    assert {k for k, s in tasks.items() if s == "open"} == case.open_tasks


def test_task_ids_out_of_the_ledgers_range_are_a_clear_no(cli: Cli) -> None:
    """A task id beyond SQLite's INTEGER (2**63) escapes as OverflowError, a traceback; the
    CLI should say there is no such task, as it does for 0 and -1."""
    for good in ("0", "-1", str(2**63 - 1)):
        result = cli("tasks", "complete", "--as", "anna", "--", good, code=1)
        assert f"no task {good} in the ledger" in result.stderr, result.stderr
    result = cli.runner.invoke(app, ["tasks", "complete", "abc", "--as", "anna"])
    assert result.exit_code == 2 and "valid integer" in result.stderr  # typer
    huge = str(2**63)
    result = cli.runner.invoke(app, ["tasks", "complete", huge, "--as", "anna"])
    assert not isinstance(result.exception, OverflowError), repr(result.exception)
    assert result.exit_code == 1 and f"no task {huge} in the ledger" in result.stderr


def test_contradictory_list_filters_are_refused_not_silently_empty_or_dropped(
    cli: Cli, tmp_path: Path
) -> None:
    """`--held` once overwrote `--awaiting` (a held project was listed under `--awaiting
    gate:closure_gate`), and `--held --state closed` matched nothing yet exited 0: filters
    that cannot hold together are a usage error, and the rest still lists."""
    held = start(cli, tmp_path)
    cli("hold", held, "--as", "anna", "--comment", "Budgetstopp")
    listed(cli, held, lambda r: r is not None and r[4].startswith("hold"))
    for flags in (
        ["--held", "--awaiting", "gate:closure_gate"],
        ["--held", "--state", "closed"],
        ["--overdue", "--held"],
        ["--overdue", "--state", "cancelled"],
    ):
        result = cli.runner.invoke(app, ["project", "list", *flags])
        assert result.exit_code == 2 and "use one of them" in result.stderr, (flags, result)
    assert held in rows(cli, "--held", "--state", "open")
