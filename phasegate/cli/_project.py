"""``phasegate project ...``, ``gate ...``, ``hold|resume|cancel``: projects on Temporal."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

import governance as g
from phasegate import models
from phasegate.choices import missing_reason
from phasegate.cli._common import (
    ActorOrToken,
    Address,
    AsJson,
    Comment,
    DataDir,
    LedgerUrl,
    Namespace,
    OnBehalfOf,
    ProjectId,
    TaskQueue,
    echo_json,
    fail,
    print_issues,
    required_actor,
    settings,
    with_client,
    with_connection,
)
from phasegate.cli._control import print_control
from phasegate.cli._delegate import describe as describe_delegation
from phasegate.cli._deliverable import describe
from phasegate.cli._history import history
from phasegate.cli._iteration import forecast_line
from phasegate.cli._ledger import reading, shown_url
from phasegate.cli._output import safe, say
from phasegate.cli._remote import Remote, over_api
from phasegate.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Client

    from governance.messages import GateStatus, ProjectStatus
    from phasegate import service
    from phasegate.temporal import Connection
    from phasegate.views import ProjectRow

project_app = typer.Typer(help="Start, inspect and list projects.", no_args_is_help=True)
gate_app = typer.Typer(help="Request and decide gates.", no_args_is_help=True)


@project_app.command("start")
def start(
    charter: Annotated[Path, typer.Argument(help="The project charter (YAML).")],
    model: Annotated[
        str | None,
        typer.Option(
            help="A model name, or a local model FILE to use as it is (shown as a local file "
            "model).",
            show_default="the built-in or published model the charter names",
        ),
    ] = None,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    task_queue: TaskQueue = None,
    ledger_url: LedgerUrl = None,
    actor: Annotated[
        str | None,
        typer.Option("--as", help="Who starts it, for the record.", show_default="your login name"),
    ] = None,
) -> None:
    """Start a project under its governance model; prints the project id.

    The model the charter names comes from the built-ins or the ledger's registry
    (`phasegate model publish`), never from a file found beside the charter.
    """
    if (api := over_api()) is not None:
        say(_start_over_api(api, charter, model, actor))
        return
    from phasegate import service

    s = settings(
        data_dir=data_dir,
        address=address,
        namespace=namespace,
        task_queue=task_queue,
        ledger_url=ledger_url,
    )
    starter = actor if actor is not None else _login_name()
    if starter is not None and (not starter or len(starter) > 64 or not starter.isprintable()):
        raise fail(f"--as {safe(starter)!r}: give a name of 1 to 64 printable characters", 2)
    with reading(s) as ledger:  # the Ledger itself: the start checks the project id in it
        try:
            c, m = models.charter_and_model(charter, model, models.Registry(ledger, shown_url(s)))
        except g.GovernanceError as exc:
            raise print_issues(exc) from None
        pid = with_client(
            s,
            lambda client: service.start_project(
                client,
                c,
                m.model,
                task_queue=s.task_queue,
                model_source=m.source,
                ledger=ledger,
                started_by=starter,
            ),
        )
    say(pid)


def _start_over_api(api: Remote, charter: Path, model: str | None, actor: str | None) -> str:
    """``project start`` over the API: the charter checked here as locally (its own
    problems, one per line), then sent as it is; the model a name the server resolves
    (built-in or published there), never a local file. The project id."""
    if model is not None and not g.is_model_ref(model):
        raise fail(
            f"--model {safe(model)}: a local model file does not go over the API; publish it "
            "in the API's registry and give its name@version",
            2,
        )
    try:
        g.load_charter(charter)
        body = charter.read_bytes()
    except g.GovernanceError as exc:
        raise print_issues(exc) from None
    with api.session():
        api.acting(actor)
        started: dict[str, Any] = api.post(
            "/api/projects",
            dict[str, Any],
            content=body,
            headers={"Content-Type": "application/yaml"},
            params={"model": model} if model else None,
        )
    pid: str = api.read(str, started.get("project_id"))
    return pid


def _login_name() -> str | None:
    """The login name, when the system knows one that fits the record."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return None
    return name if 0 < len(name) <= 64 and name.isprintable() else None


