"""The root Typer app; each command group lives in its own module."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import typer

from phasegate._exit import run_and_exit
from phasegate.cli import (
    _api,
    _calendar,
    _control,
    _delegate,
    _deliverable,
    _history,
    _iteration,
    _model,
    _notify,
    _ops,
    _project,
    _report,
    _token,
)

_project.project_app.command("history")(_history.history)

PARTS: list[tuple[str, typer.Typer | Callable[..., Any]]] = [
    ("model", _model.model_app),
    ("charter", _model.charter_app),
    ("project", _project.project_app),
    ("gate", _project.gate_app),
    ("deliverable", _deliverable.deliverable_app),
    ("iteration", _iteration.iteration_app),
    ("progress", _control.progress),
    ("change", _control.change_app),
    ("exception", _control.exception_app),
    *_project.board_commands.items(),
    ("delegate", _delegate.delegate),
    ("delegation", _delegate.delegation_app),
    ("tasks", _ops.tasks_app),
    ("calendar", _calendar.calendar_app),
    ("report", _report.report),
    ("audit", _ops.audit_app),
    ("worker", _ops.worker),
    ("dev", _ops.dev),
    ("token", _token.token_app),
    ("notify", _notify.notify_app),
    ("api", _api.api),
]
"""The command groups and commands of ``phasegate``, in the order its help lists them."""


def build(parts: Sequence[tuple[str, typer.Typer | Callable[..., Any]]]) -> typer.Typer:
    root = typer.Typer(
        name="phasegate",
        help="Project governance as durable workflows.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name, part in parts:
        if isinstance(part, typer.Typer):
            root.add_typer(part, name=name)
        else:
            root.command(name)(part)
    return root


app = build(PARTS)


def for_command_line(args: Sequence[str]) -> typer.Typer:
    """``app``, or, when the command line names a command group (``model list ...``), the
    root with that group alone: Typer makes the click parameters of every command the root
    holds on each run (~40 ms for all of phasegate's), and a run needs one group's. The
    group's commands, help, usage lines and errors are the same."""
    part = dict(PARTS).get(args[0]) if args else None
    return build([(args[0], part)]) if isinstance(part, typer.Typer) else app


def main() -> NoReturn:
    """Console-script entry point. Leaves through ``run_and_exit`` so that a process that used
    the Temporal client always exits with its intended code (see ``phasegate._exit``)."""
    run_and_exit(for_command_line(sys.argv[1:]))
