"""Projects on the real Temporal dev server: visibility, crashes, restarts, exit codes."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import governance as g
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer
from tests.integration.conftest import (
    PHASEGATE,
    WorkerProcess,
    eventually,
    request_gate,
    settled,
)
from worker import build_worker

pytestmark = pytest.mark.devserver


def _charter(base: g.Charter, suffix: str) -> g.Charter:
    return base.model_copy(update={"id": f"{base.id}-{suffix}"})


async def test_visibility_lists_projects_by_phase_and_by_awaited_gate(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    tq = f"tq-{uuid.uuid4().hex}"
    tag = uuid.uuid4().hex[:6]
    advanced, waiting, idle = (_charter(pf_charter, f"{tag}-{n}") for n in ("a", "w", "i"))
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        async with build_worker(client, ledger, tq):
            for charter in (advanced, waiting, idle):
                await service.start_project(client, charter, projektflodet, task_queue=tq)
            await request_gate(client, advanced.id, "david")
            await service.decide_gate(client, advanced.id, "anna", "approve")
            await service.decide_gate(client, advanced.id, "bo", "approve")
            await request_gate(client, waiting.id, "david")

            def ours(rows: list[service.ProjectRow]) -> set[str]:
                return {r.project_id for r in rows} & {advanced.id, waiting.id, idle.id}

            in_pre_study = await eventually(
                lambda: service.list_projects(client, phase="pre_study"),
                lambda rows: ours(rows) == {advanced.id},
            )
            assert ours(in_pre_study) == {advanced.id}
            at_gate = await eventually(
                lambda: service.list_projects(client, awaiting="idea_gate"),
                lambda rows: ours(rows) == {waiting.id},
            )
            assert ours(at_gate) == {waiting.id}
            in_idea = await eventually(
                lambda: service.list_projects(client, phase="idea"),
                lambda rows: ours(rows) == {waiting.id, idle.id},
            )
            assert ours(in_idea) == {waiting.id, idle.id}

            # An ended project is listed by its outcome, not as a plain "closed".
            rejected = _charter(pf_charter, f"{tag}-r")
            await service.start_project(client, rejected, projektflodet, task_queue=tq)
            await request_gate(client, rejected.id, "david")
            st = await service.decide_gate(client, rejected.id, "anna", "reject", "no case")
            assert (st.state, st.outcome) == ("closed", "rejected")
            listed = await eventually(
                lambda: service.list_projects(client, phase="rejected"),
                lambda rows: rejected.id in {r.project_id for r in rows},
            )
            assert rejected.id in {r.project_id for r in listed}


async def test_worker_killed_while_gate_open_loses_no_vote_and_leaves_no_gap(
    client: Client,
    worker_process: WorkerProcess,
    tmp_path: Path,
    projektflodet: g.GovernanceModel,
    pf_charter: g.Charter,
) -> None:
    charter = _charter(pf_charter, uuid.uuid4().hex[:6])
    tq = worker_process.args[-1]
    worker_process.start()
    await service.start_project(client, charter, projektflodet, task_queue=tq)
    await request_gate(client, charter.id, "david")
    await service.decide_gate(client, charter.id, "anna", "approve", "go")

    worker_process.kill9()
    worker_process.start()

    st = await service.status(client, charter.id)
    assert st.state == "idea_gate"
    assert st.gate is not None
    assert [(v.actor, v.decision) for v in st.gate.votes] == [("anna", "approve")]
    assert st.gate.awaited == ["bo"]
    st = await service.decide_gate(client, charter.id, "bo", "approve")
    assert st.state == "pre_study"
    await settled(client, charter.id)  # the ledger follows the accepted step

    ledger_url = worker_process.args[worker_process.args.index("--ledger-url") + 1]
    with Ledger(ledger_url) as ledger:
        events = ledger.events(charter.id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert [e.kind for e in events] == [
            "project_started",
            "phase_started",
            "deliverable_submitted",
            "gate_opened",
            "vote_cast",
            "vote_cast",
            "gate_passed",
            "phase_started",
        ]
        assert ledger.verify(charter.id).ok


async def test_dev_server_restarted_on_its_database_keeps_project_state(
    tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    tq = f"tq-{uuid.uuid4().hex}"
    data = tmp_path / "data"
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        with DevServer(data, ui=False) as server:
            client = await Client.connect(server.address, data_converter=pydantic_data_converter)
            async with build_worker(client, ledger, tq):
                await service.start_project(client, pf_charter, projektflodet, task_queue=tq)
                await request_gate(client, pf_charter.id, "david")
                await service.decide_gate(client, pf_charter.id, "bo", "approve")
        with DevServer(data, ui=False) as server:
            client = await Client.connect(server.address, data_converter=pydantic_data_converter)
            async with build_worker(client, ledger, tq):
                st = await service.status(client, pf_charter.id)
                assert st.state == "idea_gate"
                assert st.gate is not None and [v.actor for v in st.gate.votes] == ["bo"]
                st = await service.decide_gate(client, pf_charter.id, "anna", "approve")
                assert st.state == "pre_study"
                await settled(client, pf_charter.id)
        assert ledger.verify(pf_charter.id).ok
        assert ledger.last_seq(pf_charter.id) == 8


def test_cli_commands_that_use_the_client_exit_with_their_code_every_time(
    dev_server: DevServer, tmp_path: Path
) -> None:
    """SDK issue #300: a client-using process can abort (134) at exit. Never ours."""
    ledger_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    tq = f"tq-{uuid.uuid4().hex}"
    worker = WorkerProcess(dev_server.address, ledger_url, tq, tmp_path / "worker.log")
    worker.start()
    try:
        common = ["--address", dev_server.address]
        charter = tmp_path / "charter.yaml"
        text = (Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml").read_text()
        charter.write_text(text.replace("id: new-crm", f"id: exit-{uuid.uuid4().hex[:6]}"))
        started = subprocess.run(
            [PHASEGATE, "project", "start", str(charter), *common, "--task-queue", tq],
            capture_output=True,
            text=True,
        )
        assert started.returncode == 0, started.stderr
        pid = started.stdout.strip()
        codes = []
        for i in range(50):
            if i % 5 == 4:  # a refused decision: no gate is open -> exit 1
                args = ["gate", "decide", pid, "--as", "anna", "--decision", "approve"]
                want = 1
            else:
                args = ["project", "status", pid, "--json"]
                want = 0
            run = subprocess.run([PHASEGATE, *args, *common], capture_output=True, text=True)
            codes.append((want, run.returncode))
            assert "Fatal Python error" not in run.stderr
        assert all(want == got for want, got in codes), codes
    finally:
        worker.stop()
