"""``phasegate project ...``, ``gate ...``, ``hold|resume|cancel``: projects on Temporal."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

import governance as g
from governance.messages import ProjectStatus
from phasegate import models
from phasegate.cli._common import (
    Actor,
    Address,
    AsJson,
    Comment,
    DataDir,
    LedgerUrl,
    Namespace,
    TaskQueue,
    echo_json,
    fail,
    print_issues,
    settings,
    with_client,
)
from phasegate.cli._control import print_control
from phasegate.cli._deliverable import describe
from phasegate.cli._iteration import forecast_line
from phasegate.cli._ledger import registry
from phasegate.cli._output import safe, say
from phasegate.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Client

    from phasegate import service

project_app = typer.Typer(help="Start, inspect and list projects.", no_args_is_help=True)
gate_app = typer.Typer(help="Request and decide gates.", no_args_is_help=True)

ProjectId = Annotated[str, typer.Argument(help="The project id (the charter's id).")]


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
    with registry(s) as published:
        try:
            c, m = models.charter_and_model(charter, model, published)
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
                ledger=published.ledger,
                started_by=starter,
            ),
        )
    say(pid)


def _login_name() -> str | None:
    """The login name, when the system knows one that fits the record."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return None
    return name if 0 < len(name) <= 64 and name.isprintable() else None


def _print_status(st: ProjectStatus) -> None:
    where = st.state if st.phase is None else f"{st.phase} ({safe(st.phase_title)})"
    source = f"{safe(st.model_source.describe())}, " if st.model_source else ""
    say(f"{st.project_id}: {safe(st.title)}")
    say(f"  model:  {st.model} ({source}sha256 {st.model_hash[:12]})")
    if st.outcome is not None:
        say(f"  outcome: {st.outcome}")
    say(f"  state:  {st.state}" + ("  [ON HOLD]" if st.on_hold else ""))
    if st.phase is not None:
        say(
            f"  phase:  {where}, {st.phase_index + 1 if st.phase_index is not None else '?'}"
            f" of {len(st.phases)}"
        )
    if st.phase_opens_at:
        say(f"  opens:  {st.phase_opens_at.isoformat()}")
    gate = st.gate
    if gate is not None:
        say(
            f"  gate:   {gate.gate}: {safe(gate.title)} (round {gate.round}, rule {gate.rule}, "
            f"{gate.approvals}/{gate.approvals_needed} approvals)"
        )
        if gate.required_missing:
            say(f"          required still missing: {', '.join(gate.required_missing)}")
        for vote in gate.votes:
            extra = f" at level {vote.level}" if vote.level else ""
            say(
                f"          {vote.actor}: {vote.decision}{extra}"
                + (f" ({safe(vote.comment)})" if vote.comment else "")
            )
        say(f"          awaiting: {', '.join(gate.awaited) or '-'}")
        if gate.deadline:
            say(
                f"          deadline: {gate.deadline.isoformat()}"
                + (f" (escalated to {gate.level})" if gate.level else "")
            )
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
        if (line := forecast_line(ex)) is not None:
            say(f"  forecast: {line}")
    print_control(st)
    say(f"  audit:  {st.last_seq} events")
    if st.recorded_seq < st.last_seq or st.ledger_error:
        say(
            f"  ledger: {st.recorded_seq} of {st.last_seq} events recorded so far"
            + (f"; {st.ledger_error}" if st.ledger_error else "; the rest follows"),
            err=True,
        )


def _show(call: Callable[[Client], Awaitable[ProjectStatus]], as_json: bool, **flags: Any) -> None:
    """Run one status-returning call against the server and print what it returns."""
    st = with_client(settings(**flags), call)
    echo_json(st) if as_json else _print_status(st)


async def _warn_without_worker(client: Client, s: Settings) -> None:
    """One line on stderr when no worker polls the task queue: nothing will answer."""
    from phasegate.temporal import workers_polling

    if not await workers_polling(client, s.task_queue):
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
    from phasegate import service

    s = settings(data_dir=data_dir, address=address, namespace=namespace, task_queue=task_queue)

    async def call(client: Client) -> ProjectStatus:
        await _warn_without_worker(client, s)
        st = await service.status(client, project_id)
        ended = await service.ended_outside_governance(client, [project_id])
        if st.outcome is None and ended:
            say(
                f"warning: the workflow of {project_id} is {ended[0].status} in Temporal "
                "without an end in its audit trail (ended outside governance); this is "
                "its last state",
                err=True,
            )
        return st

    st = with_client(s, call)
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
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
    task_queue: TaskQueue = None,
) -> None:
    """Projects from Temporal's visibility store: id, phase, what it awaits, model, status
    and the worst RAG colour (- before the first progress report)."""
    from phasegate import service

    s = settings(data_dir=data_dir, address=address, namespace=namespace, task_queue=task_queue)

    async def call(client: Client) -> list[service.ProjectRow]:
        await _warn_without_worker(client, s)
        return await service.list_projects(client, phase=phase, awaiting=awaiting, rag=rag)

    rows = with_client(s, call)
    if as_json:
        echo_json([asdict(r) for r in rows])
        return
    for r in rows:
        model = r.model
        if r.model_source:
            model += f" ({safe(r.model_source)}, sha256 {r.model_hash[:12]})"
        say(f"{r.project_id}\t{r.phase}\t{r.awaiting or '-'}\t{model}\t{r.status}\t{r.rag or '-'}")


@gate_app.command("request")
def request(
    project_id: ProjectId,
    actor: Actor,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Close the current phase and open its gate (the project manager)."""
    from phasegate import service

    _show(
        lambda client: service.request_gate(client, project_id, actor, comment),
        as_json,
        data_dir=data_dir,
        address=address,
        namespace=namespace,
    )


@gate_app.command("decide")
def decide(
    project_id: ProjectId,
    actor: Actor,
    decision: Annotated[
        Literal["approve", "reject", "rework"], typer.Option(help="approve, reject or rework")
    ],
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
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Vote on the open gate. Exit 1 with the reason when the vote is refused; the vote that
    decides the gate says what it decided (gate passed: planning started). A reject or a
    rework needs --comment."""
    from phasegate import service

    if decision in NEEDS_A_REASON:
        _reason(decision, comment)
    st = with_client(
        settings(data_dir=data_dir, address=address, namespace=namespace),
        lambda client: service.decide_gate(
            client, project_id, actor, decision, comment, round=round
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
        actor: Actor,
        comment: Comment = None,
        as_json: AsJson = False,
        data_dir: DataDir = None,
        address: Address = None,
        namespace: Namespace = None,
    ) -> None:
        from phasegate import service

        if action in NEEDS_A_REASON:
            _reason(action, comment)
        _show(
            lambda client: service.board_action(client, project_id, action, actor, comment),
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


NEEDS_A_REASON = frozenset({"reject", "rework", "hold", "cancel"})
"""A no, or a stop, is recorded with its reason: shown in status and history."""


def _reason(what: str, comment: str | None) -> None:
    if comment is None or not comment.strip():
        raise fail(
            f"{what} needs --comment: say why, for the record (status and history show it)", 2
        )


board_commands: dict[str, Callable[..., None]] = {}
for _action in ("hold", "resume", "cancel"):
    _board_command(_action)

__all__ = ["board_commands", "fail", "gate_app", "project_app"]
