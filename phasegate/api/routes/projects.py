"""``/api/projects``: the portfolio, a project's status, history and what a person may do."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from governance.messages import ProjectStatus
from phasegate import history as timeline
from phasegate import service
from phasegate.api._deps import ClientDep, CurrentUser, LedgerDep, VisibleProject
from phasegate.api._errors import ApiError, ErrorResponse
from phasegate.api._models import AllowedActions, HistoryEntry, ListParams, Page
from phasegate.service import ProjectRow

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=ErrorResponse)

Limit = Annotated[int, Query(ge=1, le=500, description="How many items at most.")]
Offset = Annotated[int, Query(ge=0, description="How many items to skip.")]


@router.get("", response_model=Page[ProjectRow])
async def list_projects(
    user: CurrentUser,
    client: ClientDep,
    filters: Annotated[ListParams, Query()],
) -> Page[ProjectRow]:
    """The portfolio, with the filters of `project list`, by project id: every project for
    the PMO, the projects whose charter names the person for anyone else."""
    clash = service.filter_clash(
        awaiting=filters.awaiting, held=filters.held, state=filters.state, overdue=filters.overdue
    )
    if clash is not None:
        raise ApiError(422, "InvalidInput", clash)
    rows = await service.list_projects(
        client,
        phase=filters.phase,
        awaiting=filters.awaiting,
        rag=filters.rag,
        held=filters.held,
        state=filters.state,
        overdue_at=datetime.now(UTC) if filters.overdue else None,
        person=None if user.pmo else user.id,
    )
    end = filters.offset + filters.limit
    return Page(
        total=len(rows),
        limit=filters.limit,
        offset=filters.offset,
        items=rows[filters.offset : end],
    )


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


@router.get(
    "/{project_id}",
    response_model=ProjectStatus,
    responses={304: {"description": "Not modified: the ETag sent in If-None-Match is current."}},
)
async def project_status(
    project_id: VisibleProject,
    client: ClientDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The project's status (`project status --json`), with an ETag: send it back in
    `If-None-Match` to get 304 while nothing changed."""
    st = await service.status(client, project_id)
    body = st.model_dump_json().encode()
    etag = _etag(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/{project_id}/history", response_model=Page[HistoryEntry])
async def project_history(
    project_id: VisibleProject, ledger: LedgerDep, limit: Limit = 100, offset: Offset = 0
) -> Page[HistoryEntry]:
    """The project's timeline from its audit trail, oldest first (`project history`)."""
    try:
        entries = await asyncio.to_thread(timeline.read, ledger, project_id)
    except timeline.NoProject as exc:
        raise ApiError(404, "UnknownProject", str(exc)) from None
    items = [HistoryEntry.model_validate(e.as_json()) for e in entries[offset : offset + limit]]
    return Page(total=len(entries), limit=limit, offset=offset, items=items)


@router.get("/{project_id}/allowed-actions", response_model=AllowedActions)
async def allowed_actions(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep
) -> AllowedActions:
    """What the person may do on the project now: the buttons a page shows."""
    actions = await service.allowed_actions(client, project_id, user.id)
    return AllowedActions(project_id=project_id, person=user.id, actions=actions)
