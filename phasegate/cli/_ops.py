"""``phasegate tasks``, ``audit ...``, ``worker`` and ``dev``: the ledger and the processes."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
import typer
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger, LedgerSchemaError
from phasegate._signals import StopSignals
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
from phasegate.devserver import DevServer, DevServerError, DevServerInterrupted, stop_dev
from phasegate.settings import Settings
from phasegate.temporal import TemporalUnavailable, connect

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@contextmanager
def _ledger(s: Settings) -> Iterator[Ledger]:
    """The ledger, for reading: never created nor migrated here (``phasegate dev`` and
    ``phasegate worker`` do that). A missing, empty, older or unknown ledger, or an
    unreachable database, is one clear line and exit 1."""
    url = s.effective_ledger_url()
    parsed = sa.make_url(url)
    database = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if database not in (None, "", ":memory:") and not Path(str(database)).is_file():
        raise fail(
            f"no ledger at {parsed.render_as_string()}: nothing was ever recorded there "
            "(check --data-dir or --ledger-url)"
        )
    try:
        with Ledger(url, read_only=True) as ledger:
            ledger.check_schema()
            yield ledger
    except LedgerSchemaError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _ledger_failure(url, exc) from None


def _ledger_failure(url: str, exc: Exception) -> typer.Exit:
    return fail(
        f"ledger {sa.make_url(url).render_as_string()}: {exc.__class__.__name__}: "
        f"{str(exc).splitlines()[0]}"
    )


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
    """Run the workflows and activities until interrupted (Ctrl-C, SIGTERM, SIGHUP)."""
    signals = StopSignals.install()
    s = settings(
        level=None,
        data_dir=data_dir,
        address=address,
        namespace=namespace,
        ledger_url=ledger_url,
        task_queue=task_queue,
    )
    asyncio.run(_serve(s, signals))


async def _serve(s: Settings, signals: StopSignals) -> None:
    """Connect and run the worker until a signal asks to stop."""
    from worker import run_worker

    stop = signals.asyncio_event()
    try:
        client = await connect(s)
    except TemporalUnavailable as exc:
        raise fail(str(exc)) from None
    try:
        await run_worker(s, client, stop)
    except LedgerSchemaError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _ledger_failure(s.effective_ledger_url(), exc) from None


def dev(
    data_dir: DataDir = None,
    port: Annotated[int | None, typer.Option(help="Frontend port [default: 7233 or free].")] = None,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Serve the Temporal UI.")] = True,
    ui_port: Annotated[int | None, typer.Option(help="[default: 8233 or free]")] = None,
    ledger_url: LedgerUrl = None,
    stop: Annotated[
        bool,
        typer.Option(
            "--stop",
            help="Stop the `phasegate dev` of the data dir (or a Temporal server one left).",
        ),
    ] = False,
) -> None:
    """A real Temporal dev server (file database in the data dir) plus the worker.

    Ctrl-C, SIGTERM or a closed terminal stops both, at any moment; starting it again
    continues where it was. One `phasegate dev` per data dir (a second is refused). Other
    commands given the same data dir (or run from the same directory) find this server and
    its ledger; `phasegate dev --stop` stops it from another terminal.
    """
    signals = StopSignals.install()  # before anything starts: no moment without a handler
    base = settings(level=None, data_dir=data_dir, ledger_url=ledger_url)
    if stop:
        _stop_dev(base)
        return
    server = DevServer(base.data_dir, port=port, ui=ui, ui_port=ui_port)
    try:
        try:
            state = server.start(stop=signals.event)
        except DevServerInterrupted:
            raise typer.Exit(signals.exit_code) from None
        except DevServerError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:  # a data dir we may not write to, a path that is a file, ...
            raise fail(f"cannot run a dev server in {base.data_dir}: {exc}") from None
        s = base.model_copy(update={"address": state.address})
        typer.echo(
            f"phasegate dev: Temporal at {state.address}"
            + (f", UI at {state.ui_url}" if state.ui_url else "")
            + f"; ledger {s.effective_ledger_url()}; data in {base.data_dir}",
            err=True,
        )
        typer.echo("Press Ctrl-C to stop.", err=True)
        asyncio.run(_serve(s, signals))
    finally:
        server.stop()


def _stop_dev(s: Settings) -> None:
    try:
        stopped = stop_dev(s.data_dir)
    except DevServerError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot stop the dev server of {s.data_dir}: {exc}") from None
    if stopped.dev_pid is None and stopped.server is None:
        typer.echo(f"phasegate dev: nothing runs for {s.data_dir}", err=True)
        return
    parts = []
    if stopped.dev_pid is not None:
        parts.append(f"phasegate dev (pid {stopped.dev_pid})")
    if stopped.server is not None:
        parts.append(f"the Temporal server at {stopped.server.address} (pid {stopped.server.pid})")
    typer.echo(f"phasegate dev: stopped {' and '.join(parts)} of {s.data_dir}", err=True)
