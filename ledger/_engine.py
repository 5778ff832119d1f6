"""Engine creation: SQLite gets WAL, a busy timeout and write transactions that lock up front.

A read-only engine (for commands that only read) never creates nor changes the file, and reads
a ledger in a directory it may not write to: SQLite's ``mode=ro``, and when even that needs to
write (a WAL file's shared-memory index cannot be created there) ``immutable=1``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from ledger._sqlite import BUSY_TIMEOUT_S, read_only_connect

WRITE = "phasegate_write"
"""Execution option: the transaction will write (SQLite takes the write lock at BEGIN)."""


def is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    return None if is_memory_sqlite(url) or url.database is None else Path(url.database)


def create_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)

    memory = is_memory_sqlite(parsed)
    path = sqlite_file(parsed)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    if read_only and path is not None:
        kwargs["creator"] = read_only_connect(str(path))
    elif path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if memory:
        # One shared connection, so every thread sees the same database; the Ledger
        # serialises access to it.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    engine = sa.create_engine(parsed, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (below) emit BEGIN instead of pysqlite's implicit, DDL-committing one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if not memory and not read_only:
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred read-then-write transaction under WAL fails with SQLITE_BUSY_SNAPSHOT
        # when another writer commits in between; IMMEDIATE waits for the lock instead.
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (it stays so). Switching needs an exclusive lock and SQLite
    answers "database is locked" at once, without the busy handler, when several processes
    open a new file together: retry for as long as the busy timeout allows."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
