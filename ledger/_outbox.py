"""The notification outbox: notifications stored with the transitions that sent them, and
their deliveries, one per channel target, each with its attempts, its backoff and its lease.

Two tables, two stages:

- ``notifications``: written by ``Ledger.record`` in the transition's own transaction, one row
  per notification, keyed by its idempotency key (a retried write adds nothing). Nothing here
  depends on the notification configuration, so a bad or missing configuration can never stop
  a project's chain.
- ``deliveries``: made when a postman *routes* a notification (``route``): one row per channel
  target the configuration names then. Each has its own attempts, so a webhook that is down
  does not make the e-mail that went out go out again.

Claiming (``claim``) marks due rows as held for a lease (``claimed_until``) and counts the
attempt; on PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, on SQLite the write
transaction holds the database's write lock from its start, so two postmen never hold the
same row. A postman killed after sending and before ``delivered`` leaves its claim to expire;
the row is then sent once more: at most one duplicate, which the receiver can drop by the
idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from ledger._errors import LedgerError
from ledger._schema import deliveries, notifications
from ledger._time import utc

DeliveryStatus = Literal["pending", "delivered", "dead"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification as ``Ledger.record`` stores it."""

    key: str
    project_id: str
    kind: str
    at: datetime
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    key: str
    project_id: str
    kind: str
    at: datetime
    message: dict[str, Any]
    routed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification to one channel target, with the notification it carries."""

    id: int
    channel: str
    target: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    claimed_until: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    notification: Notification


class DeliveryMissing(LedgerError):
    """No delivery has that id (or it is not in a state the operation applies to)."""


def store(conn: sa.Connection, note: Outgoing) -> None:
    """Insert ``note`` unless its key is stored already (a retried write)."""
    t = notifications.c
    if conn.execute(sa.select(t.id).where(t.key == note.key)).first() is not None:
        return
    conn.execute(
        notifications.insert().values(
            key=note.key,
            project_id=note.project_id,
            kind=note.kind,
            at=note.at,
            message=note.message,
            routed_at=None,
        )
    )


def _notification(row: sa.RowMapping, id_column: str = "id") -> Notification:
    """The notification of a row (of the outbox, or of a delivery joined to it, where its id
    is ``n_id``)."""
    return Notification(
        id=row[id_column],
        key=row["key"],
        project_id=row["project_id"],
        kind=row["kind"],
        at=utc(row["at"]),
        message=row["message"],
        routed_at=utc(row["routed_at"]),
    )


def unrouted(conn: sa.Connection, limit: int) -> list[Notification]:
    """Notifications not routed yet, oldest first. Two postmen may both read one; ``route``
    lets only the first make its deliveries."""
    t = notifications.c
    query = sa.select(notifications).where(t.routed_at.is_(None)).order_by(t.id).limit(limit)
    return [_notification(r) for r in conn.execute(query).mappings()]


def route(
    conn: sa.Connection, notification_id: int, targets: list[tuple[str, str]], now: datetime
) -> bool:
    """Make the notification's deliveries, once: False when another postman routed it."""
    t = notifications.c
    done = conn.execute(
        notifications.update()
        .where(t.id == notification_id, t.routed_at.is_(None))
        .values(routed_at=now)
    )
    if done.rowcount != 1:
        return False
    for channel, target in dict.fromkeys(targets):
        conn.execute(
            deliveries.insert().values(
                notification_id=notification_id,
                channel=channel,
                target=target,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                claimed_until=None,
                last_error=None,
                delivered_at=None,
            )
        )
    return True


def _joined() -> sa.Select[Any]:
    d, n = deliveries.c, notifications.c
    return sa.select(
        d.id,
        d.channel,
        d.target,
        d.status,
        d.attempts,
        d.next_attempt_at,
        d.claimed_until,
        d.last_error,
        d.delivered_at,
        n.id.label("n_id"),
        n.key,
        n.project_id,
        n.kind,
        n.at,
        n.message,
        n.routed_at,
    ).join(notifications, n.id == d.notification_id)


