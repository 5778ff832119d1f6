"""Turn SIGINT, SIGTERM and SIGHUP into a stop request that long-running commands check.

``phasegate dev`` and ``phasegate worker`` install ``StopSignals`` first thing, so that Ctrl-C,
``kill`` or a closed terminal at any moment (start-up included) becomes an orderly stop: the
handler only sets a flag (a ``threading.Event``) and wakes the asyncio loops that asked for it;
nothing is raised into the code that happens to run, so no child process is left half-started.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a loop asks: the CLI imports this module for every command
    import asyncio

__all__ = ["StopSignals"]


class StopSignals:
    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        """The first signal received, or ``None``."""
        self._wakers: list[Callable[[], object]] = []

    @classmethod
    def install(cls) -> StopSignals:
        """Handle the three signals in this (main) thread from now on."""
        stop = cls()
        for sig in cls.SIGNALS:
            signal.signal(sig, stop._handle)
        return stop

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        self.event.set()
        for wake in self._wakers:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                wake()

    def asyncio_event(self) -> asyncio.Event:
        """An event of the running loop, set (now, or when a signal comes) with ``event``."""
        import asyncio

        event = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._wakers.append(lambda: loop.call_soon_threadsafe(event.set))
        if self.event.is_set():
            event.set()
        return event

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process ended by that signal."""
        return 128 + (self.signum or 0)
