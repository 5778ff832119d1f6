"""``/api/projects``: starting a project, the portfolio, a project's status, history and what
a person may do."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

import governance as g
from governance.messages import ProjectStatus
from phasegate import history as timeline
from phasegate import models, service
from phasegate.api._deps import (
    ClientDep,
    CurrentUser,
    LedgerDep,
    SettingsDep,
    VisibleProject,
)
from phasegate.api._errors import ApiError, ErrorBody, ErrorResponse
from phasegate.api._models import (
    MODEL_REF,
    AllowedActions,
    HistoryEntry,
    ListParams,
    Page,
    ProjectStarted,
)
from phasegate.service import ProjectRow

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=ErrorResponse)

Limit = Annotated[int, Query(ge=1, le=500, description="How many items at most.")]
Offset = Annotated[int, Query(ge=0, description="How many items to skip.")]


CHARTER_TYPES = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
}
"""The media types a charter may come in: its JSON, or the YAML `project start` reads."""
_CHARTER_BODY = {
    "requestBody": {
        "required": True,
        "description": "The project charter, as the YAML file of `phasegate project start` "
        "holds it (model, id, title, people, baseline, tolerances, ...): its JSON, or the "
        "YAML itself.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


def _issues(exc: g.GovernanceError) -> str:
    return "; ".join(str(issue) for issue in exc.issues)


def _charter(media: str, body: bytes) -> g.Charter:
    """The charter of a request body; 422 saying each problem (as `project start` does)."""
    if CHARTER_TYPES[media] == "json":
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            problem = "nests too deep" if isinstance(exc, RecursionError) else exc
            raise ApiError(422, "InvalidCharter", f"the body is not JSON: {problem}") from None
        if not isinstance(data, dict):
            raise ApiError(422, "InvalidCharter", "the charter must be a JSON object")
    try:
        # JSON is YAML: the charter's reader bounds a document (depth, values) as for a file.
        return g.parse_charter(body, "charter")
    except g.GovernanceError as exc:
        raise ApiError(422, "InvalidCharter", f"invalid charter: {_issues(exc)}") from None


@router.post(
    "",
    status_code=201,
    response_model=ProjectStarted,
    responses={
        201: {"headers": {"Location": {"description": "The project's status.", "schema": {}}}},
        415: {"model": ErrorBody, "description": "The body is neither JSON nor YAML."},
    },
    openapi_extra=_CHARTER_BODY,
)
async def start_project(
    request: Request,
    response: Response,
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    model: Annotated[
        str | None,
        Query(
            pattern=MODEL_REF,
            description="A model name (`prince2`, `acme@2.0`): a built-in or one published "
            "with `phasegate model publish`. Default: the model the charter names.",
        ),
    ] = None,
) -> ProjectStarted:
    """Start a project from its charter (`project start`), as the authenticated person (the
    first event records them as its starter). The model comes from the built-ins or the
    ledger's registry, never from a file, and its content is pinned into the project. A
    person not named in the charter (nor PMO) cannot see the project once started."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in CHARTER_TYPES:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            "send the charter as application/json or application/yaml",
        )
    charter = _charter(media, await request.body())
    registry = models.Registry(ledger, ledger.display_url)
    try:
        resolved = await asyncio.to_thread(models.named, model or charter.model, registry, [])
    except g.GovernanceError as exc:
        raise ApiError(422, "UnknownModel", _issues(exc)) from None
    try:
        g.ensure_valid(charter, resolved.model, "charter")
    except g.GovernanceError as exc:
        raise ApiError(422, "InvalidCharter", f"invalid charter: {_issues(exc)}") from None
    pid = await service.start_project(
        client,
        charter,
        resolved.model,
        task_queue=settings.task_queue,
        model_source=resolved.source,
        ledger=ledger,
        started_by=user.id,
    )
    response.headers["Location"] = f"/api/projects/{pid}"
    return ProjectStarted(
        project_id=pid,
        model=resolved.model.ref,
        model_hash=resolved.model.content_hash(),
        model_source=resolved.source,
        started_by=user.id,
    )


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
