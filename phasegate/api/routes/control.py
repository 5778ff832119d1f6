"""``/api/projects/{id}/progress``, ``/changes`` and ``/exception``: progress reports, change
requests and their decisions, and the decision on an exception (`phasegate progress`,
`change ...`, `exception decide`), as the authenticated person. The inputs are read by the same
functions as the CLI's (a figure out of range is refused before anything is sent); the
project workflow's validators decide, and a refusal comes back with their message unchanged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from governance.messages import ChangeStatus, ProjectStatus
from phasegate import control, service
from phasegate.api._deps import ClientDep, CurrentUser, VisibleProject
from phasegate.api._errors import ErrorResponse, UnansweredResponse
from phasegate.api._models import (
    ChangeAnswer,
    ChangeBody,
    ChangeDecisionBody,
    Changes,
    ExceptionDecisionBody,
    ExceptionView,
    ProgressBody,
)
from phasegate.service import ProjectError

router = APIRouter(prefix="/api/projects", tags=["control"], responses=ErrorResponse)

ChangeId = Annotated[
    str,
    Path(pattern=r"^[Cc][Rr]-[1-9][0-9]{0,5}$", description="A change id: CR-1, CR-2, ..."),
]


@router.post("/{project_id}/progress", response_model=ProjectStatus, responses=UnansweredResponse)
async def report_progress(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: ProgressBody
) -> ProjectStatus:
    """A progress report (`progress`; the project manager, or a work package's manager with
    `work_package`): the answer carries the forecast and the RAG."""
    report = control.progress_report(
        user.id,
        as_of=body.as_of,
        actual_cost=body.actual_cost,
        earned_scope=body.earned_scope,
        risks=body.risks,
        quality_issues=body.quality_issues,
        benefits_forecast=body.benefits_forecast,
        comment=body.comment,
        work_package=body.work_package,
    )
    return await control.report_progress(client, project_id, report)


@router.get("/{project_id}/changes", response_model=Changes)
async def list_changes(project_id: VisibleProject, client: ClientDep) -> Changes:
    """Every change request, open and decided, in the order requested (`change list`)."""
    items, currency = await control.changes(client, project_id)
    return Changes(currency=currency, items=items)


@router.get("/{project_id}/changes/{change_id}", response_model=ChangeStatus)
async def show_change(
    project_id: VisibleProject, change_id: ChangeId, client: ClientDep
) -> ChangeStatus:
    """One change request as it stands."""
    cid = control.change_id(change_id)
    found = control.find_change(await service.status(client, project_id), cid)
    if found is None:
        raise ProjectError(f"project {project_id} has no change {cid}", "UnknownChange")
    return found


@router.post(
    "/{project_id}/changes",
    status_code=201,
    response_model=ChangeAnswer,
    responses=UnansweredResponse,
)
async def request_change(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: ChangeBody
) -> ChangeAnswer:
    """Request a change (`change request`): minor (decided by the project manager) or formal
    (by the change authority), as the model's thresholds and the budget left say."""
    change = control.change_request(
        user.id,
        body.title,
        cost_impact=body.cost_impact,
        time_impact=body.time_impact,
        scope_impact=body.scope_impact,
        reason=body.reason,
        comment=body.comment,
    )
    made, st = await control.request_change(client, project_id, change)
    return ChangeAnswer(change=made, status=st)


@router.post(
    "/{project_id}/changes/{change_id}/decide",
    response_model=ChangeAnswer,
    responses=UnansweredResponse,
)
async def decide_change(
    project_id: VisibleProject,
    change_id: ChangeId,
    user: CurrentUser,
    client: ClientDep,
    body: ChangeDecisionBody,
) -> ChangeAnswer:
    """A decision on a change, or a vote on a formal one (`change decide`)."""
    change, st = await control.decide_change(
        client, project_id, user.id, control.change_id(change_id), body.decision, body.comment
    )
    return ChangeAnswer(change=change, status=st)


@router.get("/{project_id}/exception", response_model=ExceptionView)
async def show_exception(project_id: VisibleProject, client: ClientDep) -> ExceptionView:
    """The project's open exception, if any (a work package's is in its status)."""
    st = await service.status(client, project_id)
    return ExceptionView(exception=st.control.exception if st.control is not None else None)


@router.post(
    "/{project_id}/exception/decide", response_model=ProjectStatus, responses=UnansweredResponse
)
async def decide_exception(
    project_id: VisibleProject, user: CurrentUser, client: ClientDep, body: ExceptionDecisionBody
) -> ProjectStatus:
    """The open exception's decision (`exception decide`; the deciding role of the level
    holding it): approve-plan with a plan, widen with tolerances or a change budget, close."""
    inp = control.exception_decision(
        user.id,
        body.decision,
        plan=body.plan,
        tolerances=body.tolerances,
        change_budget=body.change_budget,
        comment=body.comment,
        exception_id=body.exception_id,
    )
    return await control.decide_exception(client, project_id, inp)
