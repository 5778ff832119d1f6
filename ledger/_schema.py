"""Table definitions (SQLAlchemy Core). The migrations create the same tables."""

from __future__ import annotations

import sqlalchemy as sa

from ledger._published import MODELS_TABLE
from ledger._revisions import VERSION_TABLE as VERSION_TABLE

metadata = sa.MetaData()


audit_events = sa.Table(
    "audit_events",
    metadata,
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

tasks = sa.Table(
    "tasks",
    metadata,
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
    sa.CheckConstraint(
        "status IN ('open', 'done', 'cancelled', 'withdrawn')", name="ck_tasks_status"
    ),
    sa.Index("ix_tasks_assignee_status", "assignee", "status"),
    sa.Index("ix_tasks_project_gate_status", "project_id", "gate", "status"),
)

ledger_meta = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
"""Facts about the ledger itself; ``ledger_id`` (made by migration 0002) names this ledger, so
a worker on another ledger can be told apart from the one a project writes to."""

models = sa.Table(
    MODELS_TABLE,
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("name", "version", name="uq_models_name_version"),
)
"""The model registry (made by migration 0003): governance models the PMO published.
``content`` is the model's canonical JSON, ``sha256`` its hash (the model's content hash);
a name@version is written once and never changed."""

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("markdown", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint(
        "project_id", "kind", "number", "sha256", name="uq_reports_project_kind_number_sha"
    ),
    sa.CheckConstraint("kind IN ('highlight', 'exception')", name="ck_reports_kind"),
)
"""Reports the projects issued (made by migration 0004): highlight and exception reports, as
JSON ``content`` and its rendering in ``markdown``; ``sha256`` is the content's (canonical
JSON) hash, which the ``report_issued`` event carries. Written once, never changed; a number
holds two reports only when a Temporal reset superseded the first (see ledger/_reports.py)."""

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("person", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_api_tokens_person", "person"),
)
"""Personal API tokens (made by migration 0005): the REST API's credentials. ``id`` is the
token's public id (the token itself reads ``pg_<id>_<secret>``); only the SHA-256 of the
whole token is kept, never the token. A token is never deleted: it is revoked (``revoked_at``)
or it expires (``expires_at``)."""

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("project_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("message", sa.JSON, nullable=False),
    sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("key", name="uq_notifications_key"),
    sa.Index("ix_notifications_routed_at", "routed_at"),
)
"""The outbox (made by migration 0006): one row per notification a transition sent, written in
the transition's own transaction. ``key`` is its idempotency key (``<chain>#<seq>.<n>``),
``message`` the notification as the workflow queued it; ``routed_at`` is set when the
postman has turned it into deliveries (one per channel target)."""

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("notification_id", sa.Integer, sa.ForeignKey("notifications.id"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("target", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint(
        "notification_id", "channel", "target", name="uq_deliveries_notification_target"
    ),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="ck_deliveries_status"),
    sa.Index("ix_deliveries_status_next", "status", "next_attempt_at"),
)
"""One notification to one channel target (made by migration 0006): ``pending`` until sent
(``attempts`` so far, the next not before ``next_attempt_at``; a postman sending it holds
it until ``claimed_until``), then ``delivered``, or ``dead`` once the attempts ran out."""

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("person", sa.String(200), nullable=False),
    sa.Column("token_id", sa.String(16), nullable=True),
    sa.Column("subject", sa.String(500), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_web_sessions_token_id", "token_id"),
    sa.Index("ix_web_sessions_expires_at", "expires_at"),
)
"""The dashboard's sessions (made by migration 0007): the SHA-256 of each session's random id
(the signed cookie holds the id), whose it is, with which API token (``token_id``) or OpenID
Connect subject (``subject``), until when. Signing out, or revoking the token, sets
``ended_at``; rows ended or expired more than a day ago are deleted at later sign-ins."""
