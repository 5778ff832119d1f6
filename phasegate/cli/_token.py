"""``phasegate token ...``: the personal API tokens the REST API takes (kept in the ledger).

Whoever can run these commands against the ledger can act as anyone over the API, as they can
with ``--as`` over the CLI: they are the administrator's, like ``model publish``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from phasegate.cli._common import AsJson, DataDir, LedgerUrl, echo_json, fail, settings
from phasegate.cli._ledger import existing, writing
from phasegate.cli._output import safe, say

if TYPE_CHECKING:
    from ledger import ApiToken

token_app = typer.Typer(help="Personal API tokens for the REST API.", no_args_is_help=True)

Person = Annotated[str, typer.Option("--person", help="The person's id, as charters name them.")]


def _minute(at: datetime | None, none: str = "-") -> str:
    return at.astimezone(UTC).isoformat(timespec="minutes") if at is not None else none


def _expiry(text: str | None, now: datetime) -> datetime | None:
    """``now`` plus the ISO-8601 duration ``text``; exit 2 saying why it is none."""
    if text is None:
        return None
    from governance import parse_duration

    try:
        span = parse_duration(text)
    except ValueError:
        raise fail(
            f"--expires {safe(text)}: not an ISO-8601 duration (e.g. P90D, P12W)", 2
        ) from None
    if span <= timedelta(0):
        raise fail(f"--expires {safe(text)}: give a duration longer than nothing", 2)
    try:
        return now + span
    except OverflowError:
        raise fail(f"--expires {safe(text)}: too far in the future", 2) from None


@token_app.command("create")
def create(
    person: Person,
    expires: Annotated[
        str | None,
        typer.Option(
            help="How long it is valid, as an ISO-8601 duration (P90D).",
            show_default="never expires",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="What it is for, to tell tokens apart (laptop, ci).")
    ] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Create an API token for a person; prints the token on stdout, once.

    Only its SHA-256 is kept: it cannot be shown again (create another, revoke this one).
    Requests that bear it (`Authorization: Bearer TOKEN`) act as that person.
    """
    from ledger import check_token_request

    now = datetime.now(UTC)
    expires_at = _expiry(expires, now)
    try:
        check_token_request(person, name)
    except ValueError as exc:
        raise fail(f"--{safe(exc)}", 2) from None
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with writing(s) as ledger:
        token_id, token = ledger.create_token(person, name, expires_at, now=now)
    typer.echo(token)
    until = f"until {_minute(expires_at)}" if expires_at is not None else "without expiry"
    say(
        f"token {token_id} of {person}{f' ({safe(name)})' if name else ''}, valid {until}. "
        "It is shown only this once: copy it now. "
        f"`phasegate token revoke {token_id}` revokes it.",
        err=True,
    )


@token_app.command("list")
def list_tokens(
    person: Annotated[
        str | None, typer.Option("--person", help="Only this person's tokens.")
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """The tokens, oldest first: id, person, name, created, expires, and whether active,
    expired or revoked. Never a token itself (the ledger does not have it)."""
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s) as ledger:
        tokens = ledger.tokens(person)
    now = datetime.now(UTC)
    if as_json:
        echo_json([{**asdict(t), "state": t.state(now)} for t in tokens])
        return
    if not tokens:
        say("no tokens")
        return
    for t in tokens:
        say(
            f"{t.id}\t{t.person}\t{safe(t.name or '-')}\tcreated {_minute(t.created_at)}\t"
            f"expires {_minute(t.expires_at, 'never')}\t{_state(t, now)}"
        )


def _state(t: ApiToken, now: datetime) -> str:
    state = t.state(now)
    if state == "revoked":
        return f"revoked {_minute(t.revoked_at)}"
    return state


@token_app.command("revoke")
def revoke(
    token_id: Annotated[
        str | None, typer.Argument(help="The token's id, as `token list` shows it.")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Revoke every token of this person.")
    ] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Revoke one token (TOKEN_ID), or every token of a person (--person ID). A revoked
    token is refused at once (401), and the dashboard sessions signed in with it end; it
    stays listed, with when it was revoked."""
    if (token_id is None) == (person is None):
        raise fail("give a TOKEN_ID or --person ID (one of them)", 2)
    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    with existing(s):  # revoking never creates a ledger: exit 1 when there is none
        pass
    with writing(s) as ledger:
        if person is not None:
            count = ledger.revoke_person(person)
            say(f"revoked {count} token{'' if count == 1 else 's'} of {safe(person)}", err=True)
            return
        assert token_id is not None
        found = ledger.token(token_id)
        if found is None:
            raise fail(f"no token {safe(token_id)} (`phasegate token list` shows the ids)")
        if found.revoked_at is not None:
            say(
                f"token {found.id} of {found.person} was revoked at {_minute(found.revoked_at)}",
                err=True,
            )
            return
        ledger.revoke_token(found.id)
    say(f"revoked token {found.id} of {found.person}", err=True)
