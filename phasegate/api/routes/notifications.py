"""``/api/notifications``: the notification outbox's deliveries (`phasegate notify pending` and
`notify failed`) and a dead letter's retry (`phasegate notify retry`)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from ledger import Delivery, DeliveryMissing
from phasegate.api._deps import PERSON_ID, ClientDep, CurrentUser, LedgerDep, may_see, no_project
from phasegate.api._errors import ApiError, ErrorResponse
from phasegate.api._models import NotificationDelivery

router = APIRouter(prefix="/api/notifications", tags=["notifications"], responses=ErrorResponse)

MAX_ID = 2**31 - 1


def _shown(d: Delivery) -> NotificationDelivery:
    note = d.notification
    return NotificationDelivery(
        id=d.id,
        status=d.status,
        channel=d.channel,
        target=d.target,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        last_error=d.last_error,
        key=note.key,
        project_id=note.project_id,
        kind=note.kind,
        subject=str(note.message.get("subject", "")),
    )


@router.get("", response_model=list[NotificationDelivery])
async def deliveries(
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    status: Literal["pending", "dead", "delivered"] = "dead",
    project: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationDelivery]:
    """Deliveries by status, oldest first: the dead letters (`phasegate notify failed`) by
    default. Of every project: the PMO only; anyone else names a project they see."""
    if project is None and not user.pmo:
        raise ApiError(403, "NotAuthorised", "only the PMO sees every project's: give `project`")
    if project is not None and not await may_see(client, user, project):
        raise no_project(project)
    rows = await asyncio.to_thread(ledger.deliveries, status, project_id=project, limit=limit)
    return [_shown(d) for d in rows]


@router.post("/{delivery_id}/retry", response_model=NotificationDelivery)
async def retry(
    user: CurrentUser,
    ledger: LedgerDep,
    delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> NotificationDelivery:
    """Send a dead letter again (`phasegate notify retry`): due at once, its attempts counted
    afresh; a worker's postman sends it. The PMO only."""
    if not user.pmo:
        raise ApiError(403, "NotAuthorised", "only the PMO retries a delivery")
    try:
        d = await asyncio.to_thread(ledger.retry_delivery, delivery_id)
    except DeliveryMissing as exc:
        code, kind = (409, "NotDead") if "not dead" in str(exc) else (404, "UnknownDelivery")
        raise ApiError(code, kind, str(exc)) from None
    return _shown(d)
