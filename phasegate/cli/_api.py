"""``phasegate api``: the REST API alone (uvicorn), against the configured Temporal server and
ledger, for a cluster; ``phasegate dev`` serves it beside the worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from phasegate._signals import StopSignals
from phasegate.cli._common import (
    Address,
    DataDir,
    LedgerUrl,
    LogLevelOption,
    Namespace,
    TaskQueue,
    fail,
    settings,
)
from phasegate.cli._ledger import existing
from phasegate.cli._output import say
from phasegate.settings import Settings

if TYPE_CHECKING:
    from ledger import Ledger


def api(
    host: Annotated[str, typer.Option(help="The interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port to listen on.")] = 8080,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    ledger_url: LedgerUrl = None,
    task_queue: TaskQueue = None,
    log_level: LogLevelOption = None,
) -> None:
    """Serve the REST API until interrupted (Ctrl-C, SIGTERM, SIGHUP): OpenAPI at
    /api/openapi.json, docs at /api/docs. Requests authenticate with a personal API token
    (`phasegate token create`) or, with PHASEGATE_OIDC_* set, an OpenID Connect token.
    The ledger must exist (`phasegate worker` or `dev` creates it)."""
    signals = StopSignals.install()
    s = settings(
        level=None,
        log_level=log_level,
        data_dir=data_dir,
        address=address,
        namespace=namespace,
        ledger_url=ledger_url,
        task_queue=task_queue,
    )
    with existing(s) as ledger:
        import asyncio

        asyncio.run(_serve(s, ledger, host, port, signals))


async def _serve(s: Settings, ledger: Ledger, host: str, port: int, signals: StopSignals) -> None:
    """Connect on this loop (the one uvicorn serves on), then serve until a signal."""
    from phasegate.api import create_app
    from phasegate.temporal import TemporalUnavailable, connect
    from phasegate.webserver import WebServer, WebServerFailed

    try:
        client = await connect(s)
    except TemporalUnavailable as exc:
        raise fail(str(exc)) from None
    web = WebServer(create_app(s, client=client, ledger=ledger), host=host, port=port)
    import asyncio

    stop = signals.asyncio_event()
    try:
        await web.start()
    except WebServerFailed:
        raise fail(f"the API could not listen on {host}:{port} (see the log above)") from None
    say(f"phasegate api: {web.url}/api/docs (ledger {ledger.display_url})", err=True)
    waiting = {asyncio.create_task(stop.wait()), asyncio.create_task(web.wait())}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()
        await web.stop()
