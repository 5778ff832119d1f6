"""``/api/audit``: verifying the audit trail (`phasegate audit verify`) and exporting it as a
stream (`phasegate audit export`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from phasegate import service
from phasegate.api._deps import PERSON_ID, ClientDep, CurrentUser, LedgerDep, may_see, no_project
from phasegate.api._errors import ApiError, ErrorResponse
from phasegate.api._models import AuditVerification, EndedOutside
from phasegate.api._stream import stream

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=ErrorResponse)


@router.get("/verify", response_model=AuditVerification)
async def verify(
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    project: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
) -> AuditVerification:
    """Recompute the hash chains (of one project and its iterations, or of every project:
    the PMO only) and check the stored reports; name the projects whose workflow ended
    outside governance. `ok` is false when anything is broken."""
    if project is None and not user.pmo:
        raise ApiError(403, "NotAuthorised", "only the PMO verifies every project: give `project`")
    if project is not None:
        if not await may_see(client, user, project):
            raise no_project(project)
        if await asyncio.to_thread(ledger.last_seq, project) == 0:
            raise ApiError(404, "UnknownProject", f"no events for project {project} in the ledger")
    report = await asyncio.to_thread(ledger.verify, project, iterations=True)
    unfinished = await asyncio.to_thread(ledger.unfinished_projects, project)
    outside = await service.ended_outside_governance(client, unfinished)
    return AuditVerification(
        **report.model_dump(),
        ended_outside_governance=[
            EndedOutside(project_id=o.project_id, status=o.status) for o in outside
        ],
    )


EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


async def _chained(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The events, streamed: JSON lines, or CSV with a header row.",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export(
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    project: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> StreamingResponse:
    """Every audit event in chain order (`audit export`): of one project and its iterations,
    or of every project (the PMO only), as JSON lines or CSV, streamed as the ledger is read.
    In CSV a cell starting with =, +, -, @, tab, CR or ' gets a leading ' (no spreadsheet
    runs it as a formula)."""
    if project is None and not user.pmo:
        raise ApiError(403, "NotAuthorised", "only the PMO exports every project: give `project`")
    if project is not None:
        if not await may_see(client, user, project):
            raise no_project(project)
        if await asyncio.to_thread(ledger.last_seq, project) == 0:
            raise ApiError(404, "UnknownProject", f"no events for project {project} in the ledger")
    chunks = stream(lambda out: ledger.export(out, format, project, iterations=True))
    first = await anext(chunks, b"")  # a ledger that fails at once is still an error status
    name = f"audit-{project or 'all'}.{format}"
    return StreamingResponse(
        _chained(first, chunks),
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
