"""A ledger that fails: the project shows why, refuses new requests (nothing is applied that
could not be recorded), and goes on by itself once the ledger takes writes again.

Each on a time-skipping server of its own: a workflow waiting on a failing ledger keeps
retrying, which would hold the shared server's skipped time for the tests after it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import governance as g
from governance.audit import AuditEventIn, EventKind
from governance.messages import ProjectStatus, SubmitDeliverableInput
from ledger import Ledger
from phasegate import service
from phasegate.devserver import test_server_path
from phasegate.temporal import register_search_attributes
from tests.workflows.scenario import eventually
from worker import build_worker
from workflows import ProjectWorkflow

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def private_env() -> AsyncIterator[WorkflowEnvironment]:
    path = test_server_path()
    assert path is not None
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(path)
    ) as env:
        await register_search_attributes(env.client)
        saved = service.clock
        service.clock = env.get_current_time
        try:
            yield env
        finally:
            service.clock = saved


async def _status_until(
    client: object, pid: str, check: Callable[[ProjectStatus], bool]
) -> ProjectStatus:
    latest: list[ProjectStatus] = []

    async def probe() -> bool:
        latest[:] = [await service.status(client, pid)]  # type: ignore[arg-type]
        return check(latest[0])

    await eventually(probe, attempts=300, pause=0.2)
    return latest[0]


async def test_a_ledger_holding_another_workflows_chain_is_shown_and_stops_new_requests(
    tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """The ledger already holds a seq 1 for this id (say, a purged old run): the project's
    events are not mixed into that chain; the status says why; requests are refused."""
    charter = pf_charter.model_copy(update={"id": f"diverged-{uuid.uuid4().hex[:6]}"})
    tq = f"tq-{uuid.uuid4().hex}"
    async with private_env() as env:
        with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
            ledger.migrate()
            ledger.append(
                AuditEventIn(
                    project_id=charter.id, seq=1, at=datetime.now(UTC),
                    kind=EventKind.project_started, model=projektflodet.ref,
                    model_hash=projektflodet.content_hash(),
                    workflow_id=f"project-{charter.id}", run_id="an-older-run",
                )
            )  # fmt: skip
            async with build_worker(env.client, ledger, tq):
                await service.start_project(env.client, charter, projektflodet, task_queue=tq)
                st = await _status_until(env.client, charter.id, lambda s: bool(s.ledger_error))
                assert st.ledger_error is not None
                assert "LedgerDiverged" in st.ledger_error and "never reused" in st.ledger_error
                with pytest.raises(service.ProjectError) as info:
                    await service.request_gate(env.client, charter.id, "david")
                assert info.value.kind == "LedgerUnavailable"
                assert "nothing was applied" in str(info.value)
                assert (await service.status(env.client, charter.id)).last_seq == st.last_seq
                assert [e.run_id for e in ledger.events(charter.id)] == ["an-older-run"]
                await service.handle(env.client, charter.id).terminate("test over")


@pytest.mark.postgres
async def test_a_ledger_that_is_down_for_a_while_loses_nothing_and_the_project_goes_on(
    projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"phasegate_t_{uuid.uuid4().hex}"
    url = str(sa.make_url(PG_ADMIN).set(database=name))

    def connections(allowed: bool) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}'))
            if not allowed:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )

    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    charter = pf_charter.model_copy(update={"id": f"down-{uuid.uuid4().hex[:6]}"})
    tq = f"tq-{uuid.uuid4().hex}"
    try:
        async with private_env() as env:
            with Ledger(url) as ledger:
                ledger.migrate()
                async with build_worker(env.client, ledger, tq):
                    client = env.client
                    await service.start_project(
                        client, charter, projektflodet, task_queue=tq, ledger_id=ledger.ledger_id()
                    )
                    await _status_until(client, charter.id, lambda s: s.recorded_seq == 2)
                    idea = SubmitDeliverableInput(
                        actor="david", name="Idébeskrivning", url="https://docs.example.org/idea"
                    )
                    await service.send_update(
                        client,
                        service.project(charter.id),
                        ProjectWorkflow.submit_deliverable,
                        idea,
                    )
                    await _status_until(client, charter.id, lambda s: s.recorded_seq == 3)
                    connections(False)
                    # Accepted: the request is in the workflow's history; its write waits.
                    st = await service.request_gate(client, charter.id, "david")
                    assert (st.last_seq, st.recorded_seq) == (4, 3)
                    st = await _status_until(client, charter.id, lambda s: bool(s.ledger_error))
                    assert st.ledger_error is not None
                    with pytest.raises(service.ProjectError) as info:
                        await service.decide_gate(client, charter.id, "bo", "approve")
                    assert info.value.kind == "LedgerUnavailable"

                    connections(True)
                    await env.sleep(600)  # past the writer's pause
                    st = await _status_until(
                        client, charter.id, lambda s: s.recorded_seq == s.last_seq
                    )
                    assert st.ledger_error is None
                    st = await service.decide_gate(client, charter.id, "bo", "approve")
                    st = await service.decide_gate(client, charter.id, "anna", "approve")
                    assert st.state == "pre_study" and st.recorded_seq == st.last_seq
                    events = ledger.events(charter.id)
                    assert [e.seq for e in events] == list(range(1, st.last_seq + 1))
                    assert ledger.verify(charter.id).ok
                    await service.handle(client, charter.id).terminate("test over")
    finally:
        connections(True)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
