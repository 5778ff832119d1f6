"""``phasegate iteration ...``: plan, execute, demo, deliver and retro an iteration, and see
where the iterations stand (velocity, burn-up, forecast)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

import governance as g
from phasegate.cli._common import (
    ActorOrToken,
    Address,
    AsJson,
    Comment,
    DataDir,
    Namespace,
    ProjectId,
    echo_json,
    fail,
    required_actor,
    settings,
    with_client,
)
from phasegate.cli._output import safe, say, table_console
from phasegate.cli._remote import over_api

if TYPE_CHECKING:  # rich and the messages are imported where they are used
    from rich.console import Console
    from rich.table import Table
    from temporalio.client import Client

    from governance.messages import (
        ExecutionStatus,
        Feedback,
        IterationStatus,
        Obstacle,
        Velocity,
        WorkItem,
    )

iteration_app = typer.Typer(
    help="Run the iterations of an iterative phase: plan, done, demo, deliver, retro.",
    no_args_is_help=True,
)

ItemsFile = Annotated[
    Path,
    typer.Option(
        "--file",
        help="A YAML list of work items: {id, title, owner, estimate} (estimate in "
        "person-days, owner a charter person).",
    ),
]


# -- reading the command line -----------------------------------------------------------------


def read_items(path: Path) -> list[WorkItem]:
    """The work items of ``path``; a problem exits 1 naming the file and the item."""
    try:
        return g.load_work_items(path)
    except g.GovernanceError as exc:
        for issue in exc.issues:
            say(f"error: {safe(path)}: {safe(issue)}", err=True)
        raise typer.Exit(1) from None


def parse_length(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return g.parse_duration(text)
    except ValueError:
        raise fail(
            f"--length {safe(text)}: not an ISO-8601 duration (e.g. P2W, P3W, P21D)", 2
        ) from None


def split_pair(option: str, value: str, left: str) -> tuple[str, str]:
    """``"who: text"`` -> ``("who", "text")``, split on the first colon; exit 2 without one."""
    head, colon, tail = value.partition(":")
    head, tail = head.strip(), tail.strip()
    if not colon or not head or not tail:
        raise fail(
            f'{option} "{safe(value)}": write it as "{left}: text" '
            f"({left}, a colon, then the text)",
            2,
        )
    return head, tail


def parse_feedback(values: list[str]) -> list[Feedback]:
    from governance.messages import Feedback

    out = []
    for value in values:
        person, text = split_pair("--feedback", value, "who")
        out.append(_checked(Feedback, "--feedback", value, person=person, text=text))
    return out


def parse_obstacles(values: list[str]) -> list[Obstacle]:
    from governance.messages import Obstacle

    out = []
    for value in values:
        role, text = split_pair("--obstacle", value, "role")
        out.append(_checked(Obstacle, "--obstacle", value, role=role, text=text))
    return out


def _checked(cls: type[Any], option: str, value: str, **data: object) -> Any:
    from phasegate.errors import ProjectError, command_input

    try:
        return command_input(cls, **data)
    except ProjectError as exc:
        raise fail(f'{option} "{safe(value)}": {safe(exc)}', 2) from None


# -- printing ---------------------------------------------------------------------------------


def _printer(console: Console) -> Callable[[str | Table], None]:
    """Print lines whole (a long forecast is not broken where the console width ends) and
    tables as tables."""

    def out(item: str | Table) -> None:
        console.print(item, soft_wrap=isinstance(item, str))

    return out


def when(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at is not None else "-"


def _effort(value: float) -> str:
    return f"{value:g}"


def print_iteration(it: IterationStatus, console: Console | None = None) -> None:
    out = _printer(console or table_console())
    out(f"{it.project_id}: iteration {it.number} of phase {it.phase}, step {it.state}")
    if it.goal:
        out(f"  goal:      {safe(it.goal)}")
    if it.planned_by:
        length = g.format_duration(it.length) if it.length else "-"
        out(f"  planned:   by {it.planned_by} at {when(it.planned_at)}, length {length}")
    if it.execute_ends_at:
        left = f" ({it.days_left:.1f} days left)" if it.days_left is not None else ""
        out(f"  execution: ends {when(it.execute_ends_at)}{left}")
    # Done counts every item, added ones too; committed is what the plan held.
    total = sum(i.estimate for i in it.items)
    out(
        f"  items:     {it.completed_items} of {len(it.items)} done "
        f"({_effort(it.completed_effort)} of {_effort(total)} person-days); committed "
        f"{it.committed_items} ({_effort(it.committed_effort)} person-days)"
        + (
            f", added {it.added_items} ({_effort(it.added_effort)} person-days)"
            if it.added_items
            else ""
        )
    )
    if it.items:
        from rich import box
        from rich.table import Table

        table = Table(box=box.SIMPLE_HEAD)
        for col in ("item", "title", "owner", "estimate", "state", "done by", "done at"):
            table.add_column(col, overflow="fold")
        for item in it.items:
            state = "done" if item.done_at else "open"
            table.add_row(
                safe(item.id) + (" (added)" if item.added else ""),
                safe(item.title),
                item.owner,
                _effort(item.estimate),
                state,
                item.done_by or "-",
                when(item.done_at),
            )
        out(table)
    if it.standups_sent or it.next_standup:
        out(f"  stand-ups: {it.standups_sent} sent; next {when(it.next_standup)}")
    if it.demo is not None:
        d = it.demo
        out(
            f"  demo:      recorded by {d.recorded_by} at {when(d.at)}; attendees: "
            f"{', '.join(safe(a) for a in d.attendees) or '-'}"
        )
        for fb in d.feedback:
            out(f"             {safe(fb.person)}: {safe(fb.text)}")
    elif it.demo_deadline is not None:
        level = f" (escalated to {it.demo_level})" if it.demo_level else ""
        out(f"  demo:      due by {when(it.demo_deadline)}{level}")
    if it.delivery is not None:
        out(f"  delivery:  {it.delivery} (decided by {it.delivery_by or '-'})")
    if it.retro is not None:
        r = it.retro
        out(f"  retro:     recorded by {r.recorded_by} at {when(r.at)}")
        for text in r.keep:
            out(f"             keep: {safe(text)}")
        for text in r.change:
            out(f"             change: {safe(text)}")
        for ob in r.obstacles:
            out(f"             obstacle for {ob.role}: {safe(ob.text)}")
    if it.ended_at is not None:
        reason = f" ({safe(it.end_reason)})" if it.end_reason else ""
        out(f"  ended:     {when(it.ended_at)}{reason}")
    if it.recorded_seq < it.last_seq or it.ledger_error:
        say(
            f"  ledger: {it.recorded_seq} of {it.last_seq} events recorded so far"
            + (f"; {it.ledger_error}" if it.ledger_error else "; the rest follows"),
            err=True,
        )


def forecast_line(ex: ExecutionStatus) -> str | None:
    """The forecast in one line, or None before the first iteration has finished."""
    f = ex.forecast
    if f is None:
        return None
    mean = when(f.mean_date) if f.mean_date else "not in sight"
    worst = when(f.pessimistic_date) if f.pessimistic_date else "not in sight"
    return (
        f"{_effort(f.remaining)} {f.unit} to go: mean {mean} "
        f"({_effort(f.mean_velocity)} {f.unit}/iteration), pessimistic {worst} "
        f"({_effort(f.pessimistic_velocity)} {f.unit}/iteration; {safe(f.method)}); "
        f"from {f.based_on} iteration(s)"
    )


def _velocity_row(v: Velocity) -> list[str]:
    return [
        str(v.number),
        v.outcome,
        f"{v.committed_items} / {_effort(v.committed_effort)}",
        f"{v.completed_items} / {_effort(v.completed_effort)}",
        f"{v.added_items} / {_effort(v.added_effort)}",
        "yes" if v.delivered else "no",
        when(v.ended_at),
    ]


def print_execution(ex: ExecutionStatus, console: Console | None = None) -> None:
    out = _printer(console or table_console())
    out(
        f"phase {ex.phase or '-'}: {ex.iterations} iteration(s) started; open: "
        + (str(ex.open_iteration) if ex.open_iteration is not None else "none")
    )
    if ex.history:
        from rich import box
        from rich.table import Table

        table = Table(title="Velocity (items / person-days)", box=box.SIMPLE_HEAD)
        for col in ("#", "outcome", "committed", "completed", "added", "delivered", "ended"):
            table.add_column(col)
        for v in ex.history:
            table.add_row(*_velocity_row(v))
        out(table)
    b = ex.burn_up
    share = f", {b.completed / b.total:.0%}" if b.total else ""
    out(
        f"  burn-up:   {_effort(b.completed)} of {_effort(b.total)} {b.unit} done "
        f"(baseline {_effort(b.baseline)} + added {_effort(b.added)}{share})"
    )
    line = forecast_line(ex)
    out(f"  forecast:  {line or 'none yet (after the first finished iteration)'}")
    if ex.backlog:
        effort = sum(i.estimate for i in ex.backlog)
        out(
            f"  backlog:   {len(ex.backlog)} item(s), {_effort(effort)} person-days: "
            + ", ".join(safe(i.id) for i in ex.backlog)
        )


# -- commands ---------------------------------------------------------------------------------


def _send(
    project_id: str,
    actor: str | None,
    step: str,
    body: dict[str, Any],
    call: Callable[[ModuleType, Client, str], Awaitable[IterationStatus]],
    as_json: bool,
    data_dir: Path | None,
    address: str | None,
    namespace: str | None,
) -> None:
    """Run one iteration command and print the iteration it answers: locally ``call`` with
    ``--as``; over the API ``body`` to ``/iteration/STEP``, as the token's person."""
    if (api := over_api()) is not None:
        from governance.messages import IterationStatus
        from phasegate.cli._project import project_path

        with api.session():
            api.acting(actor)
            it = api.post(project_path(project_id, "iteration", step), IterationStatus, body)
    else:
        from phasegate import iterations  # the Temporal SDK: here, not over the API

        by = required_actor(actor)
        s = settings(data_dir=data_dir, address=address, namespace=namespace)
        it = with_client(s, lambda client: call(iterations, client, by))
    echo_json(it) if as_json else print_iteration(it)


