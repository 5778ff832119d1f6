"""``phasegate report``: the highlight and exception reports a project issued, from the
ledger (no Temporal server needed)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from phasegate.choices import ReportChoice
from phasegate.cli._common import DataDir, LedgerUrl, fail, settings
from phasegate.cli._ledger import existing
from phasegate.cli._output import json_text, safe, say
from phasegate.cli._remote import Remote, over_api

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
    if list_all and number is not None:
        raise fail("--list lists every report: give it without --number", 2)
    if (api := over_api()) is not None:
        _over_api(api, project_id, kind, number, fmt, list_all)
        return
    from phasegate import reports

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
    _print_markdown(*reports.markdown(report))


def _print_markdown(text: str, warning: str | None) -> None:
    if warning is not None:
        say(f"warning: {safe(warning)}", err=True)
    say(text.rstrip("\n"))


def _print_list(listed: list[Report], project_id: str, fmt: Format) -> None:
    from phasegate import reports

    _print_rows([reports.summary(r) for r in listed], project_id, fmt)


def _print_rows(rows: list[dict[str, Any]], project_id: str, fmt: Format) -> None:
    if fmt == "json":
        typer.echo(json_text(json.dumps(rows, indent=2, ensure_ascii=False)))
        return
    if not rows:
        say(f"project {safe(project_id)} has issued no such reports yet", err=True)
    for row in rows:
        title = "" if row["title"] is None else f"\t{safe(row['title'])}"
        say(f"{row['kind']}\t#{row['number']}\t{row['at']}{title}")


def _over_api(
    api: Remote,
    project_id: str,
    kind: ReportChoice | None,
    number: int | None,
    fmt: Format,
    list_all: bool,
) -> None:
    """``report`` from the API (the server reads its ledger): printed as the local mode
    prints the same reports, the Markdown the server checked against the content."""
    from phasegate.cli._project import project_path

    path = project_path(project_id, "reports")
    with api.session():
        if list_all:
            found = api.pages(path, dict[str, Any], {"kind": kind} if kind else None)
            _print_rows([_summary(api, row) for row in found], project_id, fmt)
            return
        if kind is None and number is not None:  # as `reports.find`: both kinds asked
            highlight = api.get_unless(f"{path}/highlight/{number}", dict[str, Any], "NoReport")
            exception = api.get_unless(f"{path}/exception/{number}", dict[str, Any], "NoReport")
            if highlight is not None and exception is not None:
                raise fail(
                    f"project {safe(project_id)} has a highlight report #{number} and an "
                    f"exception report #{number}: give --kind highlight or --kind exception",
                    2,
                )
            if highlight is None and exception is not None:
                raise fail(
                    f"project {safe(project_id)} has no highlight report #{number}, but has an "
                    f"exception report #{number}: give --kind exception"
                )
        shown = f"{path}/{kind or 'highlight'}" + (f"/{number}" if number is not None else "")
        view: dict[str, Any] = api.get(shown, dict[str, Any])
    if fmt == "json":
        content = api.read(dict[str, Any], view.get("content"))
        typer.echo(json_text(json.dumps(content, indent=2, ensure_ascii=False)))
        return
    _print_markdown(api.read(str, view.get("markdown")), api.read(str | None, view.get("warning")))


def _summary(api: Remote, row: dict[str, Any]) -> dict[str, Any]:
    """A listing's row as `reports.summary` makes it (the time to the second, as written)."""
    at: datetime = api.read(datetime, row.get("at"))
    return {
        "kind": api.read(str, row.get("kind")),
        "number": api.read(int, row.get("number")),
        "at": at.isoformat(timespec="seconds"),
        "sha256": api.read(str, row.get("sha256")),
        "title": api.read(str | None, row.get("title")),
    }
