"""The model registry of a SQLite ledger file, read with the standard library's ``sqlite3``:
what ``Ledger.existing(url).published_model(...)`` / ``.published_models()`` give, for the
commands that only read models (``model list``, ``model validate``), which then start
without SQLAlchemy and Alembic (~0.3 s).

The same checks as the ledger's: the schema at this code's newest migration (``HEAD``), each
row by ``entry_from_row``, the same order. A database error is ``sqlite3.Error``.
"""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import Any, Self

from ledger._published import (
    MODELS_TABLE,
    REGISTRY_COLUMNS,
    PublishedModel,
    entry_from_row,
    in_order,
)
from ledger._revisions import (
    HEAD,
    REVISIONS,
    VERSION_TABLE,
    check_revision,
    no_file,
    no_tables,
    only_revision,
)
from ledger._sqlite import plain_sqlite_file, read_only_connect, sqlite_url

_COLUMNS = ", ".join(REGISTRY_COLUMNS)


class RegistryFile:
    """The published models of the SQLite ledger at a plain ``sqlite:///`` URL, read only."""

    def __init__(self, conn: sqlite3.Connection, has_models: bool) -> None:
        self._conn = conn
        self._has_models = has_models

    @classmethod
    def existing(cls, url: str) -> Self:
        """The registry of the ledger at ``url``; ``LedgerMissing`` when there is none there
        (no database file, or a database without a ledger's tables), ``LedgerSchemaError``
        when it is at another migration than this code's. Creates nothing, changes nothing.
        ``ValueError`` for a URL that is not a plain SQLite file's (``plain_sqlite_file``)."""
        path = plain_sqlite_file(url)
        if path is None:
            raise ValueError(f"not the URL of a SQLite file: {url}")
        shown = sqlite_url(str(path))
        if not path.is_file():
            raise no_file(shown)
        conn = read_only_connect(str(path))()
        try:
            conn.isolation_level = None  # the transaction below is ours
            conn.execute("BEGIN")  # one snapshot: the revision checked is the rows' schema
            tables = {
                name
                for (name,) in conn.execute(
                    # a view too, as SQLAlchemy's has_table
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                    "AND name IN (?, ?)",
                    (VERSION_TABLE, MODELS_TABLE),
                )
            }
            if VERSION_TABLE not in tables:
                raise no_tables(shown)
            recorded = [v for (v,) in conn.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
            current = only_revision(shown, recorded)
            check_revision(shown, current, head=HEAD, known=current in REVISIONS, upgradable=False)
        except BaseException:
            conn.close()
            raise
        return cls(conn, MODELS_TABLE in tables)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def published_model(self, name: str, version: str) -> PublishedModel | None:
        """The published name@version, or None."""
        if not self._has_models:
            return None
        rows = self._rows(" WHERE name = ? AND version = ? LIMIT 1", (name, version))
        return next((entry_from_row(row) for row in rows), None)

    def published_models(self) -> list[PublishedModel]:
        """Every published model, by name and version."""
        if not self._has_models:
            return []
        return in_order(entry_from_row(row) for row in self._rows("", ()))

    def _rows(self, where: str, args: tuple[str, ...]) -> list[dict[str, Any]]:
        cursor = self._conn.execute(f"SELECT {_COLUMNS} FROM {MODELS_TABLE}{where}", args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor]
