"""``/api/projects/{id}/deliverables``: the deliverables the current phase's gate lists, and
registering one (`phasegate deliverable ...`), as the authenticated person. A file is
registered by its SHA-256 and size, which the client computes: its content never travels."""

from __future__ import annotations

from fastapi import APIRouter

from governance.messages import DeliverableStatus, ProjectStatus
from phasegate import deliverables
from phasegate.api._deps import ClientDep, CurrentUser, VisibleProject
from phasegate.api._errors import ErrorResponse, UnansweredResponse
from phasegate.api._models import DeliverableBody

router = APIRouter(prefix="/api/projects", tags=["deliverables"], responses=ErrorResponse)


@router.get("/{project_id}/deliverables", response_model=list[DeliverableStatus])
async def list_deliverables(
    project_id: VisibleProject, client: ClientDep
) -> list[DeliverableStatus]:
    """Each deliverable the current phase's gate lists, present (its current version) or not
    (`deliverable list`)."""
    return await deliverables.deliverables(client, project_id)


@router.post(
    "/{project_id}/deliverables", response_model=ProjectStatus, responses=UnansweredResponse
)
async def submit(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: DeliverableBody
) -> ProjectStatus:
    """Register a deliverable of the current phase's gate: a file's hash and size, or a URL
    (`deliverable submit`); a second one of a name is its next version."""
    hashed = (
        deliverables.FileDigest(body.file.sha256, body.file.size) if body.file is not None else None
    )
    inp = deliverables.submission(
        user.id, body.name, url=body.url, hashed=hashed, comment=body.comment
    )
    return await deliverables.submit(client, project_id, inp)
