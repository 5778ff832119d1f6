"""A project's page: the phase track, the open gate with its votes, deliverables, the
lifecycle, the audit timeline (paged), iterations, changes, the exception and the charts."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from markupsafe import Markup

import governance as g
from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import history as timeline
from phasegate import service
from phasegate.api._deps import PERSON_ID, may_see
from phasegate.service import ProjectError
from phasegate.web import _svg
from phasegate.web._core import (
    Signed,
    Viewer,
    WebError,
    pinned_model,
    project_error,
    render,
    services,
)
from phasegate.web._work import CONTROL_CHOICES, GATE_DECISIONS, Result

router = APIRouter(include_in_schema=False)

PAGE = 25
"""Timeline entries per page."""


def not_found(project_id: str) -> WebError:
    """The same page for a project that does not exist and one the viewer may not see."""
    return WebError(404, "No such project", f"no project {project_id}")


def _project_id(project_id: Annotated[str, Path(max_length=200)]) -> str:
    """The project id of the path; a page saying there is no such project for a text that
    is no project id."""
    if not re.fullmatch(PERSON_ID, project_id):  # not echoed: it may hold anything
        raise WebError(404, "No such project", "no such project: that is not a project id")
    return project_id


ProjectId = Annotated[str, Depends(_project_id)]


@dataclass(frozen=True)
class Step:
    """One phase of the track, and its gate."""

    phase: str
    title: str
    gate_title: str
    state: str
    """``passed``, ``current`` or ``ahead``."""
    started: datetime | None
    passed: datetime | None


def track(
    st: ProjectStatus, model: g.GovernanceModel | None, entries: list[timeline.Entry]
) -> list[Step]:
    phases = {p.id: p for p in model.phases} if model is not None else {}
    current = st.phase_index
    steps = []
    for i, pid in enumerate(st.phases):
        phase = phases.get(pid)
        gate = phase.gate_state if phase is not None else f"{pid}_gate"
        started = [
            e.at
            for e in entries
            if e.to_state == pid and e.kind in ("phase_started", "project_started")
        ]
        passed = [e.at for e in entries if e.kind == "gate_passed" and e.from_state == gate]
        if st.terminal:
            state = "passed" if passed else "ahead"
        else:
            state = (
                "passed"
                if current is not None and i < current
                else ("current" if i == current else "ahead")
            )
        steps.append(
            Step(
                pid,
                phase.title if phase is not None and phase.title else pid,
                phase.gate.title if phase is not None and phase.gate.title else gate,
                state,
                started[-1] if started else None,
                passed[-1] if passed else None,
            )
        )
    return steps


def ev_points(ledger: Ledger, project_id: str, baseline: g.Baseline) -> list[_svg.EvPoint]:
    """EV and AC of each project-level progress report, against the baseline in force now."""
    points = []
    for e in ledger.events(project_id):
        p = e.payload
        if str(e.kind) != "progress_reported" or p.get("work_package"):
            continue
        try:
            as_of = date.fromisoformat(str(p["as_of"]))
            figures = g.earned_value(
                baseline, as_of, float(p["actual_cost"]), float(p["earned_scope"])
            )
        except (KeyError, TypeError, ValueError):
            continue
        points.append(_svg.EvPoint(as_of, figures.ev, figures.ac))
    return points


@dataclass(frozen=True)
class Charts:
    lifecycle: Markup | None
    burn_up: Markup | None
    earned_value: Markup | None


async def project_page(
    request: Request,
    viewer: Viewer,
    project_id: str,
    page: int = 1,
    result: Result | None = None,
    status: int = 200,
) -> Response:
    s = services(request)
    try:
        if not await may_see(s.client, viewer.person, project_id):
            raise not_found(project_id)
        st, actions = await asyncio.gather(
            service.status(s.client, project_id),
            service.allowed_actions(s.client, project_id, viewer.id),
        )
    except ProjectError as exc:
        raise (
            not_found(project_id) if exc.kind == "UnknownProject" else project_error(exc)
        ) from None
    try:
        entries = await asyncio.to_thread(timeline.read, s.ledger, project_id)
    except timeline.NoProject:
        entries = []
    model = await asyncio.to_thread(pinned_model, s.ledger, st.model, st.model_hash)
    baseline = st.control.baseline if st.control is not None else None
    points = (
        await asyncio.to_thread(ev_points, s.ledger, project_id, baseline)
        if baseline is not None
        else []
    )
    charts = Charts(
        _svg.lifecycle(model, st.state) if model is not None else None,
        _svg.burn_up(st.execution) if st.execution is not None else None,
        _svg.earned_value(baseline, points) if baseline is not None else None,
    )
    pages = max(1, -(-len(entries) // PAGE))
    page = min(max(page, 1), pages)
    newest_first = entries[::-1]
    return render(
        request,
        "project.html",
        viewer=viewer,
        st=st,
        steps=track(st, model, entries),
        decisions=[a for a in GATE_DECISIONS if a in actions],
        project_actions=[a for a in ("request_gate", "hold", "resume", "cancel") if a in actions],
        actions=actions,
        entries=newest_first[(page - 1) * PAGE : page * PAGE],
        page=page,
        pages=pages,
        events=len(entries),
        charts=charts,
        result=result,
        status=status,
        title=f"{st.project_id}: {st.title}",
        **CONTROL_CHOICES,
    )


@router.get("/projects/{project_id}")
async def project(
    request: Request,
    viewer: Signed,
    project_id: ProjectId,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    return await project_page(request, viewer, project_id, page)
