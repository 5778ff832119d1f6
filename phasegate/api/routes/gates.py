"""``/api/projects/{id}/gate/...`` and ``/hold``, ``/resume``, ``/cancel``: the decisions
and board actions, as the authenticated person. The workflow's validators decide, as for the
CLI; a refusal comes back with their message unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from governance.messages import ProjectStatus
from phasegate import service
from phasegate.api._deps import ClientDep, CurrentUser, VisibleProject
from phasegate.api._errors import ApiError, ErrorResponse, UnansweredResponse
from phasegate.api._models import CommentBody, GateDecisionBody
from phasegate.choices import missing_reason

router = APIRouter(
    prefix="/api/projects", tags=["gates"], responses={**ErrorResponse, **UnansweredResponse}
)


@router.post("/{project_id}/gate/request", response_model=ProjectStatus)
async def request_gate(
    project_id: VisibleProject,
    user: CurrentUser,
    client: ClientDep,
    body: CommentBody | None = None,
) -> ProjectStatus:
    """Close the current phase and open its gate (the project manager)."""
    comment = body.comment if body is not None else None
    return await service.request_gate(client, project_id, user.id, comment)


@router.post("/{project_id}/gate/decide", response_model=ProjectStatus)
async def decide_gate(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: GateDecisionBody
) -> ProjectStatus:
    """A vote on the open gate (the round open now, or `round`); reject and rework need a
    comment. The vote that decides the gate answers with the status after it."""
    return await service.decide_gate(
        client,
        project_id,
        user.id,
        body.decision,
        body.comment,
        round=body.round,
        on_behalf_of=body.on_behalf_of,
    )


def _board_route(action: str, summary: str) -> Callable[..., Awaitable[ProjectStatus]]:
    async def act(
        project_id: VisibleProject,
        user: CurrentUser,
        client: ClientDep,
        body: CommentBody | None = None,
    ) -> ProjectStatus:
        comment = body.comment if body is not None else None
        if missing_reason(action, comment):
            raise ApiError(
                422,
                "InvalidInput",
                f"{action} needs a comment: say why, for the record (status and history show it)",
            )
        return await service.board_action(client, project_id, action, user.id, comment)

    act.__name__ = action
    act.__doc__ = summary
    return act


for _action, _summary in (
    ("hold", "Put the project on hold; its clocks stop (the board's executive; needs a comment)."),
    ("resume", "Resume a held project; its deadlines move by the time held."),
    ("cancel", "Cancel the project for good (the board's executive; needs a comment)."),
):
    router.post(f"/{{project_id}}/{_action}", response_model=ProjectStatus, name=_action)(
        _board_route(_action, _summary)
    )
