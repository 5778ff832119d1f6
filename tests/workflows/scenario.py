"""Driving one project workflow through a test: start it, act as its people, read it back.

``Project`` wraps the service functions the faces use (so the tests go through the same
client-side code), the workflow's history and the project's ledger rows. ``refused`` checks
the promise every validator makes: a refused request changes nothing, anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

import governance as g
from governance.audit import AuditEvent, EventKind, Task
from governance.messages import (
    Action,
    ActorInput,
    AddItemsInput,
    Command,
    DecideDeliveryInput,
    IterationResult,
    IterationStatus,
    PlanIterationInput,
    ProjectResult,
    ProjectStatus,
    RecordDemoInput,
    RecordRetroInput,
    ReportDoneInput,
    SubmitDeliverableInput,
    WorkItem,
)
from phasegate import deliverables, service
from tests.workflows.conftest import Harness
from workflows import IterationWorkflow, ProjectWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORD = os.environ.get("PHASEGATE_RECORD_HISTORIES") == "1"
"""``PHASEGATE_RECORD_HISTORIES=1 pytest tests/workflows`` rewrites the committed histories."""

# Who approves each gate on the happy path (enough for the rule and every required role).
PF_APPROVERS: dict[str, list[str]] = {
    "idea": ["anna", "bo"],
    "pre_study": ["anna", "bo"],
    "planning": ["anna", "cecilia"],
    "execution": ["anna", "bo"],
    "closure": ["anna"],
    "benefits_realisation": ["anna"],
}
# PRINCE2's Executive (ada) decides every gate; the Senior User (ben) and the Senior Supplier
# (chloe) advise. Who advises on each gate on the happy path, before the executive decides:
P2_APPROVERS: dict[str, list[str]] = {
    phase: ["ada"] for phase in ("starting_up", "initiation", "delivery_1", "delivery_2", "closing")
}
P2_ADVISERS: dict[str, list[str]] = {
    "starting_up": ["ben"],
    "initiation": ["ben", "chloe"],
    "delivery_1": ["chloe"],
    "delivery_2": ["ben"],
    "closing": [],
}

QUERY_TIMEOUT = timedelta(seconds=3)
CAN_SETTLE = 0.25
QUERY_TRIES = 10
BESIDE_GATES = {EventKind.deliverable_submitted, EventKind.report_issued}
"""Left out of the gate tests' view of the ledger: deliverables, and the highlight reports a
project issues on its cadence while the tests wait for SLAs."""
ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
CONTINUED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW


def unique_id(prefix: str) -> str:
    """Workflow ids are reused never on the shared server: one fresh project id per test."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def derived_model(
    model: g.GovernanceModel, **phase_gate_updates: dict[str, Any]
) -> g.GovernanceModel:
    """``model`` with some gates changed, e.g. ``derived_model(m, idea={"escalate_to": "board"})``;
    validated again as a whole."""
    data = model.model_dump(mode="json")
    for phase in data["phases"]:
        phase["gate"].update(phase_gate_updates.get(phase["id"], {}))
    return g.GovernanceModel.model_validate(data)


def with_roles(charter: g.Charter, **roles: list[str]) -> g.Charter:
    """``charter`` with some people's roles replaced, e.g. ``with_roles(c, david=[...])``."""
    people = [
        p.model_copy(update={"roles": roles[p.id]}) if p.id in roles else p for p in charter.people
    ]
    return charter.model_copy(update={"people": people})


async def eventually(
    check: Callable[[], Awaitable[bool]], *, attempts: int = 100, pause: float = 0.05
) -> None:
    """Timers fire asynchronously after ``env.sleep``: retry ``check`` for a few seconds."""
    for _ in range(attempts):
        if await check():
            return
        await asyncio.sleep(pause)
    raise AssertionError(f"condition not met after {attempts * pause:.1f}s")


async def stays_quiet(p: Project, *, checks: int = 10, pause: float = 0.05) -> None:
    """Nothing fires: the status and the ledger stay where they are for a while."""
    seq = (await p.recorded()).last_seq
    for _ in range(checks):
        assert (await p.status()).last_seq == seq == len(p.events())
        await asyncio.sleep(pause)


