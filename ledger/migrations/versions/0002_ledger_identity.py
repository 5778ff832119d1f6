"""A ledger identity (pinned by every project that writes to it) and withdrawn tasks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATUS = "status IN ('open', 'done', 'cancelled')"
_NEW_STATUS = "status IN ('open', 'done', 'cancelled', 'withdrawn')"


def _tasks(check: str) -> sa.Table:
    """The tasks table as 0001 made it (SQLite does not reflect CHECK constraints)."""
    return sa.Table(
        "tasks",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(200), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("role", sa.String(200), nullable=False),
        sa.Column("gate", sa.String(200), nullable=True),
        sa.Column("due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("project_id", "key", name="uq_tasks_project_key"),
        sa.CheckConstraint(check, name="ck_tasks_status"),
        sa.Index("ix_tasks_assignee_status", "assignee", "status"),
        sa.Index("ix_tasks_project_gate_status", "project_id", "gate", "status"),
    )


def upgrade() -> None:
    meta = op.create_table(
        "ledger_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "ledger_id", "value": uuid.uuid4().hex}])
    with op.batch_alter_table("tasks", copy_from=_tasks(_OLD_STATUS)) as batch:
        batch.drop_constraint("ck_tasks_status", type_="check")
        batch.create_check_constraint("ck_tasks_status", _NEW_STATUS)


def downgrade() -> None:
    with op.batch_alter_table("tasks", copy_from=_tasks(_NEW_STATUS)) as batch:
        batch.drop_constraint("ck_tasks_status", type_="check")
        batch.create_check_constraint("ck_tasks_status", _OLD_STATUS)
    op.drop_table("ledger_meta")
