"""Options every server-facing command takes, and running a command against Temporal."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from pydantic import BaseModel, ValidationError

from phasegate.cli._output import json_text, safe, say
from phasegate.errors import pydantic_message
from phasegate.logging import configure_logging
from phasegate.settings import Settings, get_settings

if TYPE_CHECKING:
    # Only for annotations: a command imports the Temporal SDK and the governance domain when
    # it runs, so that `phasegate model list` and `--help` start without them.
    from temporalio.client import Client

    from governance import GovernanceError, Issue
    from phasegate.temporal import Connection

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="PHASEGATE_DATA_DIR",
        help="Where `phasegate dev` keeps its server and ledger.",
        show_default="./.phasegate",
    ),
]
Address = Annotated[
    str | None,
    typer.Option(
        "--address",
        envvar="PHASEGATE_ADDRESS",
        help="Temporal frontend host:port.",
        show_default="the dev server of --data-dir",
    ),
]
Namespace = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        envvar="PHASEGATE_NAMESPACE",
        help="Temporal namespace.",
        show_default="default",
    ),
]
LedgerUrl = Annotated[
    str | None,
    typer.Option(
        "--ledger-url",
        envvar="PHASEGATE_LEDGER_URL",
        help="SQLAlchemy URL of the ledger.",
        show_default="SQLite in --data-dir",
    ),
]
TaskQueue = Annotated[
    str | None,
    typer.Option(
        "--task-queue",
        envvar="PHASEGATE_TASK_QUEUE",
        help="Temporal task queue of the worker.",
        show_default="phasegate",
    ),
]
LogLevelOption = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        envvar="PHASEGATE_LOG_LEVEL",
        help="Log level: debug, info, warning, error or critical; debug adds each ledger "
        "write and notification.",
        show_default="info",
    ),
]
Actor = Annotated[str, typer.Option("--as", help="The person (charter id) acting.")]
ActorOrToken = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The person (charter id) acting. Required, except over the API "
        "(PHASEGATE_API_URL), where the actor is the person of PHASEGATE_TOKEN.",
        show_default=False,
    ),
]
"""``--as`` of a command the REST API offers too (see ``required_actor``)."""
OnBehalfOf = Annotated[
    str | None,
    typer.Option(
        "--for",
        help="Vote for this person, as their substitute (they delegated to you, --as).",
    ),
]
Comment = Annotated[str | None, typer.Option("--comment", help="A comment for the record.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print data as JSON.")]
ProjectId = Annotated[str, typer.Argument(help="The project id (the charter's id).")]


def settings(*, level: str | None = "WARNING", local: bool = False, **flags: Any) -> Settings:
    """Settings from flags and ``PHASEGATE_*``; logging configured at ``level`` (None: the
    settings' own level, for long-running commands, which run the worker and so configure
    structlog's loggers too; a short command logs through the standard library's only, and
    imports structlog only if it writes a line); a bad value exits 1.

    With ``PHASEGATE_API_URL`` set the CLI acts only through the REST API: a command that
    reaches Temporal or the ledger itself asks for these settings, and is refused (exit 2),
    unless it is ``local`` (it reads local files and acts on nothing: `model validate`)."""
    s = load_settings(level, flags)
    if s.api_url is not None and not local:
        raise not_over_api()
    return s


def load_settings(level: str | None, flags: dict[str, Any]) -> Settings:
    """``settings`` without the API mode's refusal."""
    try:
        s = get_settings(**flags)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            message = pydantic_message(err)
            where = ".".join(map(str, err["loc"]))  # none for a rule over several settings
            say(f"error: setting {where}: {message}" if where else f"error: {message}", err=True)
        raise typer.Exit(1) from None
    configure_logging(s.log_format, level or s.log_level, structlog_loggers=level is None)
    return s