@dataclass
class Project:
    harness: Harness
    charter: g.Charter
    model: g.GovernanceModel
    first_run_id: str
    decisions: list[tuple[str, str]] = field(default_factory=list)
    """Every (actor, decision) the test got accepted, in order."""
    settle: float = 0.0
    """Seconds to wait before each status query: a project that continues as new often
    gets them (the time-skipping server loses a query that meets a continue-as-new, and
    then skips no more time for the rest of its life)."""

    @property
    def pid(self) -> str:
        return self.charter.id

    @property
    def handle(self) -> WorkflowHandle[ProjectWorkflow, ProjectResult]:
        return self.harness.client.get_workflow_handle_for(
            ProjectWorkflow.run, service.workflow_id(self.pid)
        )

    # -- acting ---------------------------------------------------------------------------

    async def status(self) -> ProjectStatus:
        """The project's status. Asked again after a short wait when no answer comes: the
        time-skipping server can lose a query that meets a continue-as-new."""
        target = service.project(self.pid)
        if self.settle:
            await asyncio.sleep(self.settle)
        for attempt in range(1, QUERY_TRIES + 1):
            try:
                return await service.status_of(self.harness.client, target, QUERY_TIMEOUT)
            except service.ProjectError as exc:
                if exc.kind != "NoWorker" or attempt == QUERY_TRIES:
                    raise
        raise AssertionError("unreachable")

    async def request(
        self, actor: str, comment: str | None = None, *, deliverables: bool = True
    ) -> ProjectStatus:
        """Request the current phase's gate as ``actor``; with ``deliverables``, first submit
        (as ``actor``) whatever the gate lists that is still missing."""
        before = await self.status()
        if deliverables:
            for d in before.deliverables:
                if not d.present:
                    await self.submit(actor, d.name)
        st = await self.recorded(
            await service.request_gate(self.harness.client, self.pid, actor, comment)
        )
        running = before.execution.open_iteration if before.execution else None
        if running is None:
            return st
        await self.finished(running)  # the closed iteration's result is back: order is settled
        return await self.status()

    async def finished(self, number: int) -> None:
        """Wait until the project has kept what iteration ``number`` returned, and recorded it."""

        async def kept() -> bool:
            ex = (await self.status()).execution
            return ex is not None and any(v.number == number for v in ex.history)

        await eventually(kept)
        await self.recorded()

    async def submit(
        self,
        actor: str,
        name: str,
        *,
        url: str | None = None,
        sha256: str | None = None,
        size: int | None = None,
        comment: str | None = None,
    ) -> ProjectStatus:
        """Submit a deliverable: a file's hash and size, else a URL (one is made up)."""
        if sha256 is None and url is None:
            url = f"https://docs.example.org/{self.pid}/{name.replace(' ', '-')}"
        arg = SubmitDeliverableInput(
            actor=actor, name=name, url=url, sha256=sha256, size=size, comment=comment
        )
        return await self.recorded(await deliverables.submit(self.harness.client, self.pid, arg))

    async def decide(
        self, actor: str, decision: str, comment: str | None = None, round: int | None = None
    ) -> ProjectStatus:
        st = await service.decide_gate(
            self.harness.client, self.pid, actor, decision, comment, round=round
        )
        self.decisions.append((actor, decision))
        return await self.recorded(st)

    async def board(self, action: str, actor: str, comment: str | None = None) -> ProjectStatus:
        return await self.recorded(
            await service.board_action(self.harness.client, self.pid, action, actor, comment)
        )

    async def complete(self, actor: str, key: str, comment: str | None = None) -> ProjectStatus:
        """Complete the task ``key`` as ``actor``, by its id in the inbox (as the CLI does)."""
        [task_id] = [t.id for t in self.tasks() if t.key == key]
        done = await service.complete_task(
            self.harness.client, self.harness.ledger, task_id, actor, comment
        )
        return await self.recorded(done.status)

    async def recorded(self, st: ProjectStatus | None = None) -> ProjectStatus:
        """Wait until the ledger holds every event the workflow accepted (it writes them
        right after the step, not before the update returns); ``st`` passes through."""
        seq = st.last_seq if st is not None else (await self.status()).last_seq

        async def written() -> bool:
            return self.harness.ledger.last_seq(self.pid) >= seq

        await eventually(written)
        return st if st is not None else await self.status()

    async def allowed(self, actor: str) -> list[Action]:
        return await service.allowed_actions(self.harness.client, self.pid, actor)

    async def pass_gate(self, approvers: Sequence[str], pm: str) -> ProjectStatus:
        """Request the current phase's gate as ``pm`` and have ``approvers`` approve it."""
        st = await self.request(pm)
        assert st.gate is not None and st.state == f"{st.phase}_gate"
        for actor in approvers:
            st = await self.decide(actor, "approve")
        assert st.gate is None, f"gate still open after {approvers}: {st.gate}"
        return st

    async def sleep(self, **duration: float) -> None:
        """Advance the test server's clock, e.g. ``await p.sleep(days=7, hours=1)``."""
        await self.harness.env.sleep(timedelta(**duration))

    async def result(self) -> ProjectResult:
        return await self.handle.result()

    # -- reading back ---------------------------------------------------------------------

    def events(self) -> list[AuditEvent]:
        return self.harness.ledger.events(self.pid)

    def kinds(self, *, everything: bool = False) -> list[str]:
        """The kinds of the project's events; the deliverables submitted and the iterations'
        comings and goings are left out unless ``everything`` (the gate tests' view)."""
        return [
            str(e.kind)
            for e in self.events()
            if everything or (e.kind not in BESIDE_GATES and not e.kind.startswith("iteration_"))
        ]

    def of_kind(self, kind: EventKind) -> list[AuditEvent]:
        return [e for e in self.events() if e.kind == kind]

    def tasks(self, **filters: Any) -> list[Task]:
        return self.harness.ledger.tasks(project_id=self.pid, **filters)

    def task_status(self) -> dict[str, str]:
        return {t.key: t.status for t in self.tasks()}

    async def accepted_updates(self) -> list[str]:
        """Ids of the updates the workflow accepted, from the current run's history."""
        history = await self.handle.fetch_history()
        return [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
            for e in history.events
            if e.event_type == ACCEPTED
        ]

    def assert_sound_ledger(self) -> list[AuditEvent]:
        """The chain verifies and its seqs run 1..n without a gap or a duplicate."""
        events = self.events()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        report = self.harness.ledger.verify(self.pid)
        assert report.ok, report.broken
        assert report.events_checked == len(events)
        return events

    async def unchanged(self, attempt: Callable[[], Awaitable[object]]) -> Exception:
        """``attempt`` fails and leaves no trace: the status, the ledger, the tasks and the
        accepted updates in history are exactly as before. Returns the failure."""
        before_status = await self.status()
        before_events = self.events()
        before_tasks = self.tasks()
        before_updates = await self.accepted_updates()
        try:
            await attempt()
        except Exception as exc:
            failure = exc
        else:
            raise AssertionError("expected the request to be refused")
        assert await self.status() == before_status
        assert self.events() == before_events
        assert self.tasks() == before_tasks
        assert await self.accepted_updates() == before_updates
        return failure

    async def refused(self, attempt: Callable[[], Awaitable[object]], kind: str) -> str:
        """``attempt`` is refused with a ProjectError of ``kind`` and changes nothing;
        returns the refusal's message."""
        failure = await self.unchanged(attempt)
        assert isinstance(failure, service.ProjectError), repr(failure)
        assert failure.kind == kind, f"expected {kind}, got {failure.kind}: {failure}"
        return str(failure)

    # -- histories for the replay test ----------------------------------------------------

    async def run_histories(self) -> list[WorkflowHistory]:
        """The history of every run, first to last, following continue-as-new."""
        histories: list[WorkflowHistory] = []
        run_id: str | None = self.first_run_id
        while run_id is not None:
            h = self.harness.client.get_workflow_handle(
                service.workflow_id(self.pid), run_id=run_id
            )
            history = await h.fetch_history()
            histories.append(history)
            last = history.events[-1]
            run_id = (
                last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                if last.event_type == CONTINUED
                else None
            )
        return histories

    async def record(self, name: str) -> None:
        """With PHASEGATE_RECORD_HISTORIES=1, write this project's histories for replay:
        ``<name>.json``, or ``<name>.run<N>.json`` per run when it continued as new."""
        if not RECORD:
            return
        histories = await self.run_histories()
        HISTORIES.mkdir(exist_ok=True)
        for old in HISTORIES.glob(f"{name}.*json"):
            old.unlink()
        for n, history in enumerate(histories, 1):
            stem = name if len(histories) == 1 else f"{name}.run{n}"
            (HISTORIES / f"{stem}.json").write_text(history.to_json() + "\n")


