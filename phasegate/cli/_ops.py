"""``phasegate tasks`` (and ``tasks complete``), ``audit ...``, ``worker`` and ``dev``: the
ledger and the processes."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

import typer
from typing_extensions import TypedDict  # pydantic reads this one on Python 3.11

from phasegate._signals import StopSignals
from phasegate.cli._common import (
    ActorOrToken,
    Address,
    AsJson,
    Comment,
    DataDir,
    LedgerUrl,
    LogLevelOption,
    Namespace,
    TaskQueue,
    echo_json,
    fail,
    fail_issues,
    required_actor,
    settings,
    with_client,
)
from phasegate.cli._ledger import existing, ledger_failure
from phasegate.cli._output import safe, say
from phasegate.cli._remote import over_api
from phasegate.settings import Settings

if TYPE_CHECKING:
    import asyncio

    from governance.audit import Task
    from ledger import Ledger
    from phasegate import service
    from phasegate.webserver import WebServer

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
tasks_app = typer.Typer(subcommand_metavar="[COMMAND [ARGS]...]")


@tasks_app.callback(invoke_without_command=True)
def tasks(
    ctx: typer.Context,
    assignee: Annotated[str | None, typer.Option(help="Only this person's tasks.")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project's tasks.")] = None,
    status: Annotated[
        Literal["open", "done", "cancelled", "withdrawn", "all"],
        typer.Option(help="Only tasks in this state."),
    ] = "open",
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """The task inbox: gate tasks and decisions waiting for people; complete a review task.

    Without a command: the tasks (open ones unless --status says otherwise), each with its id.
    `tasks complete ID --as ACTOR` completes a gate's review task.
    """
    if ctx.invoked_subcommand is not None:
        given = [
            str(p.opts[0])
            for p in ctx.command.params
            # Typer carries its own copy of click: its enum, compared by name.
            if p.name and getattr(ctx.get_parameter_source(p.name), "name", "") == "COMMANDLINE"
        ]
        if given:
            sub = ctx.invoked_subcommand
            raise fail(
                f"{', '.join(given)}: for the listing (`phasegate tasks`), not for "
                f"`tasks {sub}`: give {sub}'s options after `{sub}`",
                2,
            )
        return
    if (api := over_api()) is not None:
        from governance.audit import Task

        asked = {"assignee": assignee, "project": project, "status": status}
        params = {k: v for k, v in asked.items() if v is not None}
        rows = api.pages("/api/tasks", Task, params)
    else:
        s = settings(data_dir=data_dir, ledger_url=ledger_url)
        with existing(s) as ledger:
            rows = ledger.tasks(
                assignee=assignee, project_id=project, status=None if status == "all" else status
            )
    _print_tasks(rows, as_json)


def _print_tasks(rows: list[Task], as_json: bool) -> None:
    if as_json:
        echo_json([t.model_dump(mode="json") for t in rows])
        return
    if not rows:
        say("no tasks")
        return
    now = datetime.now(UTC)
    for t in rows:
        due = t.due.date().isoformat() if t.due else "-"
        if t.due is not None and t.status == "open":
            due += f" ({when_due(t.due, now)})"
        say(
            f"{t.id}\t{t.project_id}\t{t.assignee or t.role}\t{t.status}\tdue {due}\t"
            f"{safe(t.title)}"
        )


@tasks_app.command("complete")
def complete(
    task_id: Annotated[int, typer.Argument(help="The task's id, as `phasegate tasks` shows it.")],
    actor: ActorOrToken = None,
    comment: Comment = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Complete a review task of an open gate: as its assignee, or as the project manager.

    A decide task is done by deciding (`gate decide`, `change decide`, `exception decide`).
    """
    if (api := over_api()) is not None:
        from governance.audit import Task

        with api.session():
            api.acting(actor)
            task = api.get(f"/api/tasks/{task_id}", Task)
            api.post(f"/api/tasks/{task_id}/complete", dict, {"comment": comment})
    else:
        from phasegate import service

        s = settings(data_dir=data_dir, ledger_url=ledger_url, address=address, namespace=namespace)
        by = required_actor(actor)
        with existing(s) as ledger:
            done = with_client(
                s, lambda client: service.complete_task(client, ledger, task_id, by, comment)
            )
        task = done.task
    say(f"done: {safe(task.title)} ({task.project_id}, task {task.id})")