def current_context() -> typer.Context | None:
    """The click context of the command running (None outside one). Typer runs on its own
    copy of click (``typer._click``) since 0.2x, on click itself before."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - an older Typer
        from click import get_current_context  # type: ignore[no-redef]
    return cast("typer.Context | None", get_current_context(silent=True))


def command_name() -> str:
    """The command running, as its user typed it: ``phasegate project start``."""
    ctx = current_context()
    if ctx is None:
        return "phasegate"
    return " ".join(["phasegate", *ctx.command_path.split()[1:]])


def not_over_api(what: str | None = None) -> typer.Exit:
    """Exit 2: ``what`` (the running command) does not go over the REST API (yet)."""
    return fail(
        f"not available over the API: `{what or command_name()}` (PHASEGATE_API_URL is set, "
        "so the CLI acts only through the REST API, and this command does not go through it "
        "yet); unset PHASEGATE_API_URL and PHASEGATE_TOKEN to run it against Temporal and the "
        "ledger directly",
        2,
    )


def required_actor(actor: str | None) -> str:
    """``--as`` of the local mode, where it is required: a missing one is the usage error
    (exit 2) click gives for a required option."""
    if actor is not None:
        return actor
    ctx = current_context()
    assert ctx is not None, "a command runs in a click context"
    ctx.fail("Missing option '--as'.")  # as click says it of a required option


_OF_THE_FILE = ("(file)", "(document)", "line ")
"""How the path of an issue with the file itself starts (it cannot be read, is too big, is no
YAML or no mapping): such an issue names no key, so its line names the file."""


def issue_line(exc: GovernanceError, issue: Issue) -> str:
    """``issue`` as its line, escaped: ``path: message``; one with the file itself prefixed
    with the file as the user gave it (``./nosuch.yaml: (file): No such file or directory``)."""
    if exc.source and issue.path.startswith(_OF_THE_FILE):
        return safe(f"{exc.source}: {issue}")
    return safe(issue)


def print_issues(exc: GovernanceError, *, err: bool = True) -> typer.Exit:
    """Each issue of ``exc`` on a line of its own (``issue_line``), on stderr unless ``err``
    is false; exit 1."""
    for issue in exc.issues:
        say(issue_line(exc, issue), err=err)
    return typer.Exit(1)


def fail_issues(head: str, exc: GovernanceError) -> typer.Exit:
    """``error: HEAD: N problem(s)`` and then each problem on a line of its own (``head`` and
    the issues escaped here), exit 1."""
    say(f"error: {safe(head)}: {len(exc.issues)} problem(s)", err=True)
    for issue in exc.issues:
        say(f"  {safe(issue)}", err=True)
    return typer.Exit(1)


def fail(message: str, code: int = 1) -> typer.Exit:
    say(f"error: {message}", err=True)
    return typer.Exit(code)


def with_client(s: Settings, body: Callable[[Client], Awaitable[T]]) -> T:
    """Connect, run ``body``, and turn refusals into one clear line on stderr and exit 1."""
    from phasegate.temporal import connect

    async def run() -> T:
        client = await connect(s)
        return await body(client)

    return _answered(run)


def with_connection(s: Settings, body: Callable[[Connection], Awaitable[T]]) -> T:
    """``with_client`` for a command that only reads (the service's reads take a
    ``Connection``): the same connection, without importing the SDK's client layer."""
    from phasegate.temporal import connect_service

    async def run() -> T:
        connection = await connect_service(s)
        return await body(connection)

    return _answered(run)


def _answered(run: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``run``; refusals become one clear line on stderr and exit 1."""
    from governance import GovernanceError
    from phasegate.service import UNANSWERED, ProjectError
    from phasegate.temporal import TemporalUnavailable

    try:
        import asyncio  # here: the light commands start without it

        return asyncio.run(run())
    except ProjectError as exc:
        if exc.kind == UNANSWERED:  # applied: not a failure, but nothing to show
            say(f"warning: {exc}", err=True)
            raise typer.Exit(0) from None
        raise fail(str(exc)) from None
    except TemporalUnavailable as exc:
        raise fail(str(exc)) from None
    except GovernanceError as exc:
        raise print_issues(exc) from None


def echo_json(data: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(data, BaseModel):
        typer.echo(json_text(data.model_dump_json(indent=2)))
    else:
        typer.echo(json_text(json.dumps(data, indent=2, default=_plain, ensure_ascii=False)))


def _plain(value: object) -> str:
    """JSON for what json does not know: a time in ISO 8601 (as pydantic writes it)."""
    return value.isoformat() if isinstance(value, datetime | date) else str(value)
