"""The dashboard's sessions (table ``web_sessions``): kept by the server, so that signing out
or revoking the session's API token ends it even for a copy of the cookie.

A session is named by 256 random bits (``secrets.token_urlsafe(32)``), which the signed
cookie carries; the ledger keeps only their SHA-256, so a copy of the database opens no
session. A session is active while it is not ended, not expired, and (for one opened with an
API token) its token is still an active token of the same person: one query checks all that.
Rows ended or expired more than ``KEEP`` ago are deleted when somebody signs in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ledger._schema import api_tokens, web_sessions
from ledger._time import utc
from ledger._tokens import check_person, token_id_of

__all__ = [
    "KEEP",
    "WebSession",
    "active",
    "end",
    "end_for_person_tokens",
    "end_for_token",
    "open_",
    "prune",
]

KEEP = timedelta(days=1)
"""How long an ended or expired session's row stays before a sign-in deletes it."""
MAX_SUBJECT = 500
_SECRET_BYTES = 32
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class WebSession:
    """An active dashboard session: whose, with which API token or OpenID Connect subject."""

    person: str
    token_id: str | None
    subject: str | None
    created_at: datetime
    expires_at: datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"a session's {name} must be timezone-aware")
    return value.astimezone(UTC)


def open_(
    conn: sa.Connection,
    person: str,
    token_id: str | None,
    subject: str | None,
    expires_at: datetime,
    now: datetime,
) -> str:
    """Store a new session of ``person`` opened with the API token ``token_id`` or the OpenID
    Connect ``subject`` (exactly one of them); its id, which only the caller gets. ValueError
    for a bad person, token id or subject, or an expiry not after ``now``. Prunes old rows."""
    check_person(person)
    if (token_id is None) == (subject is None):
        raise ValueError("a session is opened with an API token or an OpenID Connect subject")
    if token_id is not None and token_id_of(token_id) != token_id:
        raise ValueError(f"token id {token_id!r} is not a token's public id")
    if subject is not None and not (0 < len(subject) <= MAX_SUBJECT and subject.isprintable()):
        raise ValueError(f"subject: give 1 to {MAX_SUBJECT} printable characters")
    now, expires_at = _aware("now", now), _aware("expires_at", expires_at)
    if expires_at <= now:
        raise ValueError(f"expires_at {expires_at.isoformat()} is not after now")
    prune(conn, now)
    session_id = secrets.token_urlsafe(_SECRET_BYTES)
    conn.execute(
        sa.insert(web_sessions).values(
            id_sha256=_digest(session_id),
            person=person,
            token_id=token_id,
            subject=subject,
            created_at=now,
            expires_at=expires_at,
            ended_at=None,
        )
    )
    return session_id


def active(conn: sa.Connection, session_id: str, now: datetime) -> WebSession | None:
    """The session ``session_id`` names if it is active at ``now``: not ended, not expired,
    and its API token (if it has one) an active token of the same person. One query."""
    if not _SESSION_ID.match(session_id):
        return None
    now = _aware("now", now)
    s, t = web_sessions.c, api_tokens.c
    token_ok = sa.and_(
        t.id.is_not(None),
        t.person == s.person,
        t.revoked_at.is_(None),
        sa.or_(t.expires_at.is_(None), t.expires_at > now),
    )
    row = (
        conn.execute(
            sa.select(s.person, s.token_id, s.subject, s.created_at, s.expires_at)
            .select_from(web_sessions.outerjoin(api_tokens, t.id == s.token_id))
            .where(
                s.id_sha256 == _digest(session_id),
                s.ended_at.is_(None),
                s.expires_at > now,
                sa.or_(s.token_id.is_(None), token_ok),
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return WebSession(
        person=row["person"],
        token_id=row["token_id"],
        subject=row["subject"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
    )


def end(conn: sa.Connection, session_id: str, now: datetime) -> bool:
    """End the session ``session_id``; whether it was one not ended yet."""
    if not _SESSION_ID.match(session_id):
        return False
    s = web_sessions.c
    result = conn.execute(
        sa.update(web_sessions)
        .where(s.id_sha256 == _digest(session_id), s.ended_at.is_(None))
        .values(ended_at=_aware("now", now))
    )
    return bool(result.rowcount)


def end_for_token(conn: sa.Connection, token_id: str, now: datetime) -> int:
    """End every session opened with the API token ``token_id``; how many were open."""
    s = web_sessions.c
    result = conn.execute(
        sa.update(web_sessions)
        .where(s.token_id == token_id, s.ended_at.is_(None))
        .values(ended_at=_aware("now", now))
    )
    return int(result.rowcount)


def end_for_person_tokens(conn: sa.Connection, person: str, now: datetime) -> int:
    """End every session opened with any API token of ``person``; how many were open."""
    s, t = web_sessions.c, api_tokens.c
    result = conn.execute(
        sa.update(web_sessions)
        .where(
            s.token_id.in_(sa.select(t.id).where(t.person == person)),
            s.ended_at.is_(None),
        )
        .values(ended_at=_aware("now", now))
    )
    return int(result.rowcount)


def prune(conn: sa.Connection, now: datetime, keep: timedelta = KEEP) -> int:
    """Delete the rows of sessions ended or expired more than ``keep`` before ``now``."""
    s = web_sessions.c
    before = _aware("now", now) - keep
    result = conn.execute(
        sa.delete(web_sessions).where(sa.or_(s.ended_at < before, s.expires_at < before))
    )
    return int(result.rowcount)