def _print_status(st: ProjectStatus, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    where = st.state if st.phase is None else f"{st.phase} ({safe(st.phase_title)})"
    source = f"{safe(st.model_source.describe())}, " if st.model_source else ""
    say(f"{st.project_id}: {safe(st.title)}")
    say(f"  model:  {st.model} ({source}sha256 {st.model_hash[:12]})")
    if st.ended is not None:
        e = st.ended
        where = f" in phase {e.phase}" if e.phase else ""
        say(
            f"  ended:  {e.outcome} by {safe(e.by)} at {_minute(e.at)}{where}"
            + (f": {safe(e.comment)}" if e.comment else "")
        )
    elif st.outcome is not None:
        say(f"  ended:  {st.outcome}")
    # An ended project's state is how it ended, as `project list --state` names it: the
    # lifecycle's "closed" holds a rejected project too.
    state = st.outcome or st.state
    say(f"  state:  {state}" + ("  [ON HOLD]" if st.on_hold else ""))
    if st.phase is not None:
        say(
            f"  phase:  {where}, {st.phase_index + 1 if st.phase_index is not None else '?'}"
            f" of {len(st.phases)}, since {_day(st.phase_started_at)} "
            f"({_days(now - st.phase_started_at)})"
        )
    if st.phase_opens_at:
        say(f"  opens:  {_minute(st.phase_opens_at)} ({_until(st.phase_opens_at, now)})")
    if st.on_hold and st.held_since is not None:
        say(
            f"  held:   since {_minute(st.held_since)} by {safe(st.held_by or '?')} "
            f"({_days(now - st.held_since)}; every clock waits)"
            + (f": {safe(st.held_reason)}" if st.held_reason else "")
        )
    if st.last_gate is not None and st.outcome is None:
        lg = st.last_gate
        by = f" by {safe(lg.by)}" if lg.by else ""
        say(
            f"  last gate: {lg.gate} round {lg.round}: {lg.describe()}{by} at {_minute(lg.at)}"
            + (f": {safe(lg.comment)}" if lg.comment else "")
        )
    if st.gate is not None:
        for line in gate_lines(st.gate, now, held=st.on_hold):
            say(line)
    if st.deliverables:
        missing = sum(not d.present for d in st.deliverables)
        say(
            f"  deliverables: {len(st.deliverables) - missing} of {len(st.deliverables)} "
            "present" + (" (`gate request` is refused until all are)" if missing else "")
        )
        for d in st.deliverables:
            say(f"          {describe(d)}")
    ex = st.execution
    if ex is not None:
        open_it = f"{ex.open_iteration} open" if ex.open_iteration is not None else "none open"
        say(
            f"  iteration: {open_it}, {len(ex.history)} finished "
            f"(`phasegate iteration status {st.project_id}`)"
        )
        if (shown := forecast_line(ex)) is not None:
            say(f"  forecast: {shown}")
    print_control(st)
    for delegation in st.delegations:
        say(f"  delegation {describe_delegation(delegation)}")
    say(f"  audit:  {st.last_seq} events (`phasegate project history {st.project_id}`)")
    if st.recorded_seq < st.last_seq or st.ledger_error:
        say(
            f"  ledger: {st.recorded_seq} of {st.last_seq} events recorded so far"
            + (f"; {st.ledger_error}" if st.ledger_error else "; the rest follows"),
            err=True,
        )


def gate_lines(gate: GateStatus, now: datetime, *, held: bool = False) -> list[str]:
    """The open gate: its round and rule, each vote (who, when, what, why), who is still
    awaited, the clock (deadline, reminder) and the escalation, as status lines."""
    pad = " " * 10
    lines = [
        f"  gate:   {gate.gate}: {safe(gate.title)}",
        f"{pad}round {gate.round}, rule {gate.rule}, {gate.approvals}/{gate.approvals_needed} "
        f"approvals; opened {_minute(gate.opened_at)} by {safe(gate.requested_by)}",
    ]
    for vote in gate.votes:
        who = (f"{safe(vote.by)} for " if vote.by else "") + safe(vote.actor)
        who += "" if vote.counted else " (adviser, not counted)"
        at_level = f" at level {vote.level}" if vote.level else ""
        lines.append(
            f"{pad}{who}: {vote.decision}{at_level} at {_minute(vote.at)}"
            + (f" ({safe(vote.comment)})" if vote.comment else "")
        )
    if gate.required_missing:
        lines.append(f"{pad}required still missing: {', '.join(gate.required_missing)}")
    lines.append(f"{pad}awaiting: {safe(', '.join(gate.awaited)) or '-'}")
    if gate.advice_awaited:
        lines.append(f"{pad}advice awaited: {safe(', '.join(gate.advice_awaited))}")
    if gate.deadline is not None:
        clock = "stopped while held" if held else _until(gate.deadline, now)
        reminder = ""
        if gate.reminder_at is not None and not gate.escalations:
            sent = "sent" if gate.reminded else "not sent yet"
            reminder = f"; reminder {_minute(gate.reminder_at)} ({sent})"
        lines.append(f"{pad}deadline: {_minute(gate.deadline)} ({clock}){reminder}")
    elif gate.overdue_since is not None:
        clock = "stopped while held" if held else _until(gate.overdue_since, now)
        lines.append(
            f"{pad}deadline: {_minute(gate.overdue_since)} ({clock}); nobody above to "
            "escalate to: it waits for a decision"
        )
    for esc in gate.escalations:
        lines.append(f"{pad}escalated to {esc.level} at {_minute(esc.at)}")
    if gate.level is not None:
        lines.append(f"{pad}decides now: {safe(', '.join(gate.eligible)) or 'nobody'}")
    return lines


def _minute(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


def _day(at: datetime) -> str:
    return at.date().isoformat()


def _days(span: timedelta) -> str:
    days = span.days
    return f"{days} day{'' if days == 1 else 's'}"


def _until(at: datetime, now: datetime) -> str:
    from phasegate.cli._ops import when_due

    return when_due(at, now)


def _show(call: Callable[[Client], Awaitable[ProjectStatus]], as_json: bool, **flags: Any) -> None:
    """Run one status-returning call against the server and print what it returns."""
    st = with_client(settings(**flags), call)
    echo_json(st) if as_json else _print_status(st)


def project_path(project_id: str, *rest: str) -> str:
    """The API path of a project (or of ``rest`` under it). An id no charter can have
    (``..``, ``a/b``) names no project, as locally: said here, nothing sent."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(g.Slug).validate_python(project_id)
    except ValidationError:
        raise fail(f"no project {safe(project_id)}") from None
    return "/".join([f"/api/projects/{project_id}", *rest])


def remote_status(api: Remote, path: str) -> ProjectStatus:
    """A project's status from the API."""
    from governance.messages import ProjectStatus

    st: ProjectStatus = api.get(path, ProjectStatus)
    return st


def remote_command(
    api: Remote, actor: str | None, path: str, body: dict[str, Any]
) -> ProjectStatus:
    """A command over the API, as the token's person (``--as`` another: refused first)."""
    from governance.messages import ProjectStatus

    with api.session():
        api.acting(actor)
        st: ProjectStatus = api.post(path, ProjectStatus, body)
        return st


def _warn_unless(polled: bool, s: Settings) -> None:
    """One line on stderr when no worker polls the task queue: nothing will answer."""
    if not polled:
        typer.echo(
            f"warning: no worker polls task queue {s.task_queue!r} (namespace "
            f"{s.namespace!r}): commands get no answer and expire (nothing is applied) "
            "until `phasegate dev` or `phasegate worker` runs",
            err=True,
        )


@project_app.command("status")
def status(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    task_queue: TaskQueue = None,
) -> None:
    """Phase, the open gate with its votes and who is still awaited, deadlines."""
    if (api := over_api()) is not None:
        st = remote_status(api, project_path(project_id))
        echo_json(st) if as_json else _print_status(st)
        return
    from phasegate import service

    s = settings(data_dir=data_dir, address=address, namespace=namespace, task_queue=task_queue)

    async def call(client: Connection) -> ProjectStatus:
        import asyncio

        from phasegate.temporal import workers_polling

        # Asked at once (the messages are imported while the others travel); answered as if
        # one by one: the warning first, then the status or its error, then what Temporal says.
        polled, st, ended = await asyncio.gather(
            workers_polling(client, s.task_queue),
            service.status(client, project_id),
            service.ended_outside_governance(client, [project_id]),
            return_exceptions=True,
        )
        if isinstance(polled, BaseException):
            raise polled
        _warn_unless(polled, s)
        if isinstance(st, BaseException):
            raise st
        if isinstance(ended, BaseException):
            raise ended
        if st.outcome is None and ended:
            say(
                f"warning: the workflow of {project_id} is {ended[0].status} in Temporal "
                "without an end in its audit trail (ended outside governance); this is "
                "its last state",
                err=True,
            )
        return st

    st = with_connection(s, call)
    echo_json(st) if as_json else _print_status(st)


@project_app.command("list")
def list_projects(
    phase: Annotated[str | None, typer.Option(help="Only projects in this phase.")] = None,
    awaiting: Annotated[
        str | None, typer.Option(help="Only projects awaiting this gate (e.g. idea_gate).")
    ] = None,
    rag: Annotated[
        Literal["red", "amber", "green"] | None,
        typer.Option(help="Only projects whose worst RAG colour is this."),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only projects with a decision past its deadline.")
    ] = False,
    held: Annotated[bool, typer.Option("--held", help="Only projects on hold.")] = False,
    state: Annotated[
        Literal["open", "closed", "rejected", "cancelled"] | None,
        typer.Option(help="Only open projects, or those ended so."),
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    task_queue: TaskQueue = None,
) -> None:
    """The portfolio, from Temporal's visibility store: one row per project with its phase,
    what it awaits, its project manager, the days left to its next deadline (or overdue) and
    the worst RAG colour (- before the first progress report)."""
    from phasegate.views import filter_clash

    clash = filter_clash(
        awaiting=awaiting, held=held, state=state, overdue=overdue, option=lambda n: f"--{n}"
    )
    if clash is not None:
        raise fail(clash, 2)
    if (api := over_api()) is not None:
        filters = {"phase": phase, "awaiting": awaiting, "rag": rag, "state": state}
        flags = {"held": held, "overdue": overdue}
        params = {k: v for k, v in filters.items() if v is not None}
        params |= {k: "true" for k, v in flags.items() if v}
        from phasegate.views import PORTFOLIO_PAGE, ProjectRow

        _print_rows(api.pages("/api/projects", ProjectRow, params, PORTFOLIO_PAGE), as_json)
        return
    from phasegate import service

    s = settings(data_dir=data_dir, address=address, namespace=namespace, task_queue=task_queue)
    now = datetime.now(UTC)

    async def call(client: Connection) -> list[service.ProjectRow]:
        import asyncio

        from phasegate.temporal import workers_polling

        polled, rows = await asyncio.gather(  # at once; the warning first, as one by one
            workers_polling(client, s.task_queue),
            service.list_projects(
                client,
                phase=phase,
                awaiting=awaiting,
                rag=rag,
                held=held,
                state=state,
                overdue_at=now if overdue else None,
            ),
            return_exceptions=True,
        )
        if isinstance(polled, BaseException):
            raise polled
        _warn_unless(polled, s)
        if isinstance(rows, BaseException):
            raise rows
        return rows

    _print_rows(with_connection(s, call), as_json, now)


def _print_rows(rows: list[ProjectRow], as_json: bool, now: datetime | None = None) -> None:
    if as_json:
        echo_json([asdict(r) for r in rows])
        return
    print_portfolio(rows, now or datetime.now(UTC))


def print_portfolio(rows: list[ProjectRow], now: datetime) -> None:
    """The portfolio as a table, each value cut to fit the terminal's width (whole when
    piped); titles and names are data: escaped, no markup."""
    if not rows:
        say("no projects")
        return
    from rich.cells import cell_len

    header = ("project", "title", "model", "phase", "awaiting", "manager", "due", "RAG")
    cells = [
        (
            safe(r.project_id),
            safe(r.title) or "-",
            _model_of(r),
            safe(r.phase) + ("" if r.status in ("running", "completed") else f" ({r.status})"),
            _awaiting_of(r),
            safe(", ".join(r.managers)) or "-",
            _due_of(r, now),
            r.rag or "-",
        )
        for r in rows
    ]
    lens = [tuple(map(cell_len, c)) for c in [header, *cells]]  # each cell's width, once
    natural = [max(n[i] for n in lens) for i in range(len(header))]
    # On a narrow terminal the long texts give way first (widest first); the project id (the
    # next command needs it), the due date and the RAG colour stay whole. Columns are three
    # characters apart. Laid out here rather than by rich's Table: the same table, a tenth of
    # the time at a thousand rows.
    available = _terminal_width() - 3 * (len(header) - 1)
    widths = natural
    if sum(natural) > available:
        # The model keeps room for a character of its name, the ellipsis and its @version.
        version = max((cell_len(_version_of(c[_MODEL])) for c in cells), default=0)
        least = (natural[0], 4, max(4, version + 2), 4, 4, 4, natural[6], natural[7])
        widths = shrink_to(natural, least, available)
    rule = "─" * (sum(widths) + 3 * (len(widths) - 1))
    lines = [_row(c, widths, n) for c, n in zip([header, *cells], lens, strict=True)]
    say("\n".join([lines[0], rule, *lines[1:]]))  # one write


def _row(cells: Sequence[str], widths: Sequence[int], lens: Sequence[int]) -> str:
    """One line of the table: each cell (``lens`` cells wide) padded to its column, or cut
    with an ellipsis (the model's name rather than its @version: ``projektf…@1.0``)."""
    from rich.cells import set_cell_size

    out = []
    for i, (text, width, n) in enumerate(zip(cells, widths, lens, strict=True)):
        if n > width:
            cut = _cut_model(text, width) if i == _MODEL else _cut(text, width)
            out.append(set_cell_size(cut, width))
        else:
            out.append(text + " " * (width - n))
    return "   ".join(out).rstrip()


_MODEL = 2
"""The column of the model in ``print_portfolio``'s table."""


def _cut(text: str, width: int) -> str:
    """``text``, cut to ``width`` cells with an ellipsis when longer."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)) + "…"


def _version_of(model: str) -> str:
    """The ``@version`` of a model cell (``acme@1.0 (published, ...)``); empty if none."""
    ref = model.partition(" ")[0]
    name, at, version = ref.partition("@")
    return f"{at}{version}" if name and at else ""


def _cut_model(text: str, width: int) -> str:
    """A model cell cut to ``width``: what follows its name@version goes first, then its
    name, never its @version while a character of the name and the ellipsis fit with it."""
    from rich.cells import cell_len, set_cell_size

    ref = text.partition(" ")[0]
    version = _version_of(text)
    if cell_len(text) <= width or cell_len(ref) < width or not version:
        return _cut(text, width)
    keep = width - cell_len(version) - 1
    if keep < 1:
        return _cut(text, width)
    name = ref[: len(ref) - len(version)]
    return set_cell_size(name, keep) + "…" + version


def _terminal_width() -> int:
    """The terminal's columns (COLUMNS first); piped, wide enough that nothing is cut.
    FORCE_COLOR marks a terminal, as rich and other tools read it."""
    import os
    import shutil
    import sys

    if sys.stdout.isatty() or os.environ.get("FORCE_COLOR"):
        return shutil.get_terminal_size().columns
    return 10_000


def shrink_to(natural: list[int], least: tuple[int, ...], room: int) -> list[int]:
    """Column widths that fit ``room``: the widest column gives up a character at a time,
    none below its ``least`` (nor below what it needs); what still overflows is cut."""
    widths = list(natural)
    while sum(widths) > room:
        shrinkable = [i for i, w in enumerate(widths) if w > min(least[i], natural[i])]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    return widths


def _model_of(r: ProjectRow) -> str:
    if r.model_source and r.model_source != "built-in":
        return f"{safe(r.model)} ({safe(r.model_source)}, sha256 {r.model_hash[:12]})"
    return safe(r.model)


def _awaiting_of(r: ProjectRow) -> str:
    if r.held_since is not None:
        return f"hold since {r.held_since.date().isoformat()} by {safe(r.held_by or '?')}"
    if r.awaiting == "hold":
        return "hold"
    kind, _, what = r.awaiting.partition(":")
    if not what:
        return "-"
    level = f" (escalated to {safe(r.level)})" if r.level and kind == "gate" else ""
    return f"{kind} {safe(what)}{level}"


def _due_of(r: ProjectRow, now: datetime) -> str:
    if r.deadline is None or r.held_since is not None or r.outcome is not None:
        return "-"
    return _until(r.deadline, now)


@gate_app.command("request")
def request(
    project_id: ProjectId,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Close the current phase and open its gate (the project manager)."""
    if (api := over_api()) is not None:
        path = project_path(project_id, "gate", "request")
        st = remote_command(api, actor, path, {"comment": comment})
        echo_json(st) if as_json else _print_status(st)
        return
    from phasegate import service

    by = required_actor(actor)
    _show(
        lambda client: service.request_gate(client, project_id, by, comment),
        as_json,
        data_dir=data_dir,
        address=address,
        namespace=namespace,
    )


@gate_app.command("decide")
def decide(
    project_id: ProjectId,
    decision: Annotated[
        Literal["approve", "reject", "rework"], typer.Option(help="approve, reject or rework")
    ],
    actor: ActorOrToken = None,
    comment: Comment = None,
    round: Annotated[
        int | None,
        typer.Option(
            "--round",
            min=1,
            help="The gate round voted on (status and the decide task show it); a vote for "
            "another round is refused.",
            show_default="the round open now",
        ),
    ] = None,
    on_behalf_of: OnBehalfOf = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Vote on the open gate. Exit 1 with the reason when the vote is refused; the vote that
    decides the gate says what it decided (gate passed: planning started). A reject or a
    rework needs --comment."""
    _reason(decision, comment)
    if (api := over_api()) is not None:
        path = project_path(project_id, "gate", "decide")
        body = {
            "decision": decision,
            "comment": comment,
            "round": round,
            "on_behalf_of": on_behalf_of,
        }
        st = remote_command(api, actor, path, body)
    else:
        from phasegate import service

        by = required_actor(actor)
        st = with_client(
            settings(data_dir=data_dir, address=address, namespace=namespace),
            lambda client: service.decide_gate(
                client, project_id, by, decision, comment, round=round, on_behalf_of=on_behalf_of
            ),
        )
    if as_json:
        echo_json(st)
        return
    if st.gate is None and st.last_gate is not None:  # this vote decided the gate
        say(st.last_gate.describe())
    _print_status(st)


def _board_command(action: str) -> None:
    def command(
        project_id: ProjectId,
        actor: ActorOrToken = None,
        comment: Comment = None,
        as_json: AsJson = False,
        data_dir: DataDir = None,
        address: Address = None,
        namespace: Namespace = None,
    ) -> None:
        _reason(action, comment)
        if (api := over_api()) is not None:
            st = remote_command(api, actor, project_path(project_id, action), {"comment": comment})
            echo_json(st) if as_json else _print_status(st)
            return
        from phasegate import service

        by = required_actor(actor)
        _show(
            lambda client: service.board_action(client, project_id, action, by, comment),
            as_json,
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )

    command.__doc__ = {
        "hold": "Put the project on hold; its clocks stop (the board's executive).",
        "resume": "Resume a held project; its deadlines move by the time held.",
        "cancel": "Cancel the project for good (the board's executive).",
    }[action]
    board_commands[action] = command


def _reason(what: str, comment: str | None) -> None:
    if missing_reason(what, comment):
        raise fail(
            f"{what} needs --comment: say why, for the record (status and history show it)", 2
        )


board_commands: dict[str, Callable[..., None]] = {}
for _action in ("hold", "resume", "cancel"):
    _board_command(_action)

project_app.command("history")(history)

__all__ = ["board_commands", "fail", "gate_app", "project_app"]
