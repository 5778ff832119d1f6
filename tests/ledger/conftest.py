"""Fixtures: every ledger test runs on a real SQLite file and on a fresh PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from ledger_support import T0, EventFactory, RawSql, TaskFactory

from governance.audit import AuditEventIn, EventKind, GateTaskIn
from ledger import Ledger

PG_ADMIN_URL = os.environ.get(
    "PHASEGATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    """The `postgres` database in autocommit mode; fails (never skips) if the server is down."""
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the ledger tests ({PG_ADMIN_URL}): {exc}")
    yield engine
    engine.dispose()


@pytest.fixture
def new_pg_database(pg_admin: sa.Engine) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty PostgreSQL databases; drops them after the test."""
    created: list[str] = []

    def create() -> str:
        name = f"phasegate_t_{uuid.uuid4().hex}"
        with pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return str(sa.make_url(PG_ADMIN_URL).set(database=name))

    yield create
    with pg_admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(
    request: pytest.FixtureRequest, tmp_path: Any, new_pg_database: Callable[[], str]
) -> str:
    """URL of an empty, not yet migrated database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'ledger.db'}"
    return new_pg_database()


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    with Ledger(ledger_url) as migrated:
        migrated.migrate()
        yield migrated


@pytest.fixture
def raw_sql(ledger_url: str) -> Iterator[RawSql]:
    """Runs SQL behind the ledger's back (to tamper with rows); returns fetched rows."""
    engine = sa.create_engine(ledger_url)

    def run(statement: str, **params: Any) -> list[Any]:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []

    yield run
    engine.dispose()


@pytest.fixture
def make_event() -> EventFactory:
    def make(project_id: str = "proj-a", seq: int = 1, **fields: Any) -> AuditEventIn:
        values: dict[str, Any] = {
            "project_id": project_id,
            "seq": seq,
            "at": T0 + timedelta(minutes=seq),
            "kind": EventKind.vote_cast,
            "from_state": "idea",
            "to_state": "idea",
            "actor": "alice",
            "role": "executive",
            "comment": f"vote {seq}: åäö ✓",
            "payload": {"decision": "go", "n": seq, "ratio": 0.5, "tags": ["a", "b"]},
            "model": "projektflodet@1.0.0",
            "model_hash": "ab" * 32,
            "workflow_id": f"project-{project_id}",
            "run_id": "run-1",
        }
        values.update(fields)
        return AuditEventIn(**values)

    return make


@pytest.fixture
def make_task() -> TaskFactory:
    def make(
        key: str = "idea_gate/1/review", project_id: str = "proj-a", **fields: Any
    ) -> GateTaskIn:
        values: dict[str, Any] = {
            "project_id": project_id,
            "key": key,
            "title": f"Review {key}",
            "assignee": "alice",
            "role": "executive",
            "gate": "idea_gate",
            "due": T0 + timedelta(days=5),
            "created_at": T0,
        }
        values.update(fields)
        return GateTaskIn(**values)

    return make
