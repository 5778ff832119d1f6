"""The root Typer app; each command group lives in its own module."""

from __future__ import annotations

from typing import NoReturn

import typer

from phasegate._exit import run_and_exit
from phasegate.cli import (
    _api,
    _control,
    _deliverable,
    _history,
    _iteration,
    _model,
    _ops,
    _project,
    _report,
    _token,
)

app = typer.Typer(
    name="phasegate",
    help="Project governance as durable workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_model.model_app, name="model")
app.add_typer(_model.charter_app, name="charter")
_project.project_app.command("history")(_history.history)
app.add_typer(_project.project_app, name="project")
app.add_typer(_project.gate_app, name="gate")
app.add_typer(_deliverable.deliverable_app, name="deliverable")
app.add_typer(_iteration.iteration_app, name="iteration")
app.command("progress")(_control.progress)
app.add_typer(_control.change_app, name="change")
app.add_typer(_control.exception_app, name="exception")
for _name, _command in _project.board_commands.items():
    app.command(_name)(_command)
app.add_typer(_ops.tasks_app, name="tasks")
app.command("report")(_report.report)
app.add_typer(_ops.audit_app, name="audit")
app.command("worker")(_ops.worker)
app.command("dev")(_ops.dev)
app.add_typer(_token.token_app, name="token")
app.command("api")(_api.api)


def main() -> NoReturn:
    """Console-script entry point. Leaves through ``run_and_exit`` so that a process that used
    the Temporal client always exits with its intended code (see ``phasegate._exit``)."""
    run_and_exit(app)
