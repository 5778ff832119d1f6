"""The dashboard's sessions in the ledger: only the SHA-256 of a session's id stored, active
only while not ended, not expired and (for a token's session) its token still active, ended by
signing out and by revoking the token, old rows pruned at sign-in, bad input refused with
nothing stored, and a ledger from before them migrated (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from ledger_support import HEAD, T0, EventFactory, RawSql

from ledger import Ledger, WebSession
from ledger._engine import create_engine
from ledger._ledger import _alembic_config
from ledger._schema import VERSION_TABLE

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_a_session_id_is_random_and_only_its_hash_is_stored(
    ledger: Ledger, raw_sql: RawSql
) -> None:
    token_id, _ = ledger.create_token("anna", now=T0)
    first = ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    second = ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    assert first != second and re.fullmatch(r"[A-Za-z0-9_-]{43}", first)
    rows = raw_sql("SELECT * FROM web_sessions")
    assert len(rows) == 2
    assert hashlib.sha256(first.encode()).hexdigest() in {row[0] for row in rows}
    assert not any(first in str(cell) or second in str(cell) for row in rows for cell in row)
    assert ledger.web_session(first, T0 + HOUR / 2) == WebSession(
        "anna", token_id, None, T0, T0 + HOUR
    )


def test_signing_out_ends_a_session_and_only_that_one(ledger: Ledger) -> None:
    token_id, _ = ledger.create_token("anna", now=T0)
    gone = ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    kept = ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    assert ledger.end_web_session(gone, now=T0 + HOUR / 4)
    assert not ledger.end_web_session(gone, now=T0 + HOUR / 3)  # ended already
    now = T0 + HOUR / 2
    assert ledger.web_session(gone, now) is None
    assert ledger.web_session(kept, now) is not None


def test_an_unknown_or_malformed_id_is_no_session(ledger: Ledger) -> None:
    token_id, _ = ledger.create_token("anna", now=T0)
    sid = ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    for other in ("", "x" * 43, sid[:-1], sid + "a", "' OR 1=1 --", token_id):
        assert ledger.web_session(other, T0) is None
        assert not ledger.end_web_session(other, now=T0)
    assert ledger.web_session(sid, T0) is not None


def test_a_session_ends_at_its_expiry(ledger: Ledger) -> None:
    sid = ledger.open_web_session("bo", T0 + HOUR, subject="idp|bo", now=T0)
    assert ledger.web_session(sid, T0 + HOUR - timedelta(seconds=1)) == WebSession(
        "bo", None, "idp|bo", T0, T0 + HOUR
    )
    assert ledger.web_session(sid, T0 + HOUR) is None


def test_a_tokens_session_lives_only_while_its_token_is_active(ledger: Ledger) -> None:
    short_id, _ = ledger.create_token("anna", "short", expires_at=T0 + HOUR, now=T0)
    sid = ledger.open_web_session("anna", T0 + 2 * HOUR, token_id=short_id, now=T0)
    assert ledger.web_session(sid, T0 + HOUR / 2) is not None
    assert ledger.web_session(sid, T0 + HOUR) is None  # the token expired, not the session
    # A session naming another person's token, or a token the ledger does not have.
    bo_id, _ = ledger.create_token("bo", now=T0)
    assert (
        ledger.web_session(ledger.open_web_session("anna", T0 + HOUR, token_id=bo_id, now=T0), T0)
        is None
    )
    stranger = ledger.open_web_session("anna", T0 + HOUR, token_id="0" * 12, now=T0)
    assert ledger.web_session(stranger, T0) is None


def test_revoking_a_token_ends_its_sessions(ledger: Ledger, raw_sql: RawSql) -> None:
    one, _ = ledger.create_token("anna", "one", now=T0)
    two, _ = ledger.create_token("anna", "two", now=T0)
    on_one = ledger.open_web_session("anna", T0 + DAY, token_id=one, now=T0)
    on_two = ledger.open_web_session("anna", T0 + DAY, token_id=two, now=T0)
    ledger.revoke_token(one, now=T0 + HOUR)
    assert ledger.web_session(on_one, T0 + HOUR) is None
    assert ledger.web_session(on_two, T0 + HOUR) is not None
    ended = raw_sql("SELECT token_id FROM web_sessions WHERE ended_at IS NOT NULL")
    assert ended == [(one,)]


def test_revoking_a_persons_tokens_ends_their_token_sessions_only(
    ledger: Ledger, raw_sql: RawSql
) -> None:
    anna_tokens = [ledger.create_token("anna", name, now=T0)[0] for name in ("a", "b")]
    bo_token, _ = ledger.create_token("bo", now=T0)
    annas = [ledger.open_web_session("anna", T0 + DAY, token_id=t, now=T0) for t in anna_tokens]
    bos = ledger.open_web_session("bo", T0 + DAY, token_id=bo_token, now=T0)
    oidc = ledger.open_web_session("anna", T0 + DAY, subject="anna@idp", now=T0)
    assert ledger.revoke_person("anna", now=T0 + HOUR) == 2
    now = T0 + 2 * HOUR
    assert all(ledger.web_session(s, now) is None for s in annas)
    assert ledger.web_session(bos, now) is not None
    assert ledger.web_session(oidc, now) is not None  # no token of hers: the IdP's to end
    assert raw_sql("SELECT count(*) FROM web_sessions WHERE ended_at IS NOT NULL") == [(2,)]


@pytest.mark.parametrize(
    ("person", "token_id", "subject", "expires", "now", "message"),
    [
        ("Anna Smith", "0123456789ab", None, T0 + HOUR, T0, "person"),
        ("anna", None, None, T0 + HOUR, T0, "an API token or an OpenID"),
        ("anna", "0123456789ab", "sub", T0 + HOUR, T0, "an API token or an OpenID"),
        ("anna", "pg_0123456789ab_x", None, T0 + HOUR, T0, "public id"),
        ("anna", None, "s" * 501, T0 + HOUR, T0, "subject"),
        ("anna", None, "line\nbreak", T0 + HOUR, T0, "subject"),
        ("anna", None, "sub", T0, T0, "not after now"),
        ("anna", None, "sub", T0 - HOUR, T0, "not after now"),
        ("anna", None, "sub", (T0 + HOUR).replace(tzinfo=None), T0, "timezone-aware"),
        ("anna", None, "sub", T0 + HOUR, T0.replace(tzinfo=None), "timezone-aware"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    ledger: Ledger,
    raw_sql: RawSql,
    person: str,
    token_id: str | None,
    subject: str | None,
    expires: datetime,
    now: datetime,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        ledger.open_web_session(person, expires, token_id=token_id, subject=subject, now=now)
    assert raw_sql("SELECT count(*) FROM web_sessions") == [(0,)]


def test_signing_in_deletes_sessions_ended_or_expired_over_a_day_ago(
    ledger: Ledger, raw_sql: RawSql
) -> None:
    old_end = ledger.open_web_session("anna", T0 + DAY, subject="a", now=T0)
    ledger.end_web_session(old_end, now=T0 + HOUR)
    ledger.open_web_session("anna", T0 + HOUR, subject="a", now=T0)  # expires at T0 + 1 h
    recent_end = ledger.open_web_session("anna", T0 + 3 * DAY, subject="a", now=T0)
    ledger.end_web_session(recent_end, now=T0 + DAY + 2 * HOUR)
    live = ledger.open_web_session("anna", T0 + 3 * DAY, subject="a", now=T0)
    assert raw_sql("SELECT count(*) FROM web_sessions") == [(4,)]
    later = T0 + DAY + 3 * HOUR  # both old rows are over a day past; the recent end is not
    fresh = ledger.open_web_session("anna", later + HOUR, subject="a", now=later)
    digests = {row[0] for row in raw_sql("SELECT id_sha256 FROM web_sessions")}
    assert digests == {hashlib.sha256(s.encode()).hexdigest() for s in (recent_end, live, fresh)}
    assert ledger.web_session(live, later) is not None


def test_a_time_in_another_zone_is_the_same_instant(ledger: Ledger) -> None:
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    sid = ledger.open_web_session("anna", plus_two + HOUR, subject="a", now=plus_two)
    assert ledger.web_session(sid, T0 + HOUR - timedelta(seconds=1)) is not None
    assert ledger.web_session(sid, T0 + HOUR) is None


def _migrate(url: str, step: Callable[[Config], None]) -> None:
    config = _alembic_config()
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        step(config)
    engine.dispose()


def test_a_ledger_at_0006_is_upgraded_keeping_its_tokens(
    ledger_url: str, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _migrate(ledger_url, lambda config: command.upgrade(config, "0006"))
    with Ledger(ledger_url) as old:
        stored = old.append(make_event(seq=1))
        token_id, _ = old.create_token("anna", now=T0)
    with Ledger(ledger_url) as upgraded:
        upgraded.migrate()
        assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [(HEAD,)]
        assert upgraded.events() == [stored]
        sid = upgraded.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    with Ledger.existing(ledger_url) as reader:  # as the dashboard opens it
        assert reader.web_session(sid, T0) is not None
        assert reader.end_web_session(sid, now=T0)
        assert reader.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)


def test_downgrading_0007_drops_only_the_sessions(
    ledger: Ledger, ledger_url: str, raw_sql: RawSql
) -> None:
    token_id, _ = ledger.create_token("anna", now=T0)
    ledger.open_web_session("anna", T0 + HOUR, token_id=token_id, now=T0)
    _migrate(ledger_url, lambda config: command.downgrade(config, "0006"))
    assert raw_sql(f"SELECT version_num FROM {VERSION_TABLE}") == [("0006",)]
    assert raw_sql("SELECT count(*) FROM api_tokens") == [(1,)]
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert "web_sessions" not in tables and "deliveries" in tables