def when_due(at: datetime, now: datetime) -> str:
    """How far off ``at`` is: ``in 3 days``, ``overdue 2 days`` (calendar days, UTC); within
    a day, ``in 5 hours``, ``in 20 minutes``, ``overdue 3 hours``."""
    span = at - now
    if abs(span) < timedelta(days=1):
        minutes = int(abs(span).total_seconds() // 60)
        amount = _plural(minutes // 60, "hour") if minutes >= 60 else _plural(minutes, "minute")
        return f"in {amount}" if span >= timedelta(0) else f"overdue {amount}"
    days = (at.date() - now.date()).days
    return f"in {_plural(days, 'day')}" if days > 0 else f"overdue {_plural(-days, 'day')}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


@audit_app.command("export")
def export(
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    fmt: Annotated[Literal["jsonl", "csv"], typer.Option("--format")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="The file to write.", show_default="stdout"),
    ] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Every audit event, in chain order, as JSON lines or CSV.

    In CSV, a cell starting with =, +, -, @, tab, CR or ' gets a leading ' so that no
    spreadsheet runs it as a formula; drop it to get the recorded text back.
    """
    if (api := over_api()) is not None:
        if output is not None:
            _check_output(output)
        params = {"format": fmt} | ({"project": project} if project else {})
        if output is None:
            api.download("/api/audit/export", params, sys.stdout)
            return
        _export_to(output, lambda fh: api.download("/api/audit/export", params, fh))
        say(f"{_events_in(output, fmt)} events written to {safe(output)}", err=True)
        return
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    if output is not None:
        _check_output(output)
    with existing(s) as ledger:
        _require_events(ledger, project)
        if output is None:
            ledger.export(sys.stdout, fmt, project, iterations=True)
            return
        count = _export_to(output, lambda fh: ledger.export(fh, fmt, project, iterations=True))
    say(f"{count} events written to {safe(output)}", err=True)


def _check_output(output: Path) -> None:
    """A usage error (exit 2) unless ``output`` can be a new or replaced file."""
    if output.is_dir():
        raise fail(f"--output {safe(output)} is a directory: name a file in it", 2)
    if not output.parent.is_dir():
        raise fail(
            f"--output {safe(output)}: the directory {safe(output.parent)} does not exist", 2
        )


def _events_in(path: Path, fmt: str) -> int:
    """How many events an export file holds (a CSV cell may hold a line break)."""
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        if fmt == "jsonl":
            return sum(1 for line in fh if line.strip())
        return max(sum(1 for _ in csv.reader(fh)) - 1, 0)  # the header row


def _export_to(output: Path, write: Callable[[TextIO], int | None]) -> int | None:
    """Write through a temporary file beside ``output`` and rename it at the end, so a failed
    export leaves nothing behind (and an existing file as it was); what ``write`` returns."""
    try:
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    except OSError as exc:
        raise fail(f"--output {safe(output)}: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as fh:
            count = write(fh)
        os.replace(tmp, output)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise fail(f"--output {safe(output)}: {exc.strerror or exc}") from None
        raise
    return count


def _require_events(ledger: Ledger, project: str | None) -> None:
    """With ``--project``: exit 1 unless the ledger holds events for that project."""
    if project is not None and ledger.last_seq(project) == 0:
        raise fail(f"no events for project {safe(project)} in the ledger")


@audit_app.command("verify")
def verify(
    project: Annotated[
        str | None, typer.Option(help="Only this project (its chain and its iterations').")
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Recompute every hash chain and check the stored reports against the events that vouch
    for them; exit 1 and name the first broken event and each broken report if any. With
    Temporal reachable, also report projects whose workflow ended outside governance
    (terminated, failed, timed out or gone) while their chain records no end."""
    if (api := over_api()) is not None:
        data = api.get(
            "/api/audit/verify", dict[str, Any], {"project": project} if project else None
        )
        api.read(Verification, data)  # the fields shown are there (the JSON is shown whole)
        data["ended_outside_governance"] = data.pop("ended_outside_governance")  # last, as here
        _print_verification(data, as_json, "the API's Temporal server")
        return
    s = settings(data_dir=data_dir, ledger_url=ledger_url, address=address, namespace=namespace)
    with existing(s) as ledger:
        _require_events(ledger, project)
        report = ledger.verify(project, iterations=True)
        unfinished = ledger.unfinished_projects(project)
    outside = _ended_outside(s, unfinished)
    data = report.model_dump(mode="json")
    data["ended_outside_governance"] = None if outside is None else [vars(o) for o in outside]
    _print_verification(data, as_json, s.effective_address() if outside else "")


class _Break(TypedDict):
    project_id: str
    seq: int
    reason: str


class _ReportProblem(TypedDict):
    project_id: str
    kind: str
    number: int
    reason: str


class _Outside(TypedDict):
    project_id: str
    status: str


class Verification(TypedDict):
    """What ``audit verify`` shows of a verification (the local one's JSON, and the API's)."""

    ok: bool
    projects: int
    chains: int
    events_checked: int
    broken: list[_Break]
    reports_checked: int
    report_problems: list[_ReportProblem]
    ended_outside_governance: list[_Outside] | None


def _print_verification(data: dict[str, Any], as_json: bool, server: str) -> None:
    """``audit verify``'s answer (its JSON: the local command's and the API's are one),
    for people or as JSON; exit 1 when a chain or a report is broken, or a project ended
    outside governance (on ``server``)."""
    from phasegate.views import NOT_IN_TEMPORAL

    outside: list[dict[str, str]] = data["ended_outside_governance"] or []
    if as_json:
        echo_json(data)
    elif data["ok"]:
        checked = data["reports_checked"]
        reports = f", and {checked} report(s)" if checked else ""
        say(
            f"ok: {data['events_checked']} events in {data['projects']} project(s) verified "
            f"({data['chains']} chain(s)){reports}"
        )
    else:
        for b in data["broken"]:
            say(f"broken: project {b['project_id']} at seq {b['seq']}: {safe(b['reason'])}")
        for p in data["report_problems"]:
            line = f"{p['kind']} report #{p['number']} of {p['project_id']}: {p['reason']}"
            say(f"broken: {safe(line)}")
    ended = [o for o in outside if o["status"] != NOT_IN_TEMPORAL]
    for o in ended:
        say(
            f"ended outside governance: project {o['project_id']} ({o['status']} in Temporal; "
            "its audit trail records no end)"
        )
    for o in outside:
        if o["status"] == NOT_IN_TEMPORAL:
            say(
                f"note: project {o['project_id']} has no end in its audit trail and no workflow "
                f"on {server} (another server or namespace, or past Temporal's retention)",
                err=True,
            )
    if not data["ok"] or ended:
        raise typer.Exit(1)


def _ended_outside(s: Settings, unfinished: list[str]) -> list[service.EndedOutside] | None:
    """Projects that ended in Temporal without a terminal event; None if Temporal could not
    be asked (said on stderr: the chains alone were verified)."""
    from temporalio.service import RPCError

    from phasegate import service
    from phasegate.temporal import TemporalUnavailable, connect

    if not unfinished:
        return []

    async def ask() -> list[service.EndedOutside]:
        client = await connect(s)
        return await service.ended_outside_governance(client, unfinished)

    try:
        import asyncio

        return asyncio.run(ask())
    except (TemporalUnavailable, RPCError) as exc:
        say(
            f"note: Temporal not reachable ({safe(str(exc))}): projects that ended outside "
            "governance were not looked for",
            err=True,
        )
        return None


def worker(
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    ledger_url: LedgerUrl = None,
    task_queue: TaskQueue = None,
    log_level: LogLevelOption = None,
) -> None:
    """Run the workflows and activities until interrupted (Ctrl-C, SIGTERM, SIGHUP)."""
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
    import asyncio

    asyncio.run(_serve(s, signals))


async def _serve(s: Settings, signals: StopSignals) -> None:
    """Connect and run the worker until a signal asks to stop."""
    from sqlalchemy.exc import SQLAlchemyError

    from ledger import LedgerSchemaError
    from phasegate.temporal import TemporalUnavailable, connect
    from worker import WorkerRefused, run_worker

    stop = signals.asyncio_event()
    _check_notify_config(s)
    try:
        client = await connect(s)
    except TemporalUnavailable as exc:
        raise fail(str(exc)) from None
    try:
        await run_worker(s, client, stop)
    except (LedgerSchemaError, WorkerRefused) as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise ledger_failure(s, exc) from None


def dev(
    data_dir: DataDir = None,
    port: Annotated[
        int | None, typer.Option(help="Temporal frontend port.", show_default="7233 or free")
    ] = None,
    ui: Annotated[bool, typer.Option("--ui/--no-ui", help="Serve the Temporal UI.")] = True,
    ui_port: Annotated[
        int | None, typer.Option(help="Temporal UI port.", show_default="8233 or free")
    ] = None,
    web: Annotated[
        bool, typer.Option("--web/--no-web", help="Serve the REST API and the dashboard.")
    ] = True,
    web_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="REST API and dashboard port.", show_default="8080 or free"
        ),
    ] = None,
    ledger_url: LedgerUrl = None,
    stop: Annotated[
        bool,
        typer.Option(
            "--stop",
            help="Stop the `phasegate dev` of the data dir (or a Temporal server one left).",
        ),
    ] = False,
    log_level: LogLevelOption = None,
) -> None:
    """A real Temporal dev server (file database in the data dir), the worker, and the REST
    API with the dashboard (`web: URL`), all on 127.0.0.1.

    Ctrl-C, SIGTERM or a closed terminal stops them all, at any moment; starting it again
    continues where it was. One `phasegate dev` per data dir (a second is refused). Other
    commands given the same data dir (or run from the same directory) find this server and
    its ledger; `phasegate dev --stop` stops it from another terminal.
    """
    from phasegate.devserver import DevServer, DevServerError, DevServerInterrupted, reserve_port

    signals = StopSignals.install()  # before anything starts: no moment without a handler
    base = settings(level=None, log_level=log_level, data_dir=data_dir, ledger_url=ledger_url)
    if stop:
        _stop_dev(base)
        return
    if web_port is not None and not web:
        raise fail("--web-port and --no-web: a port for a web server not served; use one", 2)
    server = DevServer(base.data_dir, port=port, ui=ui, ui_port=ui_port)
    try:
        # The web port first: an explicit one in use is refused before anything starts.
        web_socket = reserve_port(server.ip, web_port) if web else None
    except DevServerError as exc:
        raise fail(str(exc)) from None
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
        say(
            f"phasegate dev: Temporal at {state.address}"
            + (f", UI at {state.ui_url}" if state.ui_url else "")
            + f"; ledger {s.effective_ledger_url()}; data in {base.data_dir}",
            err=True,
        )
        say("Press Ctrl-C to stop.", err=True)
        import asyncio

        asyncio.run(_serve_dev(s, signals, web_socket))
    finally:
        if web_socket is not None:
            web_socket.close()
        server.stop()


