"""The dashboard's forms: a vote on a gate, a review task completed. Each goes through the
same service function as the API and the CLI, as the signed-in person; the workflow decides
and its refusal is shown as it is. The answer is the page the form was on, with the result."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request, Response

from phasegate import service
from phasegate.api._deps import may_see
from phasegate.api._errors import status_of_kind
from phasegate.choices import missing_reason
from phasegate.service import UNANSWERED, ProjectError
from phasegate.web._core import Signed, Viewer, check_csrf, form, services
from phasegate.web._project import ProjectId, not_found, project_page
from phasegate.web._work import GATE_DECISIONS, Result, work_page

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("phasegate.web")


async def _answer(
    request: Request, viewer: Viewer, back: str, project_id: str | None, result: Result, status: int
) -> Response:
    if back == "project" and project_id is not None:
        return await project_page(request, viewer, project_id, result=result, status=status)
    return await work_page(request, viewer, result=result, status=status)


def _refused(exc: ProjectError) -> tuple[Result, int]:
    if exc.kind == UNANSWERED:  # applied: only the answer is missing
        return Result(True, str(exc)), 202
    return Result(False, str(exc)), status_of_kind(exc.kind)


@router.post("/projects/{project_id}/decide")
async def decide(request: Request, viewer: Signed, project_id: ProjectId) -> Response:
    fields = await form(request)
    check_csrf(viewer, fields)
    back = fields.get("back", "work")
    client = services(request).client
    if not await may_see(client, viewer.person, project_id):
        raise not_found(project_id)
    decision, comment = fields.get("decision", ""), fields.get("comment", "").strip() or None
    round_text = fields.get("round", "")
    if decision not in GATE_DECISIONS:
        result, status = (
            Result(False, f"unknown decision {decision!r}: approve, reject or rework"),
            422,
        )
    elif missing_reason(decision, comment):
        result, status = (
            Result(False, f"{decision} needs a comment: say why, for the record"),
            422,
        )
    elif round_text and not round_text.isdigit():
        result, status = Result(False, f"round {round_text!r} is not a number"), 422
    else:
        try:
            st = await service.decide_gate(
                client,
                project_id,
                viewer.id,
                decision,
                comment,
                round=int(round_text) if round_text else None,
            )
        except ProjectError as exc:
            result, status = _refused(exc)
        else:
            # The vote decided the gate when none is open after it, or another round is (a
            # rework reopens the phase; its gate opens again only when requested).
            decided = st.gate is None or (round_text != "" and str(st.gate.round) != round_text)
            text = (
                st.last_gate.describe()
                if decided and st.last_gate is not None
                else f"your vote ({decision}) on {project_id} is recorded"
            )
            result, status = Result(True, f"{project_id}: {text}"), 200
            log.info("web.voted", project_id=project_id, person=viewer.id, decision=decision)
    return await _answer(request, viewer, back, project_id, result, status)


PROJECT_ACTIONS = ("request_gate", "hold", "resume", "cancel")
"""The project page's other buttons: the project manager's gate request, the executive's."""


@router.post("/projects/{project_id}/act")
async def act(request: Request, viewer: Signed, project_id: ProjectId) -> Response:
    """Request the phase's gate, or hold, resume or cancel the project, as the signed-in
    person (the workflow decides whether they may)."""
    fields = await form(request)
    check_csrf(viewer, fields)
    client = services(request).client
    if not await may_see(client, viewer.person, project_id):
        raise not_found(project_id)
    action, comment = fields.get("action", ""), fields.get("comment", "").strip() or None
    if action not in PROJECT_ACTIONS:
        result, status = Result(False, f"unknown action {action!r}"), 422
    elif missing_reason(action, comment):
        result, status = Result(False, f"{action} needs a comment: say why, for the record"), 422
    else:
        try:
            if action == "request_gate":
                st = await service.request_gate(client, project_id, viewer.id, comment)
            else:
                st = await service.board_action(client, project_id, action, viewer.id, comment)
        except ProjectError as exc:
            result, status = _refused(exc)
        else:
            done = {
                "request_gate": f"gate {st.gate.gate} requested" if st.gate else "gate requested",
                "hold": "on hold",
                "resume": "resumed",
                "cancel": "cancelled",
            }[action]
            result, status = Result(True, f"{project_id}: {done}"), 200
            log.info("web.acted", project_id=project_id, person=viewer.id, action=action)
    return await project_page(request, viewer, project_id, result=result, status=status)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, viewer: Signed, task_id: int) -> Response:
    fields = await form(request)
    check_csrf(viewer, fields)
    s = services(request)
    task = await asyncio.to_thread(s.ledger.task, task_id)
    if task is None or not await may_see(s.client, viewer.person, task.project_id):
        result, status = Result(False, f"no task {task_id}"), 404
        project_id = None
    else:
        project_id = task.project_id
        try:
            await service.complete_task(
                s.client, s.ledger, task_id, viewer.id, fields.get("comment", "").strip() or None
            )
        except ProjectError as exc:
            result, status = _refused(exc)
        else:
            result, status = Result(True, f"done: {task.title} ({task.project_id})"), 200
    return await _answer(request, viewer, fields.get("back", "work"), project_id, result, status)
