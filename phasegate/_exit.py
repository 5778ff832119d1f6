"""Exit a process that used the Temporal client without the interpreter-exit crash.

After the Temporal SDK's Rust core has run threads in a process, normal interpreter shutdown can
abort with ``Fatal Python error: PyGILState_Release`` (exit code 134, temporalio/sdk-python
issue #300), turning a successful command into a failure for whoever scripts against it. Shutting
workers down before clients and environments makes it rare; ``run_and_exit`` makes it
impossible for a CLI process: it runs the command, flushes output, drops every reference it
holds, collects garbage while the interpreter is still fully alive, and leaves with
``os._exit(code)``, which skips the interpreter finalisation where the crash happens.

Consequence: ``atexit`` handlers do not run and buffered files not flushed by the command are
lost. Commands must close what they open (``with``/``async with``) before returning.

An ``async`` command's event loop is left as it is when the command returns: tasks it left
running are abandoned, as ``os._exit`` abandons threads, not cancelled and awaited as
``asyncio.run`` would. Cancelling them can hang for ever: a Temporal ``Worker`` left running has
internal poll tasks, and once ``asyncio.run``'s teardown has cancelled those, the worker's own
shutdown (run by the same teardown) waits in the SDK core's ``finalize_shutdown`` for polls
that nobody makes any more. Whether it gets that far depends on the order in which the
cancelled tasks resume, which is why the hang showed on some machines only.
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # asyncio where an async command runs: a light command starts without it
    import asyncio

__all__ = ["exit_code", "run_and_exit"]

Command = Callable[[], Awaitable[int | None] | int | None]


def exit_code(value: object) -> int:
    """Map a command's return value or ``SystemExit.code`` to a process exit code (0..255).

    ``None`` → 0; an int → itself (1 when outside 0..255); anything else (a message, as in
    ``sys.exit("bad input")``) is written to stderr → 1. ``True``/``False`` count as 1/0.
    """
    if value is None:
        return 0
    if isinstance(value, int):
        return value if 0 <= value <= 255 else 1
    print(value, file=sys.stderr)  # noqa: T201 - the message sys.exit would have printed
    return 1


_abandoned: list[asyncio.Runner] = []
"""Event loops of finished ``async`` commands, kept (never closed) until ``os._exit``."""


def _run(command: Command) -> int:
    try:
        result = command()
        if inspect.isawaitable(result):
            result = _run_async(result)
        return exit_code(result)
    except SystemExit as exc:  # typer/click standalone mode, sys.exit()
        return exit_code(exc.code)
    except KeyboardInterrupt:
        return 130
    except BaseException:
        traceback.print_exc()
        return 1


def _run_async(awaitable: Awaitable[int | None]) -> int | None:
    """Run ``awaitable`` to its end (Ctrl-C cancels it, as with ``asyncio.run``), then leave its
    loop and whatever tasks it left running alone: see the module's docstring."""
    import asyncio

    runner = asyncio.Runner()
    _abandoned.append(runner)  # no Runner.close(): that cancels and awaits every leftover task
    return runner.run(_await(awaitable))


async def _await(awaitable: Awaitable[int | None]) -> int | None:
    return await awaitable


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed stream, or reader went away (EPIPE)
            pass


def run_and_exit(command: Command) -> NoReturn:
    """Run ``command`` and end the process with its exit code, never via interpreter shutdown.

    ``command`` is a callable taking no arguments: a plain function, a typer app, or an ``async``
    function (a coroutine factory, run to its end on a loop that is then abandoned). Its exit
    code is its return value (``None`` → 0), or its ``SystemExit`` code; ``KeyboardInterrupt``
    → 130; any other exception prints a traceback to stderr → 1. Usage in a console-script
    entry point::

        def main() -> NoReturn:
            run_and_exit(app)
    """
    code = _run(command)
    del command
    logging.shutdown()  # flush and close log handlers
    _flush()
    gc.collect()  # drop clients/workers/runtimes while the interpreter is whole
    _flush()
    os._exit(code)
