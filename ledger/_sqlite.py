"""SQLite without SQLAlchemy: the file a plain ``sqlite:///`` URL names, that URL as SQLAlchemy
renders it, and the read-only connections of a reader (the read-only engine's and the
registry reader's)."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from pathlib import Path

BUSY_TIMEOUT_S = 30
_PLAIN = "sqlite:///"


def sqlite_url(database: str) -> str:
    """The URL of the SQLite file ``database`` as SQLAlchemy renders ``URL.create("sqlite",
    database=...)``: ``?``, ``%``, ``#`` and the like escaped."""
    return _PLAIN + urllib.parse.quote(database, safe=" +/")


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL, as SQLAlchemy parses it (``PATH``
    %-unescaped); None for any other URL: another database, a named driver, a query, a
    user, an in-memory database."""
    if not url.startswith(_PLAIN):
        return None
    rest = url.removeprefix(_PLAIN)
    if "?" in rest:  # options SQLAlchemy would pass on: leave such a URL to it
        return None
    database = urllib.parse.unquote(rest)
    if database in ("", ":memory:"):
        return None
    return Path(database)


def read_only_connect(path: str) -> Callable[[], sqlite3.Connection]:
    """Connections that never create the file: read-write where the file and its folder are
    writable (so SQLite tidies its -wal/-shm files away on close, as for any reader), else
    ``mode=ro``, else ``immutable=1``, which reads the main file alone: refused
    (``sqlite3.OperationalError``) while a -wal file holds commits not yet in it."""
    file = Path(path).resolve()
    uri = f"file:{urllib.parse.quote(str(file))}?mode=ro"

    def connect() -> sqlite3.Connection:
        if os.access(file, os.W_OK) and os.access(file.parent, os.W_OK):
            rw = f"file:{urllib.parse.quote(str(file))}?mode=rw"
            return sqlite3.connect(rw, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
            return conn
        except sqlite3.OperationalError:  # "attempt to write a readonly database"
            conn.close()
        wal = file.with_name(file.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:  # immutable=1 would read past its commits
            raise sqlite3.OperationalError(
                f"{wal} holds changes not yet in {file.name}, which only a user who may "
                f"write to {file.parent} can read (the ledger's owner, e.g. the worker)"
            )
        return sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)

    return connect
