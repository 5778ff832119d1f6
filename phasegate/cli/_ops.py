"""``phasegate tasks``, ``audit ...``, ``worker`` and ``dev``: the ledger and the processes."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
import typer
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger
from phasegate.cli._common import (
    Address,
    AsJson,
    DataDir,
    LedgerUrl,
    Namespace,
    TaskQueue,
    echo_json,
    fail,
    settings,
)
from phasegate.devserver import DevServer, DevServerError
from phasegate.settings import Settings
from phasegate.temporal import TemporalUnavailable, connect

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@contextmanager
def _ledger(s: Settings) -> Iterator[Ledger]:
    """The ledger, migrated; an unreachable database is one clear line and exit 1."""
    url = s.effective_ledger_url()
    try:
        with Ledger(url) as ledger:
            ledger.migrate()
            yield ledger
    except SQLAlchemyError as exc:
        raise fail(
            f"ledger {sa.make_url(url).render_as_string()}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}"
        ) from None


def tasks(
    assignee: Annotated[str | None, typer.Option(help="Only this person's tasks.")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project's tasks.")] = None,
    status: Annotated[
        Literal["open", "done", "cancelled", "all"], typer.Option(help="[default: open]")
    ] = "open",
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """The task inbox: gate tasks and gate decisions waiting for people."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with _ledger(s) as ledger:
        rows = ledger.tasks(
            assignee=assignee, project_id=project, status=None if status == "all" else status
        )
    if as_json:
        echo_json([t.model_dump(mode="json") for t in rows])
        return
    for t in rows:
        due = t.due.date().isoformat() if t.due else "-"
        typer.echo(f"{t.project_id}\t{t.assignee or t.role}\t{t.status}\tdue {due}\t{t.title}")


@audit_app.command("export")
def export(
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="[default: stdout]")] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Every audit event, in chain order, as JSON lines or CSV."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with _ledger(s) as ledger:
        if output is None:
            ledger.export(sys.stdout, fmt, project)
        else:
            with output.open("w", encoding="utf-8", newline="") as fh:
                count = ledger.export(fh, fmt, project)
            typer.echo(f"{count} events written to {output}", err=True)


@audit_app.command("verify")
def verify(
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Recompute every hash chain; exit 1 and name the first broken event if any."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with _ledger(s) as ledger:
        report = ledger.verify(project)
    if as_json:
        echo_json(report)
    elif report.ok:
        typer.echo(f"ok: {report.events_checked} events in {report.projects} project(s) verified")
    else:
        for b in report.broken:
            typer.echo(f"broken: project {b.project_id} at seq {b.seq}: {b.reason}")
    if not report.ok:
        raise typer.Exit(1)


def worker(
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    ledger_url: LedgerUrl = None,
    task_queue: TaskQueue = None,
) -> None:
    """Run the workflows and activities until interrupted."""
    from worker import WorkerRefused, run_worker

    s = settings(
        level=None,
        data_dir=data_dir,
        address=address,
        namespace=namespace,
        ledger_url=ledger_url,
        task_queue=task_queue,
    )

    async def main() -> None:
        stop = _stop_on_signals()
        try:
            client = await connect(s)
        except TemporalUnavailable as exc:
            raise fail(str(exc)) from None
        try:
            await run_worker(s, client, stop)
        except WorkerRefused as exc:
            raise fail(str(exc)) from None

    asyncio.run(main())


def dev(
    data_dir: DataDir = None,
    port: Annotated[int | None, typer.Option(help="Frontend port [default: 7233 or free].")] = None,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Serve the Temporal UI.")] = True,
    ui_port: Annotated[int | None, typer.Option(help="[default: 8233 or free]")] = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """A real Temporal dev server (file database in the data dir) plus the worker.

    Ctrl-C stops both; starting it again continues where it was. Other commands given the
    same data dir (or run from the same directory) find this server and its ledger.
    """
    from worker import run_worker

    base = settings(level=None, data_dir=data_dir, ledger_url=ledger_url)

    async def main() -> None:
        server = DevServer(base.data_dir, port=port, ui=ui, ui_port=ui_port)
        try:
            state = await asyncio.to_thread(server.start)
        except DevServerError as exc:
            raise fail(str(exc)) from None
        try:
            s = base.model_copy(update={"address": state.address})
            typer.echo(
                f"phasegate dev: Temporal at {state.address}"
                + (f", UI at {state.ui_url}" if state.ui_url else "")
                + f"; ledger {s.effective_ledger_url()}; data in {base.data_dir}",
                err=True,
            )
            typer.echo("Press Ctrl-C to stop.", err=True)
            stop = _stop_on_signals()
            try:
                client = await connect(s)
            except TemporalUnavailable as exc:
                raise fail(str(exc)) from None
            await run_worker(s, client, stop)
        finally:
            await asyncio.to_thread(server.stop)

    asyncio.run(main())


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
