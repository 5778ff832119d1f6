"""The iterations of a project's iterative phase, from the faces: plan, report progress, add
work, end the timebox, demo, deliver, retro, and read where they stand.

A project runs one iteration at a time, as a child workflow ``project-<slug>-it-<n>``; every
command here finds the open one from the project's status and sends its update there, through
the same ``service.send_update`` as the project's own commands (expiry, no-worker and
unanswered handling alike). Inputs are checked before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client

from governance.messages import (
    ActorInput,
    AddItemsInput,
    DecideDeliveryInput,
    ExecutionStatus,
    Feedback,
    IterationStatus,
    Obstacle,
    PlanIterationInput,
    ProjectStatus,
    RecordDemoInput,
    RecordRetroInput,
    ReportDoneInput,
    WorkItem,
)
from phasegate import service
from phasegate.service import ProjectError, Target, command_input
from workflows import IterationWorkflow

NO_ITERATION = "NoIteration"
"""ProjectError kind: the project has no open iteration to send the command to."""


def iteration_workflow_id(project_id: str, number: int) -> str:
    return f"{service.workflow_id(project_id)}-it-{number}"


def iteration(project_id: str, number: int) -> Target[IterationStatus]:
    return Target(
        iteration_workflow_id(project_id, number),
        f"iteration {number} of project {project_id}",
        IterationWorkflow.status,
        f"iteration status {project_id}",
        unknown="UnknownIteration",
        closed="IterationClosed",
    )


def _why_none(st: ProjectStatus) -> str:
    """Why ``st``'s project has no open iteration, in words."""
    if st.terminal:
        return f"it has ended ({st.outcome or st.state})"
    if st.on_hold:
        return "it is on hold"
    if st.gate is not None:
        return f"the gate of phase {st.gate.phase} is open"
    if st.phase_opens_at is not None:
        return f"phase {st.phase} opens at {st.phase_opens_at.isoformat()}"
    if st.execution is None or st.execution.phase != st.phase:
        return f"phase {st.phase} runs no iterations"
    return "the next one has not opened yet"


def _no_iteration(st: ProjectStatus) -> ProjectError:
    return ProjectError(
        f"project {st.project_id} has no open iteration ({_why_none(st)})", NO_ITERATION
    )


async def open_iteration(client: Client, project_id: str) -> Target[IterationStatus]:
    """The project's open iteration, or ProjectError("NoIteration") saying why there is none."""
    st = await service.status(client, project_id)
    if st.execution is None or st.execution.open_iteration is None:
        raise _no_iteration(st)
    return iteration(project_id, st.execution.open_iteration)


async def iteration_status(
    client: Client, project_id: str
) -> tuple[ExecutionStatus, IterationStatus | None]:
    """The project's iterations so far (velocity, burn-up, forecast, backlog) and the open
    one's status (None between iterations and after the phase)."""
    st = await service.status(client, project_id)
    if st.execution is None:
        raise ProjectError(
            f"project {project_id} has run no iterations ({_why_none(st)})", NO_ITERATION
        )
    number = st.execution.open_iteration
    if number is None:
        return st.execution, None
    return st.execution, await service.status_of(client, iteration(project_id, number))


async def plan_iteration(
    client: Client,
    project_id: str,
    actor: str,
    items: Sequence[WorkItem],
    *,
    length: timedelta | None = None,
    goal: str | None = None,
    comment: str | None = None,
) -> IterationStatus:
    """Commit the open iteration to ``items`` for ``length`` (None: the phase's length)."""
    plan = command_input(
        PlanIterationInput,
        actor=actor,
        items=list(items),
        length=length,
        goal=goal,
        comment=comment,
    )
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.plan_iteration, plan)


async def report_done(
    client: Client, project_id: str, actor: str, item_ids: Sequence[str]
) -> IterationStatus:
    done = command_input(ReportDoneInput, actor=actor, item_ids=list(item_ids))
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.report_done, done)


async def add_items(
    client: Client,
    project_id: str,
    actor: str,
    items: Sequence[WorkItem],
    comment: str | None = None,
) -> IterationStatus:
    """Add work to the iteration while it executes (recorded as a scope change)."""
    added = command_input(AddItemsInput, actor=actor, items=list(items), comment=comment)
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.add_items, added)


async def close_execution(
    client: Client, project_id: str, actor: str, comment: str | None = None
) -> IterationStatus:
    """End the execution timebox now; the demo follows."""
    close = command_input(ActorInput, actor=actor, comment=comment)
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.close_execution, close)


async def record_demo(
    client: Client,
    project_id: str,
    actor: str,
    *,
    attendees: Sequence[str] = (),
    feedback: Sequence[Feedback] = (),
) -> IterationStatus:
    demo = command_input(
        RecordDemoInput, actor=actor, attendees=list(attendees), feedback=list(feedback)
    )
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.record_demo, demo)


async def decide_delivery(
    client: Client, project_id: str, actor: str, decision: str, comment: str | None = None
) -> IterationStatus:
    """``deliver`` the increment to the receiving organisation, or ``hold`` it back."""
    choice = command_input(DecideDeliveryInput, actor=actor, decision=decision, comment=comment)
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.decide_delivery, choice)


async def record_retro(
    client: Client,
    project_id: str,
    actor: str,
    *,
    keep: Sequence[str] = (),
    change: Sequence[str] = (),
    obstacles: Sequence[Obstacle] = (),
) -> IterationStatus:
    """What to keep, what to change, and the obstacles (each a task for the role named)."""
    retro = command_input(
        RecordRetroInput,
        actor=actor,
        keep=list(keep),
        change=list(change),
        obstacles=list(obstacles),
    )
    target = await open_iteration(client, project_id)
    return await service.send_update(client, target, IterationWorkflow.record_retro, retro)