def _check_notify_config(s: Settings) -> None:
    """A bad notification configuration is said before anything starts (exit 1)."""
    from governance import GovernanceError
    from worker import notify_config

    try:
        notify_config(s)
    except GovernanceError as exc:
        raise fail_issues(f"PHASEGATE_NOTIFY_CONFIG {s.notify_config}", exc) from None


async def _serve_dev(s: Settings, signals: StopSignals, web_socket: socket.socket | None) -> None:
    """The worker and, on ``web_socket``, the API and dashboard, on one loop with one client
    and one ledger, until a signal asks to stop (or either of them fails)."""
    if web_socket is None:
        await _serve(s, signals)
        return
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from ledger import Ledger, LedgerSchemaError
    from phasegate.api import create_app
    from phasegate.temporal import TemporalUnavailable, connect
    from phasegate.webserver import WebServer, WebServerFailed
    from worker import WorkerRefused, run_worker

    stop = signals.asyncio_event()
    _check_notify_config(s)
    try:
        client = await connect(s)
    except TemporalUnavailable as exc:
        raise fail(str(exc)) from None
    try:
        with Ledger(s.effective_ledger_url()) as ledger:
            ledger.migrate()  # before the API answers: the worker would do it only now
            web = WebServer(create_app(s, client=client, ledger=ledger), sock=web_socket)
            try:
                await web.start()
            except WebServerFailed as exc:
                raise fail(str(exc)) from None
            say(f"web: {web.url}")
            say(
                "  sign in with a personal API token: phasegate token create --person ID",
                err=True,
            )
            failed = asyncio.create_task(_stop_when_done(web, stop))
            try:
                await run_worker(s, client, stop, ledger=ledger)
            finally:
                failed.cancel()
                await web.stop()
            if failed.done() and not failed.cancelled() and failed.result():
                raise fail(f"the web server at {web.url} stopped by itself (see the log above)")
    except (LedgerSchemaError, WorkerRefused) as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise ledger_failure(s, exc) from None


async def _stop_when_done(web: WebServer, stop: asyncio.Event) -> bool:
    """Set ``stop`` should the web server end by itself; True then."""
    await web.wait()
    stop.set()
    return True


def _stop_dev(s: Settings) -> None:
    from phasegate.devserver import DevServerError, stop_dev

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
