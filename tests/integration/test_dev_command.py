"""``phasegate dev`` as a real process: signals at every stage, the data-dir lock, ``--stop``,
the REST API it serves on the web port it prints."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from phasegate.devserver import DataDirLock, read_state, state_path
from tests.integration.conftest import PHASEGATE

pytestmark = pytest.mark.devserver


def servers_of(data_dir: Path) -> list[int]:
    """Pids of the live Temporal dev servers running in ``data_dir`` (their database is there)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
            cwd = (proc / "cwd").readlink()
        except OSError:
            continue
        alive = stat.rpartition(")")[2].split()[0] != "Z"
        if b"start-dev" in cmdline and alive and cwd == data_dir.resolve():
            found.append(int(proc.name))
    return found


def wait_until(check: Callable[[], bool], timeout: float = 60.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


class Dev:
    """One ``phasegate dev --no-ui`` child process on ``data_dir``, its output in a file."""

    def __init__(self, data_dir: Path, log: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.log = log
        with log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [PHASEGATE, "dev", "--no-ui", "--data-dir", str(data_dir), *extra],
                stdout=fh,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PHASEGATE_LOG_FORMAT": "json"},
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self) -> bool:
        assert self.proc.poll() is None, self.output()
        return "worker.started" in self.output()

    def wait(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_dev(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PHASEGATE, "dev", "--no-ui", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    yield data
    for pid in servers_of(data):  # whatever a failed test left behind
        os.kill(pid, signal.SIGKILL)


SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def server_starting(dev: Dev) -> bool:
    """The server process exists and is not ready yet (``dev`` has not written its state)."""
    if not servers_of(dev.data_dir):
        return False
    assert not state_path(dev.data_dir).exists(), "the server was ready already: not start-up"
    return True


MOMENTS = {"starting": (server_starting, 128), "running": (Dev.started, 0)}
"""When the signal comes: the check to wait for, and the exit code then (+ the signal's)."""


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_signal_at_start_up_or_later_stops_worker_and_server(
    moment: str, sig: signal.Signals, data_dir: Path, tmp_path: Path
) -> None:
    reached, code = MOMENTS[moment]
    dev = Dev(data_dir, tmp_path / "dev.log")
    try:
        assert wait_until(lambda: reached(dev)), dev.output()
        assert len(servers_of(data_dir)) == 1
        dev.proc.send_signal(sig)
        assert dev.wait() == (code + sig if code else 0), dev.output()
    finally:
        dev.kill()
    assert servers_of(data_dir) == []
    assert read_state(data_dir) is None
    assert DataDirLock(data_dir).holder() is None
    assert "Traceback" not in dev.output()
    assert ("worker.stopped" in dev.output()) == (moment == "running")


def test_second_dev_on_the_same_data_dir_is_refused_and_stop_stops_the_first(
    data_dir: Path, tmp_path: Path
) -> None:
    first = Dev(data_dir, tmp_path / "dev.log")
    try:
        assert wait_until(first.started), first.output()
        (server,) = servers_of(data_dir)

        second = run_dev(data_dir)
        assert second.returncode == 1
        assert f"already running (process {first.proc.pid} holds" in second.stderr
        assert "phasegate dev --stop" in second.stderr
        assert servers_of(data_dir) == [server]  # the first one's server, untouched

        stopped = run_dev(data_dir, "--stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped phasegate dev (pid {first.proc.pid})" in stopped.stderr
        assert first.wait(10) == 0
    finally:
        first.kill()
    assert servers_of(data_dir) == []
    again = run_dev(data_dir, "--stop")
    assert again.returncode == 0 and "nothing runs" in again.stderr


def test_stop_stops_the_server_of_a_dev_that_was_killed(data_dir: Path, tmp_path: Path) -> None:
    dev = Dev(data_dir, tmp_path / "dev.log")
    try:
        assert wait_until(dev.started), dev.output()
    finally:
        dev.kill()  # SIGKILL: nothing can run, the server is left
    (orphan,) = servers_of(data_dir)

    refused = run_dev(data_dir)
    assert refused.returncode == 1
    assert f"(pid {orphan}), left by a process that has gone" in refused.stderr

    stopped = run_dev(data_dir, "--stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"(pid {orphan})" in stopped.stderr
    assert servers_of(data_dir) == []
    assert read_state(data_dir) is None


def test_a_failure_after_start_stops_the_server(data_dir: Path, tmp_path: Path) -> None:
    """An unreachable ledger makes the worker fail: the server goes with it, no traceback."""
    dev = Dev(
        data_dir,
        tmp_path / "dev.log",
        "--ledger-url",
        "postgresql+psycopg://phasegate@127.0.0.1:1/none?connect_timeout=2",
    )
    try:
        assert dev.wait(120) == 1, dev.output()
    finally:
        dev.kill()
    assert "error: ledger postgresql+psycopg://phasegate@127.0.0.1:1/none" in dev.output()
    assert "Traceback" not in dev.output()
    assert servers_of(data_dir) == []
    assert DataDirLock(data_dir).holder() is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def web_url(dev: Dev) -> str | None:
    """The URL of the line ``web: URL`` dev printed, or None before it has."""
    found = re.search(r"^web: (http://127\.0\.0\.1:\d+)$", dev.output(), re.MULTILINE)
    return found[1] if found else None


def test_dev_serves_the_api_on_the_web_port_it_prints_until_stopped(
    data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    dev = Dev(data_dir, tmp_path / "dev.log", "--port", str(free_port()), "--web-port", str(port))
    try:
        assert wait_until(lambda: dev.started() and web_url(dev) is not None), dev.output()
        assert web_url(dev) == f"http://127.0.0.1:{port}"
        assert "phasegate token create --person ID" in dev.output()
        doc = httpx.get(f"{web_url(dev)}/api/openapi.json", timeout=10)
        assert doc.status_code == 200 and "/api/projects" in doc.json()["paths"]
        # The worker's ledger is the API's: a token made for it is accepted.
        token = subprocess.run(
            [PHASEGATE, "token", "create", "--person", "anna", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert token.returncode == 0, token.stderr
        auth = {"Authorization": f"Bearer {token.stdout.strip()}"}
        listed = httpx.get(f"{web_url(dev)}/api/projects", headers=auth, timeout=10)
        assert listed.status_code == 200 and listed.json()["total"] == 0
        assert httpx.get(f"{web_url(dev)}/api/projects", timeout=10).status_code == 401

        stopped = run_dev(data_dir, "--stop")
        assert stopped.returncode == 0, stopped.stderr
        assert dev.wait(30) == 0, dev.output()
    finally:
        dev.kill()
    assert "Traceback" not in dev.output()
    assert "worker.stopped" in dev.output()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2)
    assert servers_of(data_dir) == []


def test_dev_takes_a_free_web_port_when_8080_is_taken(data_dir: Path, tmp_path: Path) -> None:
    with contextlib.ExitStack() as held:
        with contextlib.suppress(OSError):  # else someone else holds 8080: taken all the same
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 8080))
            sock.listen()
        dev = Dev(data_dir, tmp_path / "dev.log")
        try:
            assert wait_until(lambda: dev.started() and web_url(dev) is not None), dev.output()
            url = web_url(dev)
            assert url is not None and not url.endswith(":8080")
            assert httpx.get(f"{url}/api/openapi.json", timeout=10).status_code == 200
            dev.proc.send_signal(signal.SIGINT)
            assert dev.wait(30) == 0, dev.output()
        finally:
            dev.kill()
    assert servers_of(data_dir) == []


def test_a_web_port_in_use_is_refused_before_anything_starts(
    data_dir: Path, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        refused = run_dev(data_dir, "--web-port", str(port))
    assert refused.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert servers_of(data_dir) == [] and read_state(data_dir) is None


def test_a_web_port_without_the_web_server_is_a_usage_error(data_dir: Path) -> None:
    refused = run_dev(data_dir, "--no-web", "--web-port", str(free_port()))
    assert refused.returncode == 2
    assert "--web-port and --no-web" in refused.stderr
    assert not data_dir.exists()  # nothing started, nothing made


def test_no_web_serves_no_api(data_dir: Path, tmp_path: Path) -> None:
    dev = Dev(data_dir, tmp_path / "dev.log", "--no-web")
    try:
        assert wait_until(dev.started), dev.output()
        assert web_url(dev) is None and "web:" not in dev.output()
        dev.proc.send_signal(signal.SIGTERM)
        assert dev.wait(30) == 0, dev.output()
    finally:
        dev.kill()
