"""My work: the signed-in person's open tasks and decisions, overdue ones first, with the
buttons the project allows them (``allowed_actions``) and nothing else."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from fastapi import APIRouter, Request, Response
from temporalio.client import Client

import governance as g
from governance.audit import Task
from governance.messages import Action, DecideChangeInput, DecisionStatus, ProjectStatus
from phasegate import service
from phasegate.choices import EXCEPTION_DECISIONS
from phasegate.service import ProjectError
from phasegate.web._core import Signed, Viewer, render, services, task_kind
from phasegate.web._portfolio import gathered

router = APIRouter(include_in_schema=False)

GATE_DECISIONS: tuple[Action, ...] = ("approve", "reject", "rework")
CHANGE_DECISIONS: tuple[str, ...] = get_args(DecideChangeInput.model_fields["decision"].annotation)
"""What a decision on a change takes, as the update's input says (approve, reject)."""
EXCEPTION_CHOICES: tuple[str, ...] = tuple(EXCEPTION_DECISIONS)
"""An exception's decisions in the command line's words: approve-plan, widen, close."""
ASPECTS: tuple[str, ...] = tuple(g.ASPECTS)
"""The tolerance aspects a widen form asks for."""
CONTROL_CHOICES: dict[str, Any] = {
    "change_decisions": CHANGE_DECISIONS,
    "exception_choices": EXCEPTION_CHOICES,
    "aspects": ASPECTS,
}
"""What the change and exception forms (``_decide_control.html``) offer."""


def open_decision(
    st: ProjectStatus | None, actions: list[Action], kind: str, key: str | None = None
) -> list[DecisionStatus]:
    """The open change (``kind`` "change") or exception decisions the project allows this
    person to decide now (``allowed_actions``: decide_change, decide_exception); with
    ``key`` (a task's), only the one that task is for (its group is ``[e<n>/]<kind>/<id>``)."""
    if st is None or f"decide_{kind}" not in actions:
        return []
    found = [d for d in st.decisions if d.kind == kind and d.id is not None]
    if key is not None:
        found = [d for d in found if f"{kind}/{d.id}/" in f"{key}/"]
    return found


@dataclass(frozen=True)
class Result:
    """What an action did, shown in place: ``ok`` or the refusal's message."""

    ok: bool
    message: str


@dataclass(frozen=True)
class WorkItem:
    task: Task
    kind: str
    status: ProjectStatus | None
    actions: list[Action]

    @property
    def overdue(self) -> bool:
        return self.task.due is not None and self.task.due < datetime.now(UTC)

    @property
    def decisions(self) -> list[str]:
        """The votes this person may cast on this task's gate round, while it is open."""
        st = self.status
        if self.kind != "gate" or st is None or st.gate is None or self.task.gate is None:
            return []
        # A decide task's group is ``[e<epoch>/]<gate>/<round>``.
        if self.task.gate.split("/")[-2:] != [st.gate.gate, str(st.gate.round)]:
            return []
        return [a for a in GATE_DECISIONS if a in self.actions]

    @property
    def deciding(self) -> list[DecisionStatus]:
        """The open change or exception this task asks this person to decide, if they may."""
        if self.kind not in ("change", "exception"):
            return []
        return open_decision(self.status, self.actions, self.kind, self.task.key)

    @property
    def completable(self) -> bool:
        return self.kind == "review" and "complete_task" in self.actions

    @property
    def round(self) -> int | None:
        st = self.status
        return st.gate.round if st is not None and st.gate is not None else None


async def _project(
    client: Client, project_id: str, person: str
) -> tuple[ProjectStatus | None, list[Action]]:
    try:
        st, actions = await asyncio.gather(
            service.status(client, project_id),
            service.allowed_actions(client, project_id, person),
        )
    except ProjectError:
        return None, []
    return st, actions


async def work_items(request: Request, viewer: Viewer) -> list[WorkItem]:
    s = services(request)
    tasks = await asyncio.to_thread(s.ledger.tasks, assignee=viewer.id, status="open")
    projects = sorted({t.project_id for t in tasks})
    found = await gathered(projects, lambda p: _project(s.client, p, viewer.id))
    by_project = dict(zip(projects, found, strict=True))
    return ordered([WorkItem(t, task_kind(t), *by_project[t.project_id]) for t in tasks])


def ordered(items: list[WorkItem]) -> list[WorkItem]:
    """Overdue first, then by due date (none last), then as the inbox numbered them."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda i: (not i.overdue, i.task.due or far, i.task.id))


async def work_page(
    request: Request, viewer: Viewer, result: Result | None = None, status: int = 200
) -> Response:
    items = await work_items(request, viewer)
    return render(
        request,
        "work.html",
        viewer=viewer,
        items=items,
        overdue=sum(1 for i in items if i.overdue),
        result=result,
        status=status,
        title="My work",
        **CONTROL_CHOICES,
    )


@router.get("/work")
async def my_work(request: Request, viewer: Signed) -> Response:
    return await work_page(request, viewer)
