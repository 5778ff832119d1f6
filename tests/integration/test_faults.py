"""A worker killed with SIGKILL at the worst instant of each kind of step, on the real dev server.

The worst instant is right after the ledger transaction commits and before the ``record``
activity completes: the ledger holds the step, Temporal does not know it is written. The worker
is ``tests/integration/fault_worker.py``: the real worker with activities that kill their own
process there (no hook in production code). A normal worker then takes over on the same ledger
and task queue, and the project must go on with its chain holding exactly what the workflow
accepted. One case kills just before the COMMIT instead: nothing half-written may remain.

The cases run concurrently (each its own task queue, ledger and worker processes), since each
waits ~20 s for Temporal to time the killed activity out; each test awaits its own case.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

import governance as g
from governance.audit import AuditEvent, Task
from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer
from tests.conftest import EXAMPLES
from tests.integration.conftest import (
    WorkerProcess,
    answered,
    chain_of,
    fault_command,
    settled,
    submit,
    submit_missing,
)
from tests.workflows.scenario import derived_model

pytestmark = pytest.mark.devserver

Step = Callable[[Client, str], Awaitable[object]]


async def request(c: Client, p: str) -> object:
    """Submit the gate's missing deliverables, then request it (the write killed, if any)."""
    await submit_missing(c, p)
    return await answered(service.request_gate(c, p, "david"))


async def submit_idea(c: Client, p: str) -> object:
    return await answered(submit(c, p, "Idébeskrivning"))


def vote(actor: str, decision: str = "approve") -> Step:
    async def step(c: Client, p: str) -> object:
        return await answered(service.decide_gate(c, p, actor, decision))

    return step


def board(action: str) -> Step:
    async def step(c: Client, p: str) -> object:
        return await answered(service.board_action(c, p, action, "anna"))

    return step


async def temporal_cancel(c: Client, p: str) -> object:
    await service.handle(c, p).cancel()
    return None


async def refused_as_closed(c: Client, p: str) -> object:
    with pytest.raises(service.ProjectError) as refused:
        await request(c, p)
    assert refused.value.kind == "ProjectClosed", refused.value
    return None


async def nothing(c: Client, p: str) -> object:
    return None  # a timer takes the step


@dataclass(frozen=True)
class Case:
    kill_on: tuple[str, ...]
    """Event kinds whose write kills the worker, once each, in this order."""
    before: tuple[Step, ...]
    step: Step
    """The command whose write is killed (``nothing`` when timers take the steps)."""
    next: Step
    """The project's next command, on a healthy worker."""
    chain: tuple[str, ...]
    """Every event kind in the ledger at the end, in order."""
    open_tasks: frozenset[str]
    at: str = "after-commit"
    ends: WorkflowExecutionStatus = WorkflowExecutionStatus.RUNNING
    timers: bool = False


START = ("project_started", "phase_started", "deliverable_submitted")
"""Started, and the idea gate's one deliverable (Idébeskrivning) submitted."""
PASSED = ("vote_cast", "gate_passed", "phase_started")
PRE_STUDY_DELIVERABLES = ("deliverable_submitted",) * 2
IDEA_TASKS = frozenset(
    {"idea_gate/1/task1/anna", "idea_gate/1/decide/anna", "idea_gate/1/decide/bo"}
)
CASES = {
    "deliverable_submitted": Case(
        ("deliverable_submitted",),
        (),
        submit_idea,
        request,  # nothing left to submit: the killed submission counts
        (*START, "gate_opened"),
        IDEA_TASKS,
    ),
    "gate_opened": Case(
        ("gate_opened",),
        (),
        request,
        vote("anna"),
        (*START, "gate_opened", "vote_cast"),
        IDEA_TASKS - {"idea_gate/1/decide/anna"},
    ),
    "vote_cast": Case(
        ("vote_cast",),
        (request,),
        vote("anna"),
        vote("bo"),
        (*START, "gate_opened", "vote_cast", *PASSED),
        frozenset(),
    ),
    "gate_passed": Case(
        ("gate_passed",),
        (request, vote("anna")),
        vote("bo"),
        request,
        (*START, "gate_opened", "vote_cast", *PASSED, *PRE_STUDY_DELIVERABLES, "gate_opened"),
        frozenset(
            f"pre_study_gate/1/{k}"
            for k in ("task1/bo", "task2/anna", "decide/anna", "decide/bo", "decide/cecilia")
        ),
    ),
    "held": Case(
        ("held",),
        (request,),
        board("hold"),
        board("resume"),
        (*START, "gate_opened", "held", "resumed"),
        IDEA_TASKS,
    ),
    "resumed": Case(
        ("resumed",),
        (request, board("hold")),
        board("resume"),
        vote("anna"),
        (*START, "gate_opened", "held", "resumed", "vote_cast"),
        IDEA_TASKS - {"idea_gate/1/decide/anna"},
    ),
    "cancelled": Case(
        ("cancelled",),
        (request,),
        board("cancel"),
        refused_as_closed,
        (*START, "gate_opened", "cancelled"),
        frozenset(),
        ends=WorkflowExecutionStatus.COMPLETED,
    ),
    "cancelled_by_temporal": Case(
        ("cancelled",),
        (request,),
        temporal_cancel,
        refused_as_closed,
        (*START, "gate_opened", "cancelled"),
        frozenset(),
        ends=WorkflowExecutionStatus.CANCELED,
    ),
    "reminder_sent+escalated": Case(
        ("reminder_sent", "escalated"),
        (request,),
        nothing,
        vote("gustav"),  # escalated to the portfolio level: its owner decides alone
        (*START, "gate_opened", "reminder_sent", "escalated", *PASSED),
        frozenset(),
        timers=True,
    ),
    "gate_opened_before_commit": Case(
        ("gate_opened",),
        (),
        request,
        vote("anna"),
        (*START, "gate_opened", "vote_cast"),
        IDEA_TASKS - {"idea_gate/1/decide/anna"},
        at="before-commit",
    ),
}
REMINDER, SLA = timedelta(seconds=30), timedelta(seconds=60)
"""The timer case's idea gate: a reminder after 30 s, the SLA after a minute."""


