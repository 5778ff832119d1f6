"""``/api/calendar/...``: the iCalendar feeds (phasegate/calendar.py) for a calendar client to
subscribe to: a person's (themself, or the PMO) and a project's (those who may see it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from phasegate import calendar
from phasegate.api._deps import (
    PERSON_ID,
    ClientDep,
    CurrentUser,
    LedgerDep,
    VisibleProject,
    may_see,
    no_project,
)
from phasegate.api._errors import ApiError, ErrorResponse

router = APIRouter(prefix="/api/calendar", tags=["calendar"], responses=ErrorResponse)

ICS = "text/calendar; charset=utf-8"
FEED: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/calendar": {"schema": {"type": "string"}}},
        "description": "An iCalendar feed.",
    }
}


@router.get("/person/{person_id}.ics", response_class=Response, responses=FEED)
async def person_feed(
    person_id: Annotated[str, Path(pattern=PERSON_ID, description="The person's id.")],
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    project: Annotated[
        str | None, Query(pattern=PERSON_ID, description="Only this project.")
    ] = None,
) -> Response:
    """What the person is asked to do, with due times (tasks), and the ceremonies of their
    iterations: over every running project that names them, or ``project``. Only the
    person themself and the PMO."""
    if person_id != user.id and not user.pmo:
        raise ApiError(
            403, "NotAuthorised", "only the person themself or the PMO reads their calendar"
        )
    if project is not None and not await may_see(client, user, project):
        raise no_project(project)
    feed = await calendar.person_feed(client, ledger, person_id, project)
    return Response(feed, media_type=ICS)


@router.get("/project/{project_id}.ics", response_class=Response, responses=FEED)
async def project_feed(
    project_id: VisibleProject, client: ClientDep, ledger: LedgerDep
) -> Response:
    """The project's decisions (deadlines, reminders), the phase that opens later (the
    benefits review), the open iteration's ceremonies and its tasks' due times."""
    feed = await calendar.project_feed(client, ledger, project_id)
    return Response(feed, media_type=ICS)
