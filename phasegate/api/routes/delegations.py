"""``/api/projects/{id}/delegations``: substitute approvers, as the authenticated person
(the delegator grants; the delegator or the substitute revokes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from governance.messages import Delegation, ProjectStatus
from phasegate import service
from phasegate.api._deps import ClientDep, CurrentUser, VisibleProject
from phasegate.api._errors import ErrorResponse, UnansweredResponse
from phasegate.api._models import CommentBody, DelegationBody

router = APIRouter(
    prefix="/api/projects", tags=["delegations"], responses={**ErrorResponse, **UnansweredResponse}
)


@router.get("/{project_id}/delegations", response_model=list[Delegation])
async def list_delegations(project_id: VisibleProject, client: ClientDep) -> list[Delegation]:
    """The delegations not yet ended (to come or running)."""
    return (await service.status(client, project_id)).delegations


@router.post("/{project_id}/delegations", response_model=ProjectStatus)
async def delegate(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: DelegationBody
) -> ProjectStatus:
    """Let ``to`` decide for you from ``starts_at`` until ``ends_at``: they vote for you on
    gates and changes (``on_behalf_of``), in your roles; your tasks are theirs too."""
    return await service.delegate(
        client, project_id, user.id, body.to, body.starts_at, body.ends_at, body.comment
    )


@router.post("/{project_id}/delegations/{delegation_id}/revoke", response_model=ProjectStatus)
async def revoke(
    project_id: VisibleProject,
    delegation_id: Annotated[int, Path(ge=1, le=1_000_000, description="The delegation's number.")],
    user: CurrentUser,
    client: ClientDep,
    body: CommentBody | None = None,
) -> ProjectStatus:
    """End a delegation now (its delegator or its substitute)."""
    comment = body.comment if body is not None else None
    return await service.revoke_delegation(client, project_id, user.id, delegation_id, comment)
