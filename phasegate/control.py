"""Control, from the faces: progress reports, change requests and their decisions, and the
decision on an exception.

Every command goes to the project workflow through the same ``service.send_update`` as the
gate commands (expiry, no-worker and unanswered handling alike), and a refusal comes back as
the same ``ProjectError`` (``NotAuthorised``, ``OnHold``, ``InvalidProgress``,
``SelfApproval``, ``UnknownChange``, ``NoException``, ...). What a person types (a figure, a
date, a risk as ``TITLE:PROB:IMPACT``, an exception plan file) is read and checked by
`phasegate.control_input` (re-exported here), before anything is sent: a problem is
``ProjectError("InvalidInput")`` naming the option.
"""

from __future__ import annotations

from typing import Literal

from temporalio.client import Client

from governance.messages import (
    CHANGE_ID,
    ChangeStatus,
    DecideChangeInput,
    DecideExceptionInput,
    ProjectStatus,
    ReportProgressInput,
    RequestChangeInput,
)
from phasegate import service
from phasegate.choices import EXCEPTION_DECISIONS, ExceptionChoice
from phasegate.control_input import (
    _input,
    change_id,
    change_request,
    exception_decision,
    figure,
    misplaced_plan,
    parse_day,
    parse_duration,
    parse_quality_issue,
    parse_risk,
    parse_tolerances,
    progress_report,
    read_plan,
)
from phasegate.service import ProjectError
from workflows import ProjectWorkflow

# -- sending ------------------------------------------------------------------------------------


async def report_progress(
    client: Client, project_id: str, report: ReportProgressInput
) -> ProjectStatus:
    """The project manager's progress report; the answer carries the forecast and the RAG."""
    return await service.send_update(
        client, service.project(project_id), ProjectWorkflow.report_progress, report
    )


async def request_change(
    client: Client, project_id: str, change: RequestChangeInput
) -> tuple[ChangeStatus, ProjectStatus]:
    """Request a change; the change as classified (minor or formal) and its state."""
    st = await service.send_update(
        client, service.project(project_id), ProjectWorkflow.request_change, change
    )
    if st.control is None or not st.control.changes:
        raise ProjectError(f"project {project_id} answered without the change", "Failed")
    return st.control.changes[-1], st  # the new one is the last


async def decide_change(
    client: Client,
    project_id: str,
    actor: str,
    change: str,
    decision: Literal["approve", "reject"],
    comment: str | None = None,
    on_behalf_of: str | None = None,
) -> tuple[ChangeStatus | None, ProjectStatus]:
    """A decision (or a vote, for a formal change) on change ``change``; the change as it
    stands after it (None if the status no longer lists it). With ``on_behalf_of``, cast by
    ``actor`` as that person's substitute."""
    vote = _input(
        DecideChangeInput,
        actor=actor,
        change_id=change,
        decision=decision,
        comment=comment,
        on_behalf_of=on_behalf_of,
    )
    st = await service.send_update(
        client, service.project(project_id), ProjectWorkflow.decide_change, vote
    )
    return find_change(st, vote.change_id), st


def find_change(st: ProjectStatus, change: str) -> ChangeStatus | None:
    changes = st.control.changes if st.control is not None else []
    return next((c for c in changes if c.id == change), None)


async def changes(client: Client, project_id: str) -> tuple[list[ChangeStatus], str]:
    """Every change request of the project, open and decided, in the order requested, and
    the currency of its baseline."""
    st = await service.status(client, project_id)
    if st.control is None:
        return [], ""
    return st.control.changes, st.control.baseline.currency


async def decide_exception(
    client: Client, project_id: str, decision: DecideExceptionInput
) -> ProjectStatus:
    """The open exception's decision, by the level holding it."""
    return await service.send_update(
        client, service.project(project_id), ProjectWorkflow.decide_exception, decision
    )


__all__ = [
    "CHANGE_ID",
    "EXCEPTION_DECISIONS",
    "ExceptionChoice",
    "change_id",
    "change_request",
    "changes",
    "decide_change",
    "decide_exception",
    "exception_decision",
    "figure",
    "find_change",
    "misplaced_plan",
    "parse_day",
    "parse_duration",
    "parse_quality_issue",
    "parse_risk",
    "parse_tolerances",
    "progress_report",
    "read_plan",
    "report_progress",
    "request_change",
]
