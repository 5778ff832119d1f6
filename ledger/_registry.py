"""The model registry: governance models the PMO published, one immutable entry per
name@version, in the ledger's database (table ``models``). Each row read is checked by
``_published.entry_from_row``, as ``RegistryFile`` (sqlite3, no SQLAlchemy) checks it.

The names of the built-in models are reserved, so a copy can never stand in for a built-in.
An entry stores the model's canonical JSON and its SHA-256; reading an entry checks both.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from governance import GovernanceModel
from ledger._errors import ModelRefused
from ledger._published import (
    REGISTRY_COLUMNS,
    PublishedModel,
    check_publishable,
    entry_from_row,
    in_order,
)
from ledger._schema import models

MAX_PUBLISHER = 200
_ROWS = sa.select(
    *(
        sa.type_coerce(models.c[name], sa.Text).label(name)  # parsed by entry_from_row
        if name == "published_at"
        else models.c[name]
        for name in REGISTRY_COLUMNS
    )
)
"""The rows ``entry_from_row`` reads, ``published_at`` unparsed (SQLite's text as stored)."""


def publish(
    conn: sa.Connection, model: GovernanceModel, published_by: str, at: datetime
) -> tuple[PublishedModel, bool]:
    """Store ``model`` under its name@version; ``(entry, True)`` when new, ``(the stored
    entry, False)`` when that exact content is already there. Refuses a built-in's name and
    a name@version already published with other content (naming both hashes)."""
    check_publishable(model)
    if not published_by or len(published_by) > MAX_PUBLISHER:
        raise ValueError(f"published_by must be 1 to {MAX_PUBLISHER} characters")
    digest = model.content_hash()
    stored = get(conn, model.name, model.version)
    if stored is not None:
        if stored.sha256 == digest:
            return stored, False
        raise ModelRefused(
            f"{model.ref} is already published with other content (sha256 {stored.sha256}, "
            f"by {stored.published_by} at {stored.published_at.isoformat()}); this one has "
            f"sha256 {digest}. A published version never changes: give the new one another "
            "version"
        )
    at = at.astimezone(UTC)
    conn.execute(
        sa.insert(models).values(
            name=model.name,
            version=model.version,
            content=model.canonical_json(),
            sha256=digest,
            published_at=at,
            published_by=published_by,
        )
    )
    return PublishedModel(model, digest, at, published_by), True


def get(conn: sa.Connection, name: str, version: str) -> PublishedModel | None:
    """The entry for name@version, or None (also when the schema predates the registry)."""
    if not sa.inspect(conn).has_table(models.name):
        return None
    row = (
        conn.execute(_ROWS.where(models.c.name == name, models.c.version == version))
        .mappings()
        .first()
    )
    return None if row is None else entry_from_row(row)


def published(conn: sa.Connection) -> list[PublishedModel]:
    """Every entry, by name, then version (numerically)."""
    if not sa.inspect(conn).has_table(models.name):
        return []
    return in_order(entry_from_row(row) for row in conn.execute(_ROWS).mappings())
