"""``phasegate notify ...``: the notification configuration, the webhook schema, and the
outbox's deliveries (pending, dead letters, retry). Delivery itself is the worker's postman
(activities/_postman.py)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from phasegate.cli._common import (
    AsJson,
    DataDir,
    LedgerUrl,
    echo_json,
    fail,
    fail_issues,
    settings,
)
from phasegate.cli._ledger import existing, writing
from phasegate.cli._output import safe, say

if TYPE_CHECKING:
    from ledger import Delivery

notify_app = typer.Typer(
    help="Notifications: configuration, webhook schema, deliveries.", no_args_is_help=True
)


@notify_app.command("validate")
def validate(
    file: Annotated[
        Path | None,
        typer.Argument(help="The configuration file.", show_default="PHASEGATE_NOTIFY_CONFIG"),
    ] = None,
) -> None:
    """Check a notification configuration (exit 1 listing each problem with its place).

    Its channels, routes and delivery policy; every ${VAR} it refers to set; every Apprise
    URL one that Apprise knows."""
    if file is None:
        file = settings().notify_config
        if file is None:
            raise fail("give a FILE, or set PHASEGATE_NOTIFY_CONFIG", 2)
    from activities import load_config
    from governance import GovernanceError

    try:
        config = load_config(file, os.environ)
    except GovernanceError as exc:
        raise fail_issues(str(file), exc) from None
    routes = len(config.routes)
    say(
        f"{safe(str(file))}: valid: {len(config.channels)} channel(s) "
        f"({', '.join(sorted(config.channels))}), {routes} route(s)"
    )


@notify_app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to this file.")
    ] = None,
) -> None:
    """The JSON Schema of the webhook body (phasegate.notification/v1)."""
    from governance.notifications import webhook_schema

    text = json.dumps(webhook_schema(), indent=2)
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"{safe(str(output))}: {exc.strerror or exc}") from None
    say(f"wrote {safe(str(output))}", err=True)


def _row(d: Delivery) -> dict[str, Any]:
    row = asdict(d)
    note = row.pop("notification")
    return {
        **row,
        "key": note["key"],
        "project_id": note["project_id"],
        "kind": note["kind"],
        "subject": note["message"].get("subject"),
    }


def _show(rows: list[Delivery], as_json: bool, empty: str) -> None:
    if as_json:
        echo_json([_row(d) for d in rows])
        return
    if not rows:
        say(empty)
        return
    for d in rows:
        note = d.notification
        when = (d.delivered_at or d.next_attempt_at).isoformat(timespec="seconds")
        say(
            f"{d.id}\t{d.status}\t{note.project_id}\t{note.kind}\t{d.channel}\t"
            f"{safe(d.target)}\tattempts {d.attempts}\t{when}\t{note.key}\t"
            f"{safe(d.last_error or '')}"
        )


Project = Annotated[str | None, typer.Option("--project", help="Only this project's.")]


@notify_app.command("failed")
def failed(
    project: Project = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Dead letters: deliveries whose attempts ran out, with the last error.

    `phasegate notify retry ID` sends one again."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s) as ledger:
        rows = ledger.deliveries("dead", project_id=project)
    _show(rows, as_json, "no dead letters")


@notify_app.command("pending")
def pending(
    project: Project = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Deliveries not sent yet, with their attempts and when the next is due.

    On stderr: the deliveries by status, and the notifications no postman has routed yet."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s) as ledger:
        rows = ledger.deliveries("pending", project_id=project)
        counts = ledger.outbox_counts()
    _show(rows, as_json, "no deliveries pending")
    if not as_json:
        say(
            f"{counts['pending']} pending, {counts['delivered']} delivered, {counts['dead']} "
            f"dead; {counts['unrouted']} notification(s) not routed yet",
            err=True,
        )


@notify_app.command("retry")
def retry(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id (`notify failed`).")],
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Send a dead letter again (a running worker's postman sends it).

    It is due at once, its attempts counted afresh."""
    from ledger import DeliveryMissing

    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s):  # retrying never creates a ledger: exit 1 when there is none
        pass
    with writing(s) as ledger:
        try:
            d = ledger.retry_delivery(delivery_id)
        except DeliveryMissing as exc:
            raise fail(f"{exc} (`phasegate notify failed` lists the dead letters)") from None
    say(f"delivery {d.id} ({d.notification.key} to {d.channel} {safe(d.target)}) is due again")