def _items(items: list[WorkItem]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json", exclude_unset=True) for i in items]


@iteration_app.command("plan")
def plan(
    project_id: ProjectId,
    file: ItemsFile,
    length: Annotated[
        str | None,
        typer.Option(help="The timebox, ISO-8601 (P3W).", show_default="the phase's length"),
    ] = None,
    goal: Annotated[str | None, typer.Option(help="The iteration's goal.")] = None,
    actor: ActorOrToken = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Plan the open iteration (the project manager or a planner role); execution starts."""

    timebox = parse_length(length)
    items = read_items(file)
    body = {"items": _items(items), "length": length, "goal": goal}
    _send(
        project_id,
        actor,
        "plan",
        body,
        lambda svc, client, by: svc.plan_iteration(
            client, project_id, by, items, length=timebox, goal=goal
        ),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("done")
def done(
    project_id: ProjectId,
    item_ids: Annotated[list[str], typer.Argument(help="The ids of the items done.")],
    actor: ActorOrToken = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Report items done (their owner or the project manager)."""

    _send(
        project_id,
        actor,
        "done",
        {"item_ids": item_ids},
        lambda svc, client, by: svc.report_done(client, project_id, by, item_ids),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("add")
def add(
    project_id: ProjectId,
    file: ItemsFile,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Add work to the executing iteration (recorded as a scope change)."""

    items = read_items(file)
    _send(
        project_id,
        actor,
        "items",
        {"items": _items(items), "comment": comment},
        lambda svc, client, by: svc.add_items(client, project_id, by, items, comment),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("close")
def close(
    project_id: ProjectId,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """End the execution timebox now; the demo is due from then."""

    _send(
        project_id,
        actor,
        "close",
        {"comment": comment},
        lambda svc, client, by: svc.close_execution(client, project_id, by, comment),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("demo")
def demo(
    project_id: ProjectId,
    feedback: Annotated[
        list[str],
        typer.Option(help='What a stakeholder said, as "who: text" (repeat for more).'),
    ],
    attendee: Annotated[
        list[str] | None, typer.Option(help="Who attended (repeat for more).")
    ] = None,
    actor: ActorOrToken = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Record the demo: who attended and who said what."""

    said = parse_feedback(feedback)
    body = {
        "attendees": attendee or [],
        "feedback": [f.model_dump(mode="json") for f in said],
    }
    _send(
        project_id,
        actor,
        "demo",
        body,
        lambda svc, client, by: svc.record_demo(
            client, project_id, by, attendees=attendee or [], feedback=said
        ),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("deliver")
def deliver(
    project_id: ProjectId,
    decision: Annotated[
        Literal["deliver", "hold"], typer.Option(help="deliver the increment, or hold it")
    ],
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Decide the delivery (the role the model names: the receiving organisation)."""

    _send(
        project_id,
        actor,
        "deliver",
        {"decision": decision, "comment": comment},
        lambda svc, client, by: svc.decide_delivery(client, project_id, by, decision, comment),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("retro")
def retro(
    project_id: ProjectId,
    keep: Annotated[list[str] | None, typer.Option(help="What to keep doing.")] = None,
    change: Annotated[list[str] | None, typer.Option(help="What to change.")] = None,
    obstacle: Annotated[
        list[str] | None,
        typer.Option(help='An obstacle, as "role: text": a task for that role to clear it.'),
    ] = None,
    actor: ActorOrToken = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Record the retrospective; the iteration ends and the next one opens for planning."""
    obstacles = parse_obstacles(obstacle or [])
    body = {
        "keep": keep or [],
        "change": change or [],
        "obstacles": [o.model_dump(mode="json") for o in obstacles],
    }
    _send(
        project_id,
        actor,
        "retro",
        body,
        lambda svc, client, by: svc.record_retro(
            client, project_id, by, keep=keep or [], change=change or [], obstacles=obstacles
        ),
        as_json,
        data_dir,
        address,
        namespace,
    )


@iteration_app.command("status")
def status(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """The open iteration (step, items, days left), velocity, burn-up and the forecast."""
    if (api := over_api()) is not None:
        from governance.messages import ExecutionStatus, IterationStatus
        from phasegate.cli._project import project_path

        answer: dict[str, Any] = api.get(project_path(project_id, "iterations"), dict[str, Any])
        ex = api.read(ExecutionStatus, answer.get("execution"))
        it = api.read(IterationStatus | None, answer.get("iteration"))
    else:
        from phasegate import iterations

        s = settings(data_dir=data_dir, address=address, namespace=namespace)
        ex, it = with_client(s, lambda client: iterations.iteration_status(client, project_id))
    if as_json:
        echo_json(
            {
                "execution": ex.model_dump(mode="json"),
                "iteration": it.model_dump(mode="json") if it is not None else None,
            }
        )
        return
    console = table_console()
    if it is not None:
        print_iteration(it, console)
    else:
        console.print(f"{project_id}: no open iteration")
    print_execution(ex, console)


__all__ = ["forecast_line", "iteration_app"]