def _delivery(row: sa.RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        channel=row["channel"],
        target=row["target"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=utc(row["next_attempt_at"]),
        claimed_until=utc(row["claimed_until"]),
        last_error=row["last_error"],
        delivered_at=utc(row["delivered_at"]),
        notification=_notification(row, "n_id"),
    )


def clock(conn: sa.Connection) -> datetime:
    """The time by the database's clock (PostgreSQL), or by this machine's (SQLite)."""
    if conn.dialect.name == "postgresql":
        at: datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        return utc(at).astimezone(UTC)
    return datetime.now(UTC)


def claim(conn: sa.Connection, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
    """Hold up to ``limit`` due deliveries until ``now + lease`` and count their attempt."""
    d = deliveries.c
    due = (
        sa.select(d.id)
        .where(
            d.status == "pending",
            d.next_attempt_at <= now,
            sa.or_(d.claimed_until.is_(None), d.claimed_until <= now),
        )
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    conn.execute(
        deliveries.update()
        .where(d.id.in_(ids))
        .values(claimed_until=now + lease, attempts=d.attempts + 1)
    )
    rows = conn.execute(_joined().where(d.id.in_(ids)).order_by(d.next_attempt_at, d.id))
    return [_delivery(r) for r in rows.mappings()]


def delivered(conn: sa.Connection, delivery_id: int, now: datetime) -> None:
    d = deliveries.c
    conn.execute(
        deliveries.update()
        .where(d.id == delivery_id, d.status == "pending")
        .values(status="delivered", delivered_at=now, claimed_until=None, last_error=None)
    )


def failed(
    conn: sa.Connection,
    delivery_id: int,
    error: str,
    next_attempt_at: datetime | None,
    attempt: int | None = None,
) -> None:
    """Record a failed attempt: due again at ``next_attempt_at``, or dead when None. With
    ``attempt`` (the claim's count), only while no later claim took the delivery over: a
    postman whose send outlasted its lease must not free (or kill) the next one's claim,
    or a third postman sends it while the second still is."""
    d = deliveries.c
    fence = [] if attempt is None else [d.attempts == attempt]
    values: dict[str, Any] = {"claimed_until": None, "last_error": error[:2000]}
    if next_attempt_at is None:
        values["status"] = "dead"
    else:
        values["next_attempt_at"] = next_attempt_at
    conn.execute(
        deliveries.update()
        .where(d.id == delivery_id, d.status == "pending", *fence)
        .values(**values)
    )


def listed(
    conn: sa.Connection, status: DeliveryStatus | None, project_id: str | None, limit: int
) -> list[Delivery]:
    d, n = deliveries.c, notifications.c
    query = _joined().order_by(d.id).limit(limit)
    if status is not None:
        query = query.where(d.status == status)
    if project_id is not None:
        query = query.where(n.project_id == project_id)
    return [_delivery(r) for r in conn.execute(query).mappings()]


def retry(conn: sa.Connection, delivery_id: int, now: datetime) -> Delivery:
    """A dead delivery is due again now, with its attempts counted afresh."""
    d = deliveries.c
    row = conn.execute(_joined().where(d.id == delivery_id)).mappings().first()
    if row is None:
        raise DeliveryMissing(f"no delivery has id {delivery_id}")
    if row["status"] != "dead":
        raise DeliveryMissing(
            f"delivery {delivery_id} is {row['status']}, not dead: only a dead letter is retried"
        )
    conn.execute(
        deliveries.update()
        .where(d.id == delivery_id)
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None)
    )
    fresh = conn.execute(_joined().where(d.id == delivery_id)).mappings().one()
    return _delivery(fresh)


def counts(conn: sa.Connection) -> dict[str, int]:
    d = deliveries.c
    rows = conn.execute(sa.select(d.status, sa.func.count()).group_by(d.status))
    out = {"pending": 0, "delivered": 0, "dead": 0}
    out.update({status: int(count) for status, count in rows})
    t = notifications.c
    out["unrouted"] = int(
        conn.execute(
            sa.select(sa.func.count()).select_from(notifications).where(t.routed_at.is_(None))
        ).scalar_one()
    )
    return out