@dataclass
class Scenario:
    """Starts projects on the test's worker; terminates any still running at teardown so no
    workflow outlives its test on the shared time-skipping server."""

    harness: Harness
    started: list[Project] = field(default_factory=list)

    async def start(
        self,
        charter: g.Charter,
        model: g.GovernanceModel,
        *,
        continue_as_new_after: int | None = None,
    ) -> Project:
        charter = charter.model_copy(update={"id": unique_id(charter.id)})
        pid = await service.start_project(
            self.harness.client,
            charter,
            model,
            task_queue=self.harness.task_queue,
            continue_as_new_after=continue_as_new_after,
        )
        handle = self.harness.client.get_workflow_handle(service.workflow_id(pid))
        first_run_id = (await handle.describe()).run_id
        project = Project(self.harness, charter, model, first_run_id)
        if continue_as_new_after is not None:
            project.settle = CAN_SETTLE
        self.started.append(project)

        async def recorded() -> bool:  # the first workflow task has written its events
            return self.harness.ledger.last_seq(pid) == (await project.status()).last_seq > 0

        await eventually(recorded)
        return project

    async def close(self) -> None:
        for project in self.started:
            # Its iterations too: the time-skipping server does not skip time while a
            # workflow left behind waits for a worker that has gone with its test. An
            # iteration being started is waited for, so that it is terminated too.
            children: list[Iteration] = []
            try:
                ex = (await project.status()).execution
                children = [
                    Iteration(project, n) for n in range(1, (ex.iterations if ex else 0) + 1)
                ]
            except Exception:  # ended or gone: nothing more can start
                pass
            for child in children:

                async def exists(child: Iteration = child) -> bool:
                    try:
                        await child.handle.describe()
                    except RPCError:
                        return False
                    return True

                with contextlib.suppress(AssertionError):
                    await eventually(exists, attempts=40)
            for handle in [project.handle, *(c.handle for c in children)]:
                try:
                    desc = await handle.describe()
                    if desc.status == WorkflowExecutionStatus.RUNNING:
                        await handle.terminate("test finished")
                except RPCError:
                    pass


