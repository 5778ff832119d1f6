"""Personal API tokens (table ``api_tokens``): who a REST API request comes from.

A token reads ``pg_<id>_<secret>``: ``id`` is public (lists and revocation name it, so a
person can tell their tokens apart), ``secret`` is 256 random bits. The ledger keeps the
SHA-256 of the whole token and never the token, so a copy of the database lets nobody act as
anyone. A 256-bit secret needs no slow hash (argon2 and the like guard guessable passwords):
nobody can search that space, whatever the hash costs.

Checking a token finds its row by the public id and compares the hashes in constant time;
a revoked or expired token is no token. Rows are never deleted: a revoked token stays listed
with when it was revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from governance import Line, Slug
from ledger._schema import api_tokens
from ledger._time import utc

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "TokenState",
    "check_person",
    "check_request",
    "create",
    "get",
    "listed",
    "person_for",
    "revoke",
    "revoke_person",
    "token_id_of",
]

TOKEN_PREFIX = "pg_"
_ID_BYTES = 6  # 12 hex digits: short enough to type, and a clash is retried
_SECRET_BYTES = 32  # 256 bits
_TOKEN = re.compile(r"^pg_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
_TOKEN_ID = re.compile(r"^[0-9a-f]{12}$")
MAX_NAME = 200
_UNUSED_HASH = hashlib.sha256(b"no such token").hexdigest()

TokenState = Literal["active", "expired", "revoked"]

_SLUG: TypeAdapter[str] = TypeAdapter(Slug)
_LINE: TypeAdapter[str] = TypeAdapter(Line)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as lists show it: never its secret, nor the secret's hash."""

    id: str
    person: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> TokenState:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_person(person: str) -> str:
    """``person`` if it is a person id as charters write them (a slug); else ValueError."""
    try:
        return _SLUG.validate_python(person)
    except ValidationError as exc:
        raise ValueError(f"person {person!r}: {exc.errors()[0]['msg']}") from None


def check_request(person: str, name: str | None = None) -> None:
    """ValueError, saying why, unless a token can be made for ``person`` under ``name``."""
    check_person(person)
    _check_name(name)


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        _LINE.validate_python(name)
    except ValidationError as exc:
        raise ValueError(f"name {name!r}: {exc.errors()[0]['msg']}") from None
    if not name.strip() or len(name) > MAX_NAME:
        raise ValueError(f"name {name!r}: give 1 to {MAX_NAME} characters, not only blanks")
    return name


def token_id_of(text: str) -> str | None:
    """The public id ``text`` names: a token id, or a whole token; None if it is neither."""
    if _TOKEN_ID.match(text):
        return text
    m = _TOKEN.match(text)
    return m["id"] if m else None


def create(
    conn: sa.Connection,
    person: str,
    name: str | None,
    expires_at: datetime | None,
    now: datetime,
) -> tuple[str, str]:
    """Store a new token of ``person``; ``(its id, the token)``. The token is not kept: the
    caller shows it once. An id already taken raises IntegrityError (the caller tries again)."""
    check_request(person, name)
    if now.tzinfo is None or (expires_at is not None and expires_at.tzinfo is None):
        raise ValueError("a token's times must be timezone-aware")
    if expires_at is not None and expires_at <= now:
        raise ValueError(f"expires_at {expires_at.isoformat()} is not after now")
    token_id = secrets.token_hex(_ID_BYTES)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    conn.execute(
        sa.insert(api_tokens).values(
            id=token_id,
            person=person,
            name=name,
            secret_sha256=_digest(token),
            created_at=now.astimezone(UTC),
            expires_at=expires_at.astimezone(UTC) if expires_at is not None else None,
            revoked_at=None,
        )
    )
    return token_id, token


def _from_row(row: sa.RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        person=row["person"],
        name=row["name"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
        revoked_at=utc(row["revoked_at"]),
    )


def listed(conn: sa.Connection, person: str | None) -> list[ApiToken]:
    """Every token (of ``person``), oldest first."""
    t = api_tokens.c
    query = sa.select(api_tokens).order_by(t.created_at, t.id)
    if person is not None:
        query = query.where(t.person == person)
    return [_from_row(row) for row in conn.execute(query).mappings()]


def get(conn: sa.Connection, token_id: str) -> ApiToken | None:
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
    return _from_row(row) if row is not None else None


def revoke(conn: sa.Connection, token_id: str, now: datetime) -> ApiToken | None:
    """Revoke the token ``token_id`` (an id, or the whole token); the token as it is now,
    None when there is no such token. A token revoked before keeps its first ``revoked_at``."""
    found = token_id_of(token_id)
    if found is None:
        return None
    t = api_tokens.c
    conn.execute(
        sa.update(api_tokens)
        .where(t.id == found, t.revoked_at.is_(None))
        .values(revoked_at=now.astimezone(UTC))
    )
    return get(conn, found)


def revoke_person(conn: sa.Connection, person: str, now: datetime) -> int:
    """Revoke every token of ``person`` not revoked yet; how many that was."""
    t = api_tokens.c
    result = conn.execute(
        sa.update(api_tokens)
        .where(t.person == person, t.revoked_at.is_(None))
        .values(revoked_at=now.astimezone(UTC))
    )
    return int(result.rowcount)


def person_for(conn: sa.Connection, token: str, now: datetime) -> str | None:
    """Whose ``token`` this is; None for anything but an active token of the ledger's."""
    m = _TOKEN.match(token)
    row = (
        conn.execute(sa.select(api_tokens).where(api_tokens.c.id == m["id"])).mappings().first()
        if m is not None
        else None
    )
    # Compared even when there is no row, so an unknown id takes the time a known one takes.
    stored = row["secret_sha256"] if row is not None else _UNUSED_HASH
    if not hmac.compare_digest(stored, _digest(token)) or row is None:
        return None
    found = _from_row(row)
    return found.person if found.state(now) == "active" else None
