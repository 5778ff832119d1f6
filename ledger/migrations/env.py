"""Alembic environment of the ledger.

`Ledger.migrate()` passes an open connection (already inside a locked transaction) in
`config.attributes["connection"]`. From the alembic command line, pass `-x url=...`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from ledger._engine import create_engine
from ledger._ledger import VERSION_TABLE
from ledger._schema import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("the ledger migrations run online only")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("pass the database URL: alembic -x url=... ")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
