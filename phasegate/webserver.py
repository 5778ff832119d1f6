"""Serve an ASGI app (the REST API and the dashboard) with uvicorn on the caller's event loop.

``phasegate api`` serves the app alone; ``phasegate dev`` serves it beside the worker, on the
same loop, with the same Temporal client and ledger. Either way the command's ``StopSignals``
own SIGINT, SIGTERM and SIGHUP: uvicorn's own signal handling is switched off, and the server
stops when the command asks it to (``stop``), so that the worker and the Temporal server stop
in their order and no signal is raised again once uvicorn has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["WebServer", "WebServerFailed"]


class WebServerFailed(RuntimeError):
    """The server could not start listening, or stopped by itself."""


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the command that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # uvicorn >= 0.29
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn
        return None


class WebServer:
    """``app`` served on ``sock`` (bound, e.g. by ``devserver.reserve_port``) or on
    ``host``:``port``. ``start`` returns once it listens; ``stop`` finishes the requests under
    way and closes it. Access logs are the app's own (structlog), not uvicorn's."""

    def __init__(
        self,
        app: Any,
        *,
        sock: socket.socket | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
    ) -> None:
        if sock is not None:
            host, port = sock.getsockname()[:2]
        self.host = host
        self.port = int(port)
        self._sock = sock
        config = uvicorn.Config(
            app, host=host, port=self.port, log_config=None, access_log=False, lifespan="on"
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Start serving; ``WebServerFailed`` when it cannot (the port taken, the app's
        start-up failing: uvicorn has logged why)."""
        sockets = [self._sock] if self._sock is not None else None
        self._task = asyncio.create_task(self._serve(sockets))
        while not self._server.started:
            if self._task.done():
                await self._finish()
                raise WebServerFailed(f"the web server could not listen on {self.url}")
            await asyncio.sleep(0.02)

    async def _serve(self, sockets: list[socket.socket] | None) -> None:
        # uvicorn's answer to a port it cannot bind is SystemExit (it has logged why); out of
        # a task, that would stop the whole event loop.
        with contextlib.suppress(SystemExit):
            await self._server.serve(sockets=sockets)

    async def wait(self) -> None:
        """Until the server stops by itself (it does not, unless it fails)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._finish()

    async def _finish(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task
