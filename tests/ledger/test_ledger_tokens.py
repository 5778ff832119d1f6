"""Personal API tokens in the ledger: only a hash stored, the person found from an active
token only (not a wrong, revoked or expired one), bad input refused with nothing stored, and a
ledger from before them migrated (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from ledger_support import HEAD, T0, EventFactory, RawSql, TaskFactory

from ledger import Ledger, LedgerSchemaError
from ledger._engine import create_engine
from ledger._ledger import _alembic_config
from ledger._schema import VERSION_TABLE

DAY = timedelta(days=1)


def test_a_token_names_its_id_and_only_its_hash_is_stored(ledger: Ledger, raw_sql: RawSql) -> None:
    token_id, token = ledger.create_token("anna", "laptop", now=T0)
    assert re.fullmatch(r"pg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    assert token.startswith(f"pg_{token_id}_")
    rows = raw_sql("SELECT * FROM api_tokens")
    assert len(rows) == 1
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]
    secret = token.removeprefix(f"pg_{token_id}_")
    assert not any(secret in str(cell) for cell in rows[0])


def test_two_tokens_differ_and_each_finds_its_person(ledger: Ledger) -> None:
    (id_a, tok_a), (id_b, tok_b) = ledger.create_token("anna"), ledger.create_token("bo")
    assert id_a != id_b and tok_a != tok_b
    now = T0 + DAY
    assert ledger.person_for(tok_a, now) == "anna"
    assert ledger.person_for(tok_b, now) == "bo"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret
        lambda t: t.upper(),
        lambda t: t + "x",
        lambda t: t[:-1],
        lambda t: "pg_000000000000_" + t[16:],  # the secret under another id
        lambda t: "",
        lambda t: "Bearer " + t,
        lambda t: t.replace("pg_", "pt_"),
    ],
    ids=["one-char", "upper", "longer", "shorter", "other-id", "empty", "prefixed", "prefix"],
)
def test_anything_but_the_token_finds_nobody(ledger: Ledger, tamper: Callable[[str], str]) -> None:
    _, token = ledger.create_token("anna", now=T0)
    assert ledger.person_for(token, T0) == "anna"
    assert ledger.person_for(tamper(token), T0) is None


def test_a_token_expires_at_its_time(ledger: Ledger) -> None:
    token_id, token = ledger.create_token("anna", expires_at=T0 + 90 * DAY, now=T0)
    assert ledger.person_for(token, T0 + 90 * DAY - timedelta(seconds=1)) == "anna"
    assert ledger.person_for(token, T0 + 90 * DAY) is None
    listed = ledger.token(token_id)
    assert listed is not None and listed.state(T0 + 91 * DAY) == "expired"
    assert listed.state(T0) == "active"


def test_a_revoked_token_finds_nobody_and_keeps_its_first_revocation(ledger: Ledger) -> None:
    token_id, token = ledger.create_token("anna", now=T0)
    _, other = ledger.create_token("anna", now=T0)
    revoked = ledger.revoke_token(token_id, now=T0 + DAY)
    assert revoked is not None and revoked.revoked_at == T0 + DAY
    assert ledger.person_for(token, T0 + 2 * DAY) is None
    assert ledger.person_for(other, T0 + 2 * DAY) == "anna"
    again = ledger.revoke_token(token_id, now=T0 + 3 * DAY)
    assert again is not None and again.revoked_at == T0 + DAY
    assert again.state(T0 + 3 * DAY) == "revoked"


def test_a_token_is_revoked_by_the_token_itself_too(ledger: Ledger) -> None:
    _, token = ledger.create_token("anna", now=T0)
    assert ledger.revoke_token(token, now=T0) is not None
    assert ledger.person_for(token, T0) is None


@pytest.mark.parametrize("token_id", ["0123456789ab", "nope", "", "pg_x_y", "0123456789AB"])
def test_revoking_an_unknown_token_changes_nothing(
    ledger: Ledger, raw_sql: RawSql, token_id: str
) -> None:
    _, token = ledger.create_token("anna", now=T0)
    before = raw_sql("SELECT * FROM api_tokens")
    assert ledger.revoke_token(token_id) is None
    assert raw_sql("SELECT * FROM api_tokens") == before
    assert ledger.person_for(token, T0) == "anna"


def test_revoking_a_person_revokes_their_tokens_only(ledger: Ledger) -> None:
    anna = [ledger.create_token("anna", now=T0)[1] for _ in range(3)]
    _, bo = ledger.create_token("bo", now=T0)
    first_id = ledger.tokens("anna")[0].id
    ledger.revoke_token(first_id, now=T0)
    assert ledger.revoke_person("anna", now=T0 + DAY) == 2
    assert ledger.revoke_person("anna", now=T0 + 2 * DAY) == 0
    assert ledger.revoke_person("nobody") == 0
    assert [ledger.person_for(t, T0 + DAY) for t in anna] == [None, None, None]
    assert ledger.person_for(bo, T0 + DAY) == "bo"
    assert [t.revoked_at for t in ledger.tokens("anna")] == [T0, T0 + DAY, T0 + DAY]


def test_tokens_are_listed_oldest_first_without_secrets(ledger: Ledger) -> None:
    first, _ = ledger.create_token("anna", "laptop", now=T0)
    second, _ = ledger.create_token("bo", now=T0 + DAY)
    third, _ = ledger.create_token("anna", "ci", expires_at=T0 + 9 * DAY, now=T0 + 2 * DAY)
    assert [t.id for t in ledger.tokens()] == [first, second, third]
    annas = ledger.tokens("anna")
    assert [(t.id, t.name, t.created_at, t.expires_at) for t in annas] == [
        (first, "laptop", T0, None),
        (third, "ci", T0 + 2 * DAY, T0 + 9 * DAY),
    ]
    assert ledger.tokens("nobody") == []
    assert not {"secret", "secret_sha256", "hash"} & set(annas[0].__slots__)


@pytest.mark.parametrize(
    ("person", "name", "expires", "problem"),
    [
        ("Anna", None, None, "person 'Anna'"),
        ("", None, None, "person ''"),
        ("anna bo", None, None, "person 'anna bo'"),
        ("a" * 64, None, None, "person"),
        ("anna", "  ", None, "name"),
        ("anna", "x" * 201, None, "name"),
        ("anna", "bad\x1bname", None, "name"),
        ("anna", None, T0, "is not after now"),
        ("anna", None, T0 - DAY, "is not after now"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    ledger: Ledger,
    raw_sql: RawSql,
    person: str,
    name: str | None,
    expires: object,
    problem: str,
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        ledger.create_token(person, name, expires, now=T0)  # type: ignore[arg-type]
    assert raw_sql("SELECT count(*) FROM api_tokens") == [(0,)]


def test_a_naive_time_is_refused(ledger: Ledger, raw_sql: RawSql) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.create_token("anna", expires_at=(T0 + DAY).replace(tzinfo=None), now=T0)
    assert raw_sql("SELECT count(*) FROM api_tokens") == [(0,)]


def test_a_read_only_ledger_finds_the_person(ledger: Ledger, ledger_url: str) -> None:
    _, token = ledger.create_token("anna", now=T0)
    with Ledger.existing(ledger_url) as reader:
        assert reader.person_for(token, T0) == "anna"
        assert [t.person for t in reader.tokens()] == ["anna"]


def _migrate(url: str, step: Callable[[Config], None]) -> None:
    config = _alembic_config()
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        step(config)
    engine.dispose()


def test_a_ledger_at_0004_is_upgraded_keeping_what_it_holds(
    ledger_url: str, make_event: EventFactory, make_task: TaskFactory, raw_sql: RawSql
) -> None:
    _migrate(ledger_url, lambda config: command.upgrade(config, "0004"))
    with Ledger(ledger_url) as old:
        stored = old.append(make_event(seq=1))
        task = old.add_task(make_task())
        ledger_id = old.ledger_id()
    with pytest.raises(LedgerSchemaError, match=f"older than this phasegate's '{HEAD}'"):
        Ledger.existing(ledger_url)
    with Ledger(ledger_url) as upgraded:
        upgraded.migrate()
        assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
        assert upgraded.events() == [stored] and upgraded.ledger_id() == ledger_id
        assert upgraded.tasks() == [task]
        assert upgraded.tokens() == []
        _, token = upgraded.create_token("anna", now=T0)
    with Ledger.existing(ledger_url) as reader:
        assert reader.person_for(token, T0) == "anna"


def test_downgrading_0005_drops_only_the_tokens(
    ledger: Ledger, ledger_url: str, make_event: EventFactory, raw_sql: RawSql
) -> None:
    ledger.append(make_event(seq=1))
    ledger.create_token("anna")
    _migrate(ledger_url, lambda config: command.downgrade(config, "0004"))
    assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [("0004",)]
    assert raw_sql("SELECT count(*) FROM audit_events") == [(1,)]
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert "api_tokens" not in tables and "reports" in tables