# -- iterations ---------------------------------------------------------------------------------


def items(*specs: tuple[str, str, float], prefix: str = "") -> list[WorkItem]:
    """Work items from (id, owner, estimate) triples; each is as many points as person-days
    (the example charter measures its scope in points)."""
    return [
        WorkItem(id=f"{prefix}{i}", title=f"Item {prefix}{i}", owner=o, estimate=e, points=e)
        for i, o, e in specs
    ]


@dataclass
class Iteration:
    """One iteration of ``project``: its child workflow, driven like the faces drive it."""

    project: Project
    number: int

    @property
    def workflow_id(self) -> str:
        return f"{service.workflow_id(self.project.pid)}-it-{self.number}"

    @property
    def chain(self) -> str:
        return f"{self.project.pid}/it-{self.number}"

    @property
    def handle(self) -> WorkflowHandle[IterationWorkflow, IterationResult]:
        return self.project.harness.client.get_workflow_handle_for(
            IterationWorkflow.run, self.workflow_id
        )

    async def status(self) -> IterationStatus:
        return await self.handle.query(IterationWorkflow.status)

    async def update(self, update: Any, arg: Command) -> IterationStatus:
        """Send an update; a refusal raises service.ProjectError with the validator's type.
        Returns once the ledger holds the step."""
        try:
            st: IterationStatus = await self.handle.execute_update(update, arg)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            assert isinstance(cause, ApplicationError), repr(cause)
            raise service.ProjectError(cause.message, cause.type or "Rejected") from exc
        ledger = self.project.harness.ledger

        async def written() -> bool:
            return ledger.last_seq(self.chain) >= st.last_seq

        await eventually(written)
        return st

    async def plan(
        self,
        actor: str,
        work: list[WorkItem],
        *,
        weeks: int | None = None,
        goal: str = "g",
        pause: float = 0.05,
    ) -> IterationStatus:
        """Plan; returns once the stand-up that falls at the planning moment is recorded
        too (when the phase has stand-ups), so the chain is quiet afterwards (asked every
        ``pause`` seconds)."""
        length = timedelta(weeks=weeks) if weeks is not None else None
        arg = PlanIterationInput(actor=actor, goal=goal, length=length, items=work)
        st = await self.update(IterationWorkflow.plan_iteration, arg)
        ledger = self.project.harness.ledger

        async def quiet() -> bool:
            now = await self.status()
            return now.next_standup != st.planned_at and ledger.last_seq(self.chain) == now.last_seq

        await eventually(quiet, attempts=round(5 / pause), pause=pause)
        return await self.status()

    async def done(self, actor: str, *ids: str) -> IterationStatus:
        arg = ReportDoneInput(actor=actor, item_ids=list(ids))
        return await self.update(IterationWorkflow.report_done, arg)

    async def add(self, actor: str, work: list[WorkItem]) -> IterationStatus:
        arg = AddItemsInput(actor=actor, items=work)
        return await self.update(IterationWorkflow.add_items, arg)

    async def close_execution(self, actor: str) -> IterationStatus:
        return await self.update(IterationWorkflow.close_execution, ActorInput(actor=actor))

    async def demo(self, actor: str, **kw: Any) -> IterationStatus:
        return await self.update(IterationWorkflow.record_demo, RecordDemoInput(actor=actor, **kw))

    async def deliver(self, actor: str, decision: str = "deliver") -> IterationStatus:
        arg = DecideDeliveryInput(actor=actor, decision=decision)  # type: ignore[arg-type]
        return await self.update(IterationWorkflow.decide_delivery, arg)

    async def retro(self, actor: str, **kw: Any) -> IterationStatus:
        arg = RecordRetroInput(actor=actor, **kw)
        return await self.update(IterationWorkflow.record_retro, arg)

    def events(self) -> list[AuditEvent]:
        return self.project.harness.ledger.events(self.chain)

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.events()]

    def assert_sound_chain(self) -> list[AuditEvent]:
        events = self.events()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        report = self.project.harness.ledger.verify(self.chain)
        assert report.ok, report.broken
        return events

    async def record(self, name: str) -> None:
        """With PHASEGATE_RECORD_HISTORIES=1, write this iteration's history for replay."""
        if RECORD:
            history = await self.handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json() + "\n")

    async def accepted_updates(self) -> list[str]:
        history = await self.handle.fetch_history()
        return [
            e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
            for e in history.events
            if e.event_type == ACCEPTED
        ]

    async def refused(self, attempt: Callable[[], Awaitable[object]], kind: str) -> str:
        """Refused with ``kind``; the iteration's status, chain, tasks and history unchanged."""

        async def now() -> tuple[object, ...]:  # days_left moves with the clock: left out
            st = (await self.status()).model_copy(update={"days_left": None})
            return (st, self.events(), self.project.tasks())

        before = await now()
        history = await self.accepted_updates()
        try:
            await attempt()
        except service.ProjectError as exc:
            assert exc.kind == kind, f"expected {kind}, got {exc.kind}: {exc}"
            message = str(exc)
        else:
            raise AssertionError("expected the request to be refused")
        assert await now() == before
        assert await self.accepted_updates() == history
        return message


async def open_iteration(
    p: Project, number: int | None = None, *, pause: float = 0.05
) -> Iteration:
    """The project's open iteration (waits until one is open, ``number`` if given; asks
    every ``pause`` seconds)."""
    poll = {"attempts": round(5 / pause), "pause": pause}
    found: list[int] = []

    async def is_open() -> bool:
        ex = (await p.status()).execution
        if ex is None or ex.open_iteration is None:
            return False
        if number is not None and ex.open_iteration != number:
            return False
        found[:] = [ex.open_iteration]
        return True

    await eventually(is_open, **poll)
    it = Iteration(p, found[0])

    async def started() -> bool:
        try:
            await it.status()
        except RPCError:
            return False
        return it.kinds().count("iteration_opened") == 1

    await eventually(started, **poll)
    return it


async def to_execution(p: Project, pm: str = "david") -> Iteration:
    """Pass the Projektflödet gates up to execution; returns iteration 1, open for planning."""
    for phase in ("idea", "pre_study", "planning"):
        await p.pass_gate(PF_APPROVERS[phase], pm=pm)
    return await open_iteration(p, 1)
