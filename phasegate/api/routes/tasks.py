"""``/api/tasks``: the person's task inbox, and completing a review task."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from governance.audit import Task
from governance.messages import ProjectStatus
from phasegate import service
from phasegate.api._deps import PERSON_ID, ClientDep, CurrentUser, LedgerDep, VisibleTask
from phasegate.api._errors import ApiError, ErrorResponse, UnansweredResponse
from phasegate.api._models import CommentBody, Page

router = APIRouter(prefix="/api/tasks", tags=["tasks"], responses=ErrorResponse)


@router.get("", response_model=Page[Task])
async def list_tasks(
    user: CurrentUser,
    ledger: LedgerDep,
    status: Literal["open", "done", "cancelled", "withdrawn", "all"] = "open",
    project: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
    assignee: Annotated[
        str | None, Query(pattern=PERSON_ID, description="Another person's (the PMO only).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[Task]:
    """The person's own tasks, oldest first (`phasegate tasks`); the PMO may name another
    person's with `assignee`."""
    if assignee is not None and assignee != user.id and not user.pmo:
        raise ApiError(403, "NotAuthorised", "only the PMO sees another person's tasks")
    rows = await asyncio.to_thread(
        ledger.tasks,
        assignee=assignee or user.id,
        project_id=project,
        status=None if status == "all" else status,
    )
    return Page(total=len(rows), limit=limit, offset=offset, items=rows[offset : offset + limit])


@router.get("/{task_id}", response_model=Task)
async def get_task(task: VisibleTask) -> Task:
    """One task of the inbox, by its id (a task of a project the person sees)."""
    return task


@router.post("/{task_id}/complete", response_model=ProjectStatus, responses=UnansweredResponse)
async def complete_task(
    task: VisibleTask,
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
    body: CommentBody | None = None,
) -> ProjectStatus:
    """Complete a review task of an open gate (its assignee, or the project manager); the
    project's status after it, like every command (the task is `done` in the inbox)."""
    assert task.id is not None
    comment = body.comment if body is not None else None
    # The service finds the task by its id itself (as for the CLI): the lookup above only
    # decided whether this person may see it.
    done = await service.complete_task(client, ledger, task.id, user.id, comment)
    return done.status
