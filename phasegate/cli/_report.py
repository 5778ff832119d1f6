"""``phasegate report``: the highlight and exception reports a project issued, from the
ledger (no Temporal server needed)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from phasegate.choices import ReportChoice
from phasegate.cli._common import DataDir, LedgerUrl, fail, settings
from phasegate.cli._ledger import existing
from phasegate.cli._output import json_text, safe, say

if TYPE_CHECKING:  # the audit module's models are imported where a report is read
    from governance.audit import Report

Format = Literal["md", "json"]


def report(
    project_id: Annotated[str, typer.Argument(help="The project id (the charter's id).")],
    kind: Annotated[
        ReportChoice | None,
        typer.Option(help="Which reports (default: highlight; with --list: every kind)."),
    ] = None,
    number: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="This report (default: the latest); without --kind, refused if both have it.",
        ),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="md: the report as Markdown; json: its content (with --list: the list).",
        ),
    ] = "md",
    list_all: Annotated[
        bool, typer.Option("--list", help="List the project's reports (kind, number, at, title).")
    ] = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Print a project's latest highlight report (or the kind and number asked for), or list
    its reports.

    Reports are kept in the ledger: this reads the ledger only, and works with the Temporal
    server down. Exit 1 when the project or the report is not in the ledger; exit 2 for a
    --number without --kind that both kinds have. The Markdown shown is always the rendering
    of the report's content (a stored Markdown that differs is replaced, with a warning).
    """
    from phasegate import reports

    if list_all and number is not None:
        raise fail("--list lists every report: give it without --number", 2)
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s) as ledger:
        try:
            if list_all:
                listed = reports.listed(ledger, project_id)
                _print_list([r for r in listed if kind in (None, r.kind)], project_id, fmt)
            else:
                _print_one(reports.find(ledger, project_id, kind, number), fmt)
        except reports.AmbiguousReport as exc:
            raise fail(safe(exc), 2) from None
        except reports.NoReport as exc:
            raise fail(safe(exc)) from None


def _print_one(report: Report, fmt: Format) -> None:
    from phasegate import reports

    if fmt == "json":
        typer.echo(json_text(reports.content_json(report)))
        return
    text, warning = reports.markdown(report)
    if warning is not None:
        say(f"warning: {safe(warning)}", err=True)
    say(text.rstrip("\n"))


def _print_list(listed: list[Report], project_id: str, fmt: Format) -> None:
    from phasegate import reports

    rows = [reports.summary(r) for r in listed]
    if fmt == "json":
        typer.echo(json_text(json.dumps(rows, indent=2, ensure_ascii=False)))
        return
    if not rows:
        say(f"project {safe(project_id)} has issued no such reports yet", err=True)
    for row in rows:
        title = "" if row["title"] is None else f"\t{safe(row['title'])}"
        say(f"{row['kind']}\t#{row['number']}\t{row['at']}{title}")
