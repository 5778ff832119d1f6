"""``/api/projects/{id}/iterations`` and ``/iteration/...``: the iterations of an iterative
phase (`phasegate iteration ...`), as the authenticated person. Each command goes to the
project's open iteration through the same functions as the CLI's; the iteration workflow's
validators decide, and a refusal comes back with their message unchanged."""

from __future__ import annotations

from fastapi import APIRouter

from governance.messages import IterationStatus
from phasegate import iterations
from phasegate.api._deps import ClientDep, CurrentUser, VisibleProject
from phasegate.api._errors import ErrorResponse, UnansweredResponse
from phasegate.api._models import (
    AddItemsBody,
    CommentBody,
    DeliveryBody,
    DemoBody,
    ItemsDoneBody,
    Iterations,
    PlanIterationBody,
    RetroBody,
)

router = APIRouter(
    prefix="/api/projects", tags=["iterations"], responses={**ErrorResponse, **UnansweredResponse}
)


@router.get("/{project_id}/iterations", response_model=Iterations)
async def iteration_status(project_id: VisibleProject, client: ClientDep) -> Iterations:
    """The iterations so far (velocity, burn-up, forecast, backlog) and the open one
    (`iteration status --json`); 409 `NoIteration` for a project that has run none."""
    execution, iteration = await iterations.iteration_status(client, project_id)
    return Iterations(execution=execution, iteration=iteration)


@router.post("/{project_id}/iteration/plan", response_model=IterationStatus)
async def plan(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: PlanIterationBody
) -> IterationStatus:
    """Commit the open iteration to its items (`iteration plan`; the project manager)."""
    return await iterations.plan_iteration(
        client,
        project_id,
        user.id,
        body.items,
        length=body.length,
        goal=body.goal,
        comment=body.comment,
    )


@router.post("/{project_id}/iteration/done", response_model=IterationStatus)
async def done(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: ItemsDoneBody
) -> IterationStatus:
    """Report items done (`iteration done`)."""
    return await iterations.report_done(client, project_id, user.id, body.item_ids)


@router.post("/{project_id}/iteration/items", response_model=IterationStatus)
async def add(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: AddItemsBody
) -> IterationStatus:
    """Add work while the iteration executes (`iteration add`; a scope change)."""
    return await iterations.add_items(client, project_id, user.id, body.items, body.comment)


@router.post("/{project_id}/iteration/close", response_model=IterationStatus)
async def close(
    project_id: VisibleProject,
    user: CurrentUser,
    client: ClientDep,
    body: CommentBody | None = None,
) -> IterationStatus:
    """End the execution timebox now; the demo follows (`iteration close`)."""
    comment = body.comment if body is not None else None
    return await iterations.close_execution(client, project_id, user.id, comment)


@router.post("/{project_id}/iteration/demo", response_model=IterationStatus)
async def demo(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: DemoBody
) -> IterationStatus:
    """Record the demo: who attended and who said what (`iteration demo`)."""
    return await iterations.record_demo(
        client, project_id, user.id, attendees=body.attendees, feedback=body.feedback
    )


@router.post("/{project_id}/iteration/deliver", response_model=IterationStatus)
async def deliver(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: DeliveryBody
) -> IterationStatus:
    """Deliver the increment or hold it back (`iteration deliver`; the receiving role)."""
    return await iterations.decide_delivery(
        client, project_id, user.id, body.decision, body.comment
    )


@router.post("/{project_id}/iteration/retro", response_model=IterationStatus)
async def retro(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: RetroBody
) -> IterationStatus:
    """Record the retrospective; the iteration ends and the next one opens (`iteration
    retro`)."""
    return await iterations.record_retro(
        client,
        project_id,
        user.id,
        keep=body.keep,
        change=body.change,
        obstacles=body.obstacles,
    )
