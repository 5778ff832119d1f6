"""Schema migrations: idempotent, safe from several processes, matching the table definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from ledger_support import HEAD, EventFactory, RawSql, run_concurrently

from ledger import Ledger
from ledger._schema import metadata


def test_migrate_twice_is_a_no_op_that_keeps_the_data(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    stored = ledger.append(make_event())
    ledger.migrate()
    ledger.migrate()
    assert raw_sql("SELECT version_num FROM ledger_alembic_version") == [(HEAD,)]
    assert ledger.events() == [stored]


def test_migrate_creates_tables_matching_the_schema_definitions(
    ledger: Ledger, ledger_url: str
) -> None:
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": "ledger_alembic_version"}
        )
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_concurrent_migrate_from_processes_leaves_one_schema(ledger_url: str) -> None:
    assert run_concurrently([["migrate", ledger_url]] * 3) == ["migrated"] * 3
    engine = sa.create_engine(ledger_url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) >= {"audit_events", "tasks"}
        versions = conn.execute(sa.text("SELECT version_num FROM ledger_alembic_version"))
        assert list(versions) == [(HEAD,)]
    engine.dispose()


@pytest.mark.postgres
def test_migrate_on_a_fresh_postgres_database_allows_appending(
    new_pg_database: Callable[[], str], make_event: EventFactory
) -> None:
    with Ledger(new_pg_database()) as ledger:
        ledger.migrate()
        assert ledger.append(make_event()).seq == 1


def test_a_ledger_has_one_identity_that_migrating_again_keeps(ledger: Ledger) -> None:
    first = ledger.ledger_id()
    ledger.migrate()
    assert ledger.ledger_id() == first
    assert len(first) == 32 and int(first, 16) >= 0


def test_two_ledgers_have_different_identities(ledger: Ledger, tmp_path: Any) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'other.db'}") as other:
        other.migrate()
        assert other.ledger_id() != ledger.ledger_id()
