"""``phasegate project history``: a project's timeline, from the ledger (no Temporal server
needed), or from the REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from phasegate.cli._common import AsJson, DataDir, LedgerUrl, echo_json, fail, settings
from phasegate.cli._ledger import existing
from phasegate.cli._output import safe, say
from phasegate.cli._remote import over_api


def history(
    project_id: Annotated[str, typer.Argument(help="The project id (the charter's id).")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """The project's timeline from its audit trail, newest last.

    One line per event: when (UTC), who, what happened, and the comment. This reads the
    ledger only, and works with the Temporal server down. Exit 1 when the project is not in
    the ledger. --json: one object per event (at, seq, kind, actor, role, from_state,
    to_state, comment, text, payload).
    """
    from phasegate import history as timeline

    if (api := over_api()) is not None:
        from phasegate.cli._project import project_path

        entries = api.pages(project_path(project_id, "history"), timeline.Entry)
    else:
        s = settings(data_dir=data_dir, ledger_url=ledger_url)
        with existing(s) as ledger:
            try:
                entries = timeline.read(ledger, project_id)
            except timeline.NoProject as exc:
                raise fail(safe(exc)) from None
    if as_json:
        echo_json([e.as_json() for e in entries])
        return
    width = max((len(e.who) for e in entries), default=0)
    for entry in entries:
        say(safe(timeline.line(entry, width)))
