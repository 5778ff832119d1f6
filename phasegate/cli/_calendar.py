"""``phasegate calendar export``: an iCalendar feed of what a person is asked to do (their
tasks' due times, their iterations' ceremonies) or of a project's dates (decisions, the phase
that opens later, ceremonies, tasks)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer

from phasegate.cli._common import (
    Address,
    DataDir,
    LedgerUrl,
    Namespace,
    fail,
    settings,
    with_client,
)
from phasegate.cli._ledger import existing
from phasegate.cli._ops import _check_output, _export_to
from phasegate.cli._output import safe, say
from phasegate.cli._remote import Remote, over_api

calendar_app = typer.Typer(
    help="Calendar feeds (iCalendar) of deadlines and ceremonies.", no_args_is_help=True
)


@calendar_app.command("export")
def export(
    person: Annotated[
        str | None, typer.Option("--person", help="Whose feed: what this person is asked to do.")
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="Only this project; alone, the project's own feed."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The file to write (iCalendar).", show_default="stdout"
        ),
    ] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Write an iCalendar feed: --person for a person's (over every running project that
    names them, or --project's), --project alone for a project's. Event UIDs are stable, so
    a calendar that imports the feed again updates its events instead of adding copies."""
    if person is None and project is None:
        raise fail("name --person (a person's feed) or --project (a project's feed)", 2)
    if output is not None:
        _check_output(output)
    if (api := over_api()) is not None:
        feed = _over_api(api, person, project)
    else:
        feed = _local(person, project, data_dir, ledger_url, address, namespace)
    if output is None:
        sys.stdout.write(feed.decode())
        return

    def write(fh: TextIO) -> int:
        fh.write(feed.decode())
        return feed.count(b"BEGIN:VEVENT")

    count = _export_to(output, write)
    say(f"{count} events written to {safe(output)}", err=True)


def _local(
    person: str | None,
    project: str | None,
    data_dir: Path | None,
    ledger_url: str | None,
    address: str | None,
    namespace: str | None,
) -> bytes:
    from phasegate import calendar

    s = settings(data_dir=data_dir, ledger_url=ledger_url, address=address, namespace=namespace)
    with existing(s) as ledger:
        if person is not None:
            feed = with_client(
                s, lambda client: calendar.person_feed(client, ledger, person, project, named=True)
            )
        else:
            assert project is not None
            feed = with_client(s, lambda client: calendar.project_feed(client, ledger, project))
    return feed


def _over_api(api: Remote, person: str | None, project: str | None) -> bytes:
    """The feed from the API: a person's (theirs, or the PMO's asking) or a project's."""
    import io
    from urllib.parse import quote

    from phasegate.cli._project import project_path

    if person is not None:
        path = f"/api/calendar/person/{quote(person, safe='')}.ics"
        if project is not None:
            project_path(project)  # an id no charter can have names no project, as locally
        params = {"project": project} if project is not None else {}
    else:
        assert project is not None
        project_path(project)
        path = f"/api/calendar/project/{project}.ics"
        params = {}
    text = io.StringIO(newline="")
    api.download(path, params, text)
    return text.getvalue().encode()
