"""The root Typer app; each command group lives in its own module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NoReturn

import typer
import typer.core

from phasegate._exit import run_and_exit

Part = typer.Typer | Callable[..., Any]

PARTS: dict[str, tuple[str, str]] = {
    "model": ("_model", "model_app"),
    "charter": ("_model", "charter_app"),
    "project": ("_project", "project_app"),
    "gate": ("_project", "gate_app"),
    "deliverable": ("_deliverable", "deliverable_app"),
    "iteration": ("_iteration", "iteration_app"),
    "progress": ("_control", "progress"),
    "change": ("_control", "change_app"),
    "exception": ("_control", "exception_app"),
    "hold": ("_project", "board_commands"),
    "resume": ("_project", "board_commands"),
    "cancel": ("_project", "board_commands"),
    "delegate": ("_delegate", "delegate"),
    "delegation": ("_delegate", "delegation_app"),
    "tasks": ("_ops", "tasks_app"),
    "calendar": ("_calendar", "calendar_app"),
    "report": ("_report", "report"),
    "audit": ("_ops", "audit_app"),
    "worker": ("_ops", "worker"),
    "dev": ("_ops", "dev"),
    "token": ("_token", "token_app"),
    "notify": ("_notify", "notify_app"),
    "api": ("_api", "api"),
}
"""The command groups and commands of ``phasegate``, in the order its help lists them: where
each is defined (a module of this package and its attribute; ``board_commands`` maps a name to
its command). A command line loads the module of its own group only: importing them all cost
~30 ms on every run."""


def _flags_take_no_value() -> None:
    """A flag's row in the rich help shows no value placeholder: Typer 0.29 renders every
    flag as ``--json <bool>`` (``--help`` too), which reads as if it took a value, where its
    own plain help (``TyperOption.get_help_record``) shows none for a flag or a counter. One
    override here, so every command's help and Typer's own ``--help`` option follow it."""
    option = typer.core.TyperOption
    shown = option.display_type_rich
    if getattr(shown, "phasegate_flags", False):
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        if self.metavar is None and (self.is_flag or self.count):
            return None
        return shown(self, ctx)

    display_type_rich.phasegate_flags = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


def _no_value_error_prefix() -> None:
    """An option's bad value is said without pydantic's ``Value error, ``: Typer 0.29 checks
    a choice (``Literal``, ``Enum``) by raising ``ValueError`` in a pydantic validator and
    passes pydantic's message on, prefix and all (``Invalid value for '--state': Value
    error, 'bogus' is not one of ...``). Every option error is a ``BadParameter``."""
    bad = typer.BadParameter
    init = bad.__init__
    if getattr(init, "phasegate_prefix", False):
        return

    def __init__(self: typer.BadParameter, message: str, *args: Any, **kwargs: Any) -> None:
        if isinstance(message, str):
            message = message.removeprefix("Value error, ")
        init(self, message, *args, **kwargs)

    __init__.phasegate_prefix = True  # type: ignore[attr-defined]
    bad.__init__ = __init__  # type: ignore[method-assign]


_flags_take_no_value()
_no_value_error_prefix()


def part(name: str) -> Part:
    """The command group or command ``name`` (a key of ``PARTS``), its module imported."""
    module, attribute = PARTS[name]
    found = getattr(importlib.import_module(f"phasegate.cli.{module}"), attribute)
    return found[name] if isinstance(found, dict) else found  # type: ignore[no-any-return]


def build(parts: Sequence[tuple[str, Part]]) -> typer.Typer:
    root = typer.Typer(
        name="phasegate",
        help="Project governance as durable workflows.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for name, found in parts:
        if isinstance(found, typer.Typer):
            root.add_typer(found, name=name)
        else:
            root.command(name)(found)
    return root


@cache
def whole() -> typer.Typer:
    """The root with every command group and command (``phasegate.cli.app``), built once."""
    return build([(name, part(name)) for name in PARTS])


def for_command_line(args: Sequence[str]) -> typer.Typer:
    """``app``, or, when the command line names a command group (``model list ...``), the
    root with that group alone: Typer makes the click parameters of every command the root
    holds on each run (~40 ms for all of phasegate's), and a run needs one group's. The
    group's commands, help, usage lines and errors are the same. Only that group's module is
    imported."""
    found = part(args[0]) if args and args[0] in PARTS else None
    return build([(args[0], found)]) if isinstance(found, typer.Typer) else whole()


def main() -> NoReturn:
    """Console-script entry point. Leaves through ``run_and_exit`` so that a process that used
    the Temporal client always exits with its intended code (see ``phasegate._exit``)."""
    run_and_exit(for_command_line(sys.argv[1:]))
