"""``/api/audit``: verifying the audit trail (`phasegate audit verify`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from phasegate import service
from phasegate.api._deps import PERSON_ID, ClientDep, CurrentUser, LedgerDep, may_see, no_project
from phasegate.api._errors import ApiError, ErrorResponse
from phasegate.api._models import AuditVerification, EndedOutside

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