@dataclass
class Kill:
    kind: str
    exit_code: int
    committed: list[AuditEvent]
    """The ledger's events of that kind right after the kill."""
    record_pending: bool
    """Temporal still waits for the ``record`` activity: it did not complete."""
    task_keys: list[str]
    """The project's tasks in the inbox right after the kill."""


@dataclass
class Outcome:
    kills: list[Kill] = field(default_factory=list)
    accepted: list[ProjectStatus] = field(default_factory=list)
    status: ProjectStatus | None = None
    chain: list[AuditEvent] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    ends: WorkflowExecutionStatus | None = None


async def run_case(client: Client, server: DevServer, name: str, case: Case, tmp: Path) -> Outcome:
    model = g.builtin_models()["projektflodet"]
    if case.timers:
        model = derived_model(model, idea={"reminder": REMINDER, "sla": SLA, "tasks": []})
    base = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
    charter = base.model_copy(update={"id": f"fault-{uuid.uuid4().hex[:8]}"})
    pid = charter.id
    ledger_url, tq = f"sqlite:///{tmp / 'ledger.db'}", f"tq-{name}-{uuid.uuid4().hex[:6]}"
    fault = fault_command(case.kill_on, tmp / "marks", case.at)
    faulty = WorkerProcess(server.address, ledger_url, tq, tmp / "fault.log", fault)
    healthy = WorkerProcess(server.address, ledger_url, tq, tmp / "worker.log")
    out = Outcome()
    try:
        await faulty.start_async()
        await service.start_project(client, charter, model, task_queue=tq)
        for step in (*case.before, case.step):
            result = await step(client, pid)
            if isinstance(result, ProjectStatus):
                out.accepted.append(result)
        with Ledger(ledger_url) as ledger:
            for i, kind in enumerate(case.kill_on):
                code = await faulty.exited(timeout=150 if case.timers else 60)
                pending = (await service.handle(client, pid).describe()).raw_description
                out.kills.append(
                    Kill(
                        kind,
                        code,
                        [e for e in ledger.events(pid) if e.kind == kind],
                        any(a.activity_type.name == "record" for a in pending.pending_activities),
                        [t.key for t in ledger.tasks(project_id=pid)],
                    )
                )
                if i + 1 < len(case.kill_on):
                    await faulty.start_async()
            await healthy.start_async()
            result = await case.next(client, pid)
            if isinstance(result, ProjectStatus):
                out.accepted.append(result)
            out.status = await settled(client, pid)
            out.chain = chain_of(ledger, out.status)
            out.tasks = ledger.tasks(project_id=pid)
            out.ends = (await service.handle(client, pid).describe()).status
    finally:
        faulty.stop()
        healthy.stop()
    return out


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def outcomes(
    request: pytest.FixtureRequest,
    dev_server: DevServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, asyncio.Task[Outcome]]]:
    """Every selected case, started at once."""
    selected = {
        item.callspec.params["name"]
        for item in request.session.items
        if isinstance(item, pytest.Function) and "outcomes" in item.fixturenames
    }
    client = await Client.connect(dev_server.address, data_converter=pydantic_data_converter)
    runs = {
        name: asyncio.create_task(
            run_case(client, dev_server, name, CASES[name], tmp_path_factory.mktemp(name))
        )
        for name in sorted(selected)
    }
    yield runs
    for run in runs.values():
        run.cancel()
    await asyncio.gather(*runs.values(), return_exceptions=True)


@pytest.mark.parametrize("name", list(CASES))
async def test_worker_killed_around_the_ledger_commit_leaves_exactly_what_was_accepted(
    outcomes: dict[str, asyncio.Task[Outcome]], name: str
) -> None:
    case = CASES[name]
    out = await outcomes[name]
    st = out.status
    assert st is not None

    # The kill hit the window: the process died of SIGKILL inside ``record``, Temporal still
    # waiting for the activity, the step's events in the ledger (after the commit) or nothing
    # of its write at all, neither events nor tasks (before it).
    assert [k.kind for k in out.kills] == list(case.kill_on)
    for kill in out.kills:
        assert kill.exit_code == -9, kill
        assert kill.record_pending, f"{kill.kind}: the record activity had completed"
        if case.at == "after-commit":
            assert len(kill.committed) == 1, kill
        else:
            assert kill.committed == [] and kill.task_keys == [], kill

    # The project went on: its next command worked and the workflow ended as it should.
    assert out.ends == case.ends
    # The chain verifies, is 1..n, and n is what the workflow accepted; every event once.
    assert st.recorded_seq == st.last_seq == len(out.chain)
    assert [str(e.kind) for e in out.chain] == list(case.chain)
    seqs = [a.last_seq for a in out.accepted]  # each accepted command added its events
    assert seqs == sorted(set(seqs)) and seqs[-1] <= st.last_seq, seqs
    # The inbox holds exactly the open tasks the project's state calls for, each decide task
    # due when the gate is (a resume moves both once, even when its write ran twice).
    open_tasks = [t for t in out.tasks if t.status == "open"]
    assert {t.key for t in open_tasks} == case.open_tasks
    for task in open_tasks:
        if "/decide/" in task.key:
            assert st.gate is not None and task.due == st.gate.deadline, task
