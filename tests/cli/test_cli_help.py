"""``--help`` of every command and group reads cleanly: no text lost to rich markup, no stray
punctuation or spacing in the help of an option, an argument or a subcommand."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest
import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.testing import CliRunner

from phasegate.cli import app
from phasegate.cli._app import for_command_line

WIDTH = 400  # wide enough that no help line wraps
BOX_ROW = re.compile(r"^│(?P<cells>.*)│$")
FLAWS = {
    " .": "a space before a full stop",
    " ,": "a space before a comma",
    "  ": "a double space",
    "..": "a doubled full stop",
}


Command = TyperCommand | TyperGroup


def commands(
    command: Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Command]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in sorted(command.commands.items()):
            assert isinstance(sub, (TyperCommand, TyperGroup))
            yield from commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
ALL = list(commands(ROOT))


def words(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def panel_cells(output: str) -> list[str]:
    """The right-hand cell (help) of each row of each panel of a rendered ``--help``.

    A panel's help column starts where its rows' earliest help starts; a row whose help
    starts later than that has a stray leading space."""
    cells: list[str] = []
    panel: list[str] = []
    for line in [*output.splitlines(), ""]:
        match = BOX_ROW.match(line)
        if match:
            panel.append(match["cells"])
            continue
        starts = [_help_start(row) for row in panel]
        column = min((s for s in starts if s is not None), default=None)
        if column is not None:
            cells.extend(row[column:].rstrip() for row in panel)
        panel = []
    return cells


def _help_start(row: str) -> int | None:
    """Where the help of an option, argument or subcommand row starts: after the metavar
    (``<str>``) of a parameter, after the names of a flag (``--ui --no-ui``), after the name
    of a subcommand."""
    match = re.match(
        r"^\s*(?:[^<]*<[^>]*>|[*]?\s*--[\w-]+(?:\s+--[\w-]+)?|[*]?\s*[a-z][a-z-]*)\s{2,}(?=[^\s<])",
        row,
    )
    return match.end() if match else None


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"", "dev", "worker", "project status", "gate decide", "audit export"} <= names


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=lambda p: " ".join(p) or "root")
def test_help_text_is_clean(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each parameter's help and each subcommand's short help appear whole (rich markup such
    as ``[default: ...]`` in a help string is swallowed), and no help cell has stray spacing
    or punctuation."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = CliRunner().invoke(app, [*path, "--help"], color=False)
    assert result.exit_code == 0, result.output
    output = result.output
    command = dict(ALL)[path]

    for param in command.params:
        helptext = getattr(param, "help", None)
        if helptext:
            assert words(helptext) in words(output), f"help of {param.name} lost: {helptext!r}"
    if command.help:
        assert words(inspect.cleandoc(command.help)) in words(output), "command help lost"
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            short = sub.get_short_help_str(limit=WIDTH)
            assert words(short) in words(output), f"short help of {name} lost: {short!r}"

    cells = panel_cells(output)
    assert cells, output
    for cell in cells:
        assert cell == cell.strip(), f"stray space around {cell!r}"
        for flaw, what in FLAWS.items():
            assert flaw not in cell, f"{what} in {cell!r}"


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=lambda p: " ".join(p) or "root")
def test_no_flag_shows_a_value_placeholder(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flag (``--json``, ``--ui/--no-ui``, ``--help``) takes no value, so its row shows no
    ``<bool>``; an option that takes one still shows its ``<type>``."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    output = CliRunner().invoke(app, [*path, "--help"], color=False).output
    options = [p for p in dict(ALL)[path].params if isinstance(p, TyperOption)]
    flags = ["--help", *(p.opts[0] for p in options if p.is_flag or p.count)]
    for name in flags:
        row = re.search(
            rf"^│\s*\*?\s*{re.escape(name)}(?:\s+--[\w-]+)?\s+(?P<next>\S+)", output, re.M
        )
        assert row, f"no row of {name}:\n{output}"
        assert not row["next"].startswith("<"), f"{name} shows a placeholder: {row[0]!r}"
    for param in options:
        if not (param.is_flag or param.count or param.hidden):
            assert re.search(rf"{re.escape(param.opts[0])}\s+(?:-\w\s+)?<", output), param.opts


@pytest.mark.parametrize("path", [path for path, _ in ALL if path], ids=" ".join)
def test_the_group_a_command_line_names_answers_alone_as_the_whole_app(
    path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console script builds only the group its command line names (Typer makes every
    command's click parameters on each run): the same help and the same usage errors."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    for args in ([*path, "--help"], [*path, "--no-such-option"]):  # nothing runs
        alone = for_command_line(args)
        assert (alone is app) == (not isinstance(ROOT.commands[path[0]], TyperGroup))
        whole = CliRunner().invoke(app, args, color=False)
        answer = CliRunner().invoke(alone, args, color=False)
        assert (answer.exit_code, answer.output) == (whole.exit_code, whole.output), args


def test_a_command_line_without_a_group_gets_the_whole_app() -> None:
    for args in ([], ["--help"], ["report", "p1"], ["hold", "p1"], ["nothing"]):
        assert for_command_line(args) is app, args
    assert for_command_line(["model", "list"]) is not app
