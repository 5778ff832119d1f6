"""The iterations of a project's iterative phase, from the faces: plan, report progress, add
work, end the timebox, demo, deliver, retro, and read where they stand.

A project runs one iteration at a time, as a child workflow ``project-<slug>-it-<n>``; every
command here finds the open one from the project's status and sends its update there, through
the same ``service.send_update`` as the project's own commands (expiry, no-worker and
unanswered handling alike). Inputs are checked before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client

from governance.messages import (
    ActorInput,
    AddItemsInput,
    Command,
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
STARTING_WAIT = timedelta(seconds=15)
"""How long a command waits for an iteration the project has opened to start its workflow
(the project opens it, then starts its child: a moment, or until a worker runs again)."""

T = TypeVar("T")


def iteration(project_id: str, number: int) -> Target[IterationStatus]:
    return Target(
        service.iteration_workflow_id(project_id, number),
        f"iteration {number} of project {project_id}",
        IterationStatus,
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


async def _on(
    client: Client,
    target: Target[IterationStatus],
    call: Callable[[Target[IterationStatus]], Awaitable[T]],
) -> T:
    """``call`` on an open iteration. The project counts an iteration open a moment before
    its workflow has started: a call that finds no workflow yet (so changed nothing) waits
    for it to start, then goes once more."""
    try:
        return await call(target)
    except ProjectError as exc:
        if exc.kind != target.unknown:
            raise
    await _started(client, target)
    return await call(target)


async def _started(client: Client, target: Target[IterationStatus]) -> None:
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + STARTING_WAIT.total_seconds(), 0.05
    while True:
        try:
            await service.status_of(client, target, rpc_timeout=timedelta(seconds=5))
            return
        except ProjectError as exc:
            if exc.kind != target.unknown:
                raise
        if loop.time() > deadline:
            raise ProjectError(
                f"{target.name} is open but its workflow has not started within "
                f"{STARTING_WAIT.total_seconds():.0f} s; nothing was applied: is a worker "
                "running?",
                "IterationStarting",
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def _send(client: Client, project_id: str, update: object, arg: Command) -> IterationStatus:
    """Send ``update`` to the project's open iteration."""
    target = await open_iteration(client, project_id)
    return await _on(client, target, lambda t: service.send_update(client, t, update, arg))


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
    if st.execution.open_iteration is None:
        return st.execution, None
    target = iteration(project_id, st.execution.open_iteration)
    return st.execution, await _on(client, target, lambda t: service.status_of(client, t))


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
    return await _send(client, project_id, IterationWorkflow.plan_iteration, plan)


async def report_done(
    client: Client, project_id: str, actor: str, item_ids: Sequence[str]
) -> IterationStatus:
    done = command_input(ReportDoneInput, actor=actor, item_ids=list(item_ids))
    return await _send(client, project_id, IterationWorkflow.report_done, done)


async def add_items(
    client: Client,
    project_id: str,
    actor: str,
    items: Sequence[WorkItem],
    comment: str | None = None,
) -> IterationStatus:
    """Add work to the iteration while it executes (recorded as a scope change)."""
    added = command_input(AddItemsInput, actor=actor, items=list(items), comment=comment)
    return await _send(client, project_id, IterationWorkflow.add_items, added)


async def close_execution(
    client: Client, project_id: str, actor: str, comment: str | None = None
) -> IterationStatus:
    """End the execution timebox now; the demo follows."""
    close = command_input(ActorInput, actor=actor, comment=comment)
    return await _send(client, project_id, IterationWorkflow.close_execution, close)


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
    return await _send(client, project_id, IterationWorkflow.record_demo, demo)


async def decide_delivery(
    client: Client, project_id: str, actor: str, decision: str, comment: str | None = None
) -> IterationStatus:
    """``deliver`` the increment to the receiving organisation, or ``hold`` it back."""
    choice = command_input(DecideDeliveryInput, actor=actor, decision=decision, comment=comment)
    return await _send(client, project_id, IterationWorkflow.decide_delivery, choice)


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
    return await _send(client, project_id, IterationWorkflow.record_retro, retro)
