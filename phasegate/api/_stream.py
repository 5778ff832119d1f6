"""A blocking writer (the ledger's export, which writes to a text file) as an async stream of
bytes for a ``StreamingResponse``: the writer runs on a thread of its own and hands chunks over
with at most ``QUEUED_CHUNKS`` waiting, so a slow client slows the export down instead of
filling the memory, and a client that goes away stops it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import AsyncIterator, Callable
from typing import TextIO

import structlog

__all__ = ["CHUNK_CHARS", "stream"]

log = structlog.get_logger("phasegate.api")

CHUNK_CHARS = 64 * 1024
"""Text gathered before a chunk is handed over."""
QUEUED_CHUNKS = 8
"""Chunks held at most between the writer and the client."""
_POLL_S = 0.5
"""How often a writer waiting for room looks whether the reader has stopped."""


class _Stopped(Exception):
    """The client went away: the writer gives up."""


class _Sink(io.TextIOBase):
    def __init__(self, put: Callable[[bytes], None]) -> None:
        self._put = put
        self._parts: list[str] = []
        self._chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._chars += len(text)
        if self._chars >= CHUNK_CHARS:
            self.hand_over()
        return len(text)

    def hand_over(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._chars = [], 0
            self._put(data)


async def stream(write: Callable[[TextIO], object]) -> AsyncIterator[bytes]:
    """What ``write`` writes, in chunks of UTF-8. It starts at once, on a thread of its own
    (not the event loop's executor, whose few threads the requests share); an error it raises
    before its first chunk is raised here, on the first ``__anext__``, so the caller can still
    answer with an error status; a later one ends the stream early (the status has been sent)
    and is logged. Closing the stream (the client went away) stops the writer."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(QUEUED_CHUNKS)
    stop = threading.Event()

    def put(item: bytes | BaseException | None) -> None:
        while not room.acquire(timeout=_POLL_S):
            if stop.is_set():
                raise _Stopped
        if stop.is_set():
            raise _Stopped
        try:
            loop.call_soon_threadsafe(chunks.put_nowait, item)
        except RuntimeError:  # the loop has closed meanwhile: nobody reads any more
            raise _Stopped from None

    def run() -> None:
        sink = _Sink(put)
        try:
            write(sink)  # type: ignore[arg-type]  # a TextIOBase is the text file it needs
            sink.hand_over()
            put(None)
        except _Stopped:
            pass
        except Exception as exc:  # handed to the reader, which raises or logs it
            with contextlib.suppress(_Stopped):
                put(exc)

    threading.Thread(target=run, name="phasegate-stream", daemon=True).start()
    first = True
    try:
        while True:
            item = await chunks.get()
            room.release()
            if item is None:
                break
            if isinstance(item, BaseException):
                if first:
                    raise item
                log.error("api.stream_failed", error=str(item))
                break
            first = False
            yield item
    finally:
        stop.set()
