"""``phasegate token create|list|revoke``: the token on stdout once (a warning on stderr), never
listed again, revoked by id or by person; bad input is a clear error that changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import cli, snapshot

from ledger import Ledger
from phasegate.settings import sqlite_url

TOKEN = re.compile(r"pg_(?P<id>[0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def ledger_at(data_dir: Path) -> Ledger:
    return Ledger.existing(sqlite_url(data_dir / "ledger.db"))


def create(*args: str) -> tuple[str, str]:
    """``token create ARGS``: the token id and the token it printed."""
    result = cli("token", "create", *args)
    assert result.exit_code == 0, result.output
    match = TOKEN.fullmatch(result.stdout.strip())
    assert match is not None, result.stdout
    return match["id"], match[0]


def test_create_prints_the_token_once_on_stdout_and_warns_on_stderr(data_dir: Path) -> None:
    result = cli("token", "create", "--person", "anna", "--name", "laptop")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    match = TOKEN.fullmatch(token)
    assert match is not None and result.stdout == token + "\n"
    assert "shown only this once" in result.stderr and token not in result.stderr
    assert f"token {match['id']} of anna (laptop), valid without expiry" in result.stderr
    with ledger_at(data_dir) as ledger:
        assert ledger.person_for(token, datetime.now(UTC)) == "anna"


def test_expires_sets_the_expiry_from_now(data_dir: Path) -> None:
    before = datetime.now(UTC)
    token_id, token = create("--person", "bo", "--expires", "P90D")
    with ledger_at(data_dir) as ledger:
        found = ledger.token(token_id)
        assert found is not None and found.expires_at is not None
        assert (
            before + timedelta(days=90)
            <= found.expires_at
            <= datetime.now(UTC) + timedelta(days=90)
        )
        assert ledger.person_for(token, found.expires_at) is None


def test_list_shows_ids_and_states_never_a_token() -> None:
    first, token = create("--person", "anna", "--name", "laptop")
    second, other = create("--person", "bo", "--expires", "PT1H")
    cli("token", "revoke", first)
    result = cli("token", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        [first, "anna", "laptop"],
        [second, "bo", "-"],
    ]
    assert lines[0].split("\t")[-1].startswith("revoked ") and lines[1].endswith("\tactive")
    assert "expires never" in lines[0]
    rows = json.loads(cli("token", "list", "--person", "bo", "--json").stdout)
    assert [(r["id"], r["person"], r["state"]) for r in rows] == [(second, "bo", "active")]
    assert set(rows[0]) == {
        "id",
        "person",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "state",
    }
    everything = result.stdout + cli("token", "list", "--json").stdout
    assert token not in everything and other not in everything
    assert token.removeprefix(f"pg_{first}_") not in everything


def test_list_says_when_there_are_none() -> None:
    create("--person", "anna")
    assert cli("token", "list", "--person", "bo").stdout == "no tokens\n"


def test_revoke_by_id_and_by_person(data_dir: Path) -> None:
    a1, t1 = create("--person", "anna")
    _, t2 = create("--person", "anna")
    _, t3 = create("--person", "bo")
    result = cli("token", "revoke", a1)
    assert result.exit_code == 0 and f"revoked token {a1} of anna" in result.stderr
    again = cli("token", "revoke", a1)
    assert again.exit_code == 0 and "was revoked at" in again.stderr
    by_person = cli("token", "revoke", "--person", "anna")
    assert by_person.exit_code == 0 and "revoked 1 token of anna" in by_person.stderr
    now = datetime.now(UTC)
    with ledger_at(data_dir) as ledger:
        assert [ledger.person_for(t, now) for t in (t1, t2, t3)] == [None, None, "bo"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("revoke",), 2, "give a TOKEN_ID or --person ID"),
        (("revoke", "0123456789ab", "--person", "anna"), 2, "give a TOKEN_ID or --person ID"),
        (("revoke", "0123456789ab"), 1, "no token 0123456789ab"),
        (("revoke", "not-an-id"), 1, "no token not-an-id"),
        (("create", "--person", "anna", "--expires", "90 days"), 2, "--expires 90 days: not an"),
        (("create", "--person", "anna", "--expires", "P0D"), 2, "longer than nothing"),
        (("create", "--person", "anna", "--expires", "-P1D"), 2, "not an ISO-8601 duration"),
        (("create", "--person", "Anna"), 2, "--person 'Anna': must be a slug"),
        (("create", "--person", "anna", "--name", " "), 2, "--name ' '"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    data_dir: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    token_id, token = create("--person", "anna")
    before = snapshot(data_dir)
    result = cli("token", *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and result.stdout == ""
    assert snapshot(data_dir) == before
    with ledger_at(data_dir) as ledger:
        assert [t.id for t in ledger.tokens()] == [token_id]
        assert ledger.person_for(token, datetime.now(UTC)) == "anna"


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--person", "anna", "--expires", "P1X"),
        ("create", "--person", "bad id"),
        ("list",),
        ("revoke", "--person", "anna"),
    ],
)
def test_no_ledger_is_created_by_refused_or_reading_commands(
    data_dir: Path, args: tuple[str, ...]
) -> None:
    result = cli("token", *args)
    assert result.exit_code in (1, 2), result.output
    assert not (data_dir / "ledger.db").exists()


def test_revoke_ends_the_dashboard_sessions_of_the_token_or_the_person(data_dir: Path) -> None:
    (a1, _), (a2, _), (b1, _) = (create("--person", p) for p in ("anna", "anna", "bo"))
    later = datetime.now(UTC) + timedelta(hours=1)
    with ledger_at(data_dir) as ledger:  # as the dashboard opens it, and signs people in
        sessions = [
            ledger.open_web_session(person, later, token_id=token_id)
            for person, token_id in (("anna", a1), ("anna", a2), ("bo", b1))
        ]
    assert cli("token", "revoke", a1).exit_code == 0
    with ledger_at(data_dir) as ledger:
        assert [ledger.web_session(s) is not None for s in sessions] == [False, True, True]
    assert cli("token", "revoke", "--person", "anna").exit_code == 0
    with ledger_at(data_dir) as ledger:
        assert [ledger.web_session(s) is not None for s in sessions] == [False, False, True]
