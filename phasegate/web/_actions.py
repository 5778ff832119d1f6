"""The dashboard's forms: a vote on a gate, a decision on a change or an exception, a review
task completed. Each goes through the
same service function as the API and the CLI, as the signed-in person; the workflow decides
and its refusal is shown as it is. The answer is the page the form was on, with the result."""

from __future__ import annotations

import asyncio
import math
import re
from datetime import date

import structlog
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from temporalio.client import Client

from governance.messages import ExceptionPlan
from phasegate import control, service
from phasegate.api._deps import may_see
from phasegate.api._errors import status_of_kind
from phasegate.choices import ExceptionChoice, missing_reason
from phasegate.errors import pydantic_message
from phasegate.service import UNANSWERED, ProjectError
from phasegate.web._core import Signed, Viewer, check_csrf, form, services
from phasegate.web._project import ProjectId, not_found, project_page
from phasegate.web._work import (
    ASPECTS,
    CHANGE_DECISIONS,
    EXCEPTION_CHOICES,
    GATE_DECISIONS,
    Result,
    work_page,
)

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("phasegate.web")
ROUND = re.compile(r"[0-9]{1,9}")
"""A gate round as the vote form sends it: ASCII digits (``str.isdigit`` also takes "²",
which ``int`` refuses), few enough for ``int`` and the workflow."""


async def _answer(
    request: Request, viewer: Viewer, back: str, project_id: str | None, result: Result, status: int
) -> Response:
    if back == "project" and project_id is not None:
        return await project_page(request, viewer, project_id, result=result, status=status)
    return await work_page(request, viewer, result=result, status=status)


async def _project_form(
    request: Request, viewer: Viewer, project_id: str
) -> tuple[dict[str, str], Client]:
    """A form posted about a project: its fields, once its CSRF token is the session's and
    the person may see the project (else 404, as for a project that does not exist)."""
    fields = await form(request)
    check_csrf(viewer, fields)
    client = services(request).client
    if not await may_see(client, viewer.person, project_id):
        raise not_found(project_id)
    return fields, client


def _shown(text: str) -> str:
    """A value of the form as a refusal quotes it: 20 characters at most."""
    return text if len(text) <= 20 else text[:20] + "..."


def _refused(exc: ProjectError) -> tuple[Result, int]:
    if exc.kind == UNANSWERED:  # applied: only the answer is missing
        return Result(True, str(exc)), 202
    return Result(False, str(exc)), status_of_kind(exc.kind)


@router.post("/projects/{project_id}/decide")
async def decide(request: Request, viewer: Signed, project_id: ProjectId) -> Response:
    fields, client = await _project_form(request, viewer, project_id)
    back = fields.get("back", "work")
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
    elif round_text and not ROUND.fullmatch(round_text):
        result, status = Result(False, f"round {_shown(round_text)!r} is not a number"), 422
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
    fields, client = await _project_form(request, viewer, project_id)
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


@router.post("/projects/{project_id}/changes/{change_id}/decide")
async def decide_change(
    request: Request, viewer: Signed, project_id: ProjectId, change_id: str
) -> Response:
    """A decision on a change, or a vote on a formal one, as the signed-in person: the same
    ``control.decide_change`` as the API's; the workflow decides whether they may."""
    fields, client = await _project_form(request, viewer, project_id)
    back = fields.get("back", "work")
    decision, comment = fields.get("decision", ""), fields.get("comment", "").strip() or None
    if decision not in CHANGE_DECISIONS:
        choices = " or ".join(CHANGE_DECISIONS)
        result, status = Result(False, f"unknown decision {decision!r}: {choices}"), 422
    else:
        try:
            cid = control.change_id(change_id[:20])
            change, _ = await control.decide_change(
                client,
                project_id,
                viewer.id,
                cid,
                decision,  # type: ignore[arg-type]  # one of CHANGE_DECISIONS
                comment,
            )
        except ProjectError as exc:
            result, status = _refused(exc)
        else:
            state = f"now {change.state}" if change is not None else "decided"
            text = f"{project_id}: your {decision} on {cid} is recorded; {cid} is {state}"
            result, status = Result(True, text), 200
            log.info("web.change_decided", project_id=project_id, person=viewer.id, change=cid)
    return await _answer(request, viewer, back, project_id, result, status)


def _number(fields: dict[str, str], name: str) -> float | None:
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ProjectError(
            f"{name.replace('_', ' ')} {_shown(text)!r} is not a number", "InvalidInput"
        )
    return value


def _plan(fields: dict[str, str]) -> ExceptionPlan:
    """The exception plan of the approve-plan form: what is left empty stays as it is."""
    data: dict[str, object] = {}
    end = fields.get("planned_end", "").strip()
    if end:
        try:
            data["planned_end"] = date.fromisoformat(end)
        except ValueError:
            raise ProjectError(
                f"planned end {_shown(end)!r} is not a date as YYYY-MM-DD", "InvalidInput"
            ) from None
    for name in ("budget", "scope"):
        value = _number(fields, name)
        if value is not None:
            data[name] = value
    if not data:
        raise ProjectError(
            "approve-plan needs the new baseline: a planned end, a budget or a scope",
            "InvalidInput",
        )
    try:
        return ExceptionPlan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = str(err["loc"][0]).replace("_", " ") if err["loc"] else "plan"
        raise ProjectError(f"{where}: {pydantic_message(err)}", "InvalidInput") from None


@router.post("/projects/{project_id}/exception/decide")
async def decide_exception(request: Request, viewer: Signed, project_id: ProjectId) -> Response:
    """The open exception's decision (approve-plan with a plan, widen with tolerances or a
    change budget, close) as the signed-in person: the same ``control.exception_decision``
    and ``control.decide_exception`` as the API's; the workflow decides whether they may."""
    fields, client = await _project_form(request, viewer, project_id)
    back = fields.get("back", "work")
    decision, comment = fields.get("decision", ""), fields.get("comment", "").strip() or None
    if decision not in EXCEPTION_CHOICES:
        choices = ", ".join(EXCEPTION_CHOICES)
        result, status = Result(False, f"unknown decision {decision!r}: {choices}"), 422
    else:
        try:
            chosen: ExceptionChoice = decision  # type: ignore[assignment]  # checked above
            widen = decision == "widen"
            tolerances = [
                f"{a}={fields[f'tolerance_{a}'].strip()}"
                for a in ASPECTS
                if widen and fields.get(f"tolerance_{a}", "").strip()
            ]
            change_budget = _number(fields, "change_budget") if widen else None
            if widen and not tolerances and change_budget is None:
                raise ProjectError(
                    "widen needs a new tolerance or a new change budget", "InvalidInput"
                )
            inp = control.exception_decision(
                viewer.id,
                chosen,
                plan=_plan(fields) if decision == "approve-plan" else None,
                tolerances=control.parse_tolerances(tolerances),
                change_budget=change_budget,
                comment=comment,
                exception_id=fields.get("exception_id", "").strip()[:20] or None,
            )
            await control.decide_exception(client, project_id, inp)
        except ProjectError as exc:
            result, status = _refused(exc)
        else:
            ex = inp.exception_id or "the exception"
            text = f"{project_id}: your decision on {ex} ({decision}) is recorded"
            result, status = Result(True, text), 200
            log.info("web.exception_decided", project_id=project_id, person=viewer.id)
    return await _answer(request, viewer, back, project_id, result, status)


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
