"""Initial ledger: audit_events (hash-chained, append-only) and tasks (the inbox).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(200), nullable=True),
        sa.Column("to_state", sa.String(200), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("role", sa.String(200), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_hash", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("project_id", "seq", name="uq_audit_events_project_seq"),
    )
    op.create_table(
        "tasks",
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
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name="ck_tasks_status"),
    )
    op.create_index("ix_tasks_assignee_status", "tasks", ["assignee", "status"])
    op.create_index("ix_tasks_project_gate_status", "tasks", ["project_id", "gate", "status"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("audit_events")
