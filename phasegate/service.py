"""What the faces (CLI, later the REST API) do with a Temporal client: one place for each use.

Every function takes the ``Client``; tests pass their own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from governance import Charter, GovernanceModel, ensure_valid
from governance.audit import Task
from governance.messages import (
    LEDGER_MEMO,
    Action,
    ActorInput,
    Command,
    CompleteTaskInput,
    DecideGateInput,
    DelegateInput,
    IterationStatus,
    ModelSource,
    ProjectStatus,
    RequestGateInput,
    RevokeDelegationInput,
    StartProjectInput,
)
from phasegate import temporal as sa
from workflows import ProjectWorkflow

if TYPE_CHECKING:  # the ledger (SQLAlchemy, alembic: ~0.2 s) only where a caller passes one
    from ledger import Ledger


class ProjectError(Exception):
    """A request the project refused, or a project that does not exist; ``kind`` says which."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


WORKFLOW_ID_PREFIX = "project-"


def workflow_id(project_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{project_id}"


def iteration_workflow_id(project_id: str, number: int) -> str:
    """The child workflow of the project's iteration ``number``."""
    return f"{workflow_id(project_id)}-it-{number}"


ITERATION_CHAIN = re.compile(r"^(?P<project>.+)/it-(?P<number>[1-9][0-9]*)$")
"""An iteration's own ledger chain, ``<project>/it-<n>`` (workflows.iteration.iteration_chain)."""


def chain_workflow_id(chain: str) -> str:
    """The workflow that writes the ledger chain ``chain``: a project, or an iteration."""
    m = ITERATION_CHAIN.match(chain)
    return (
        workflow_id(chain) if m is None else iteration_workflow_id(m["project"], int(m["number"]))
    )


async def start_project(
    client: Client,
    charter: Charter,
    model: GovernanceModel,
    *,
    task_queue: str,
    continue_as_new_after: int | None = None,
    model_source: ModelSource | None = None,
    ledger: Ledger | None = None,
    ledger_id: str | None = None,
    started_by: str | None = None,
) -> str:
    """Start a project workflow; the model's content is pinned into its input, and so is the
    ledger it writes to (``ledger_id``, else ``ledger``'s; without either the first worker's
    ledger is pinned): no other ledger takes its events.

    With ``ledger``, a project id the ledger already holds events for is refused: Temporal
    alone cannot tell (another namespace or server, or a run past its retention), and a second
    project under the same id would collide with the first one's audit chain.
    """
    ensure_valid(charter, model)
    if ledger is not None and (recorded := ledger.last_seq(charter.id)) > 0:
        raise ProjectError(
            f"project {charter.id} already exists in the ledger ({recorded} audit events): "
            "a project id is never used twice, also not on another namespace or server or "
            "after Temporal has forgotten the project; give the charter another id",
            "ProjectExists",
        )
    model_hash = model.content_hash()
    memo = {"model_hash": model_hash}
    if model_source is not None:
        memo["model_source"] = model_source.describe()
    if ledger_id is None and ledger is not None:
        ledger_id = ledger.ledger_id()
    if ledger_id is not None:
        memo[LEDGER_MEMO] = ledger_id
    try:
        await client.start_workflow(
            ProjectWorkflow.run,
            StartProjectInput(
                charter=charter,
                model=model,
                model_hash=model_hash,
                model_source=model_source,
                continue_as_new_after=continue_as_new_after,
                ledger_id=ledger_id,
                started_by=started_by,
            ),
            id=workflow_id(charter.id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.initial(charter.id, model.ref, model.phases[0].id),
            memo=memo,
        )
    except WorkflowAlreadyStartedError as exc:
        raise ProjectError(f"project {charter.id} already exists", "ProjectExists") from exc
    except RPCError as exc:
        raise ProjectError(
            f"the Temporal server refused to start project {charter.id}: {exc.message}",
            "ServerError",
        ) from exc
    return charter.id


def handle(client: Client, project_id: str) -> WorkflowHandle[ProjectWorkflow, object]:
    return client.get_workflow_handle_for(ProjectWorkflow.run, workflow_id(project_id))


St = TypeVar("St", ProjectStatus, IterationStatus)


@dataclass(frozen=True)
class Target(Generic[St]):
    """A workflow the faces send commands to and read the status of: a project, or one of
    its iterations. Everything the messages about it need, so one ``send_update`` and one
    ``until_recorded`` serve every kind."""

    workflow_id: str
    name: str
    """How messages call it: ``project new-crm``, ``iteration 3 of project new-crm``."""
    status_query: Any
    """The workflow's status query (a method reference) answering ``St``."""
    status_command: str
    """The command that shows its status: ``project status new-crm``."""
    unknown: str = "UnknownProject"
    """ProjectError kind when Temporal has no such workflow."""
    closed: str = "ProjectClosed"
    """ProjectError kind when it is no longer running."""


def project(project_id: str) -> Target[ProjectStatus]:
    return Target(
        workflow_id(project_id),
        f"project {project_id}",
        ProjectWorkflow.status,
        f"project status {project_id}",
    )


RPC_TIMEOUT = timedelta(seconds=30)
"""How long a query or update waits for a worker before the client says nobody answered."""
EXPIRY = timedelta(seconds=25)
"""An update not taken by a worker this long after it was sent is refused, never applied
later; shorter than RPC_TIMEOUT so the refusal is certain once the client gives up (with
clocks of the client and the Temporal server that agree within the difference)."""
NO_WORKER = (
    "no worker answered within {s:.0f} s: is `phasegate dev` or `phasegate worker` running "
    "on this task queue?"
)
NOT_APPLIED = (
    "no worker answered within {s:.0f} s, and nothing was applied: the request expired at "
    "{expiry} and is refused if a worker takes it later. Is `phasegate dev` or "
    "`phasegate worker` running on this task queue?"
)


async def status(client: Client, project_id: str) -> ProjectStatus:
    return await status_of(client, project(project_id))


async def status_of(client: Client, target: Target[St], rpc_timeout: timedelta = RPC_TIMEOUT) -> St:
    result: St = await _query(client, target, target.status_query, rpc_timeout=rpc_timeout)
    return result


async def allowed_actions(client: Client, project_id: str, actor: str) -> list[Action]:
    result: list[Action] = await _query(
        client, project(project_id), ProjectWorkflow.allowed_actions, actor
    )
    return result


async def people(client: Client, project_id: str) -> list[str]:
    """The ids of the people the project's charter names."""
    result: list[str] = await _query(client, project(project_id), ProjectWorkflow.people)
    return result


async def _query(
    client: Client,
    target: Target[Any],
    query: Any,
    *args: Any,
    rpc_timeout: timedelta = RPC_TIMEOUT,
) -> Any:
    try:
        return await client.get_workflow_handle(target.workflow_id).query(
            query, *args, rpc_timeout=rpc_timeout
        )
    except RPCError as exc:
        raise _rpc_error(exc, target) from exc
    except WorkflowQueryFailedError as exc:
        raise ProjectError(f"{target.name} could not answer: {exc}", "QueryFailed") from exc


def _rpc_error(exc: RPCError, target: Target[Any]) -> ProjectError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return ProjectError(f"no {target.name}", target.unknown)
    if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or (
        exc.status == RPCStatusCode.FAILED_PRECONDITION and "no poller" in exc.message
    ):
        return ProjectError(NO_WORKER.format(s=RPC_TIMEOUT.total_seconds()), "NoWorker")
    return ProjectError(f"the Temporal server refused: {exc.message}", "ServerError")


UNANSWERED = "Unanswered"
"""ProjectError kind: the request was accepted (so applied) but no answer followed."""
RECORD_WAIT = timedelta(seconds=15)
"""How long a command waits, once accepted, for the ledger to hold what it did; past it the
command answers with the status as it is (its ``recorded_seq`` shows the ledger behind)."""


async def send_update(client: Client, target: Target[St], update: object, arg: Command) -> St:
    """Send an update that expires unless a worker takes it within ``EXPIRY``; wait at most
    ``RPC_TIMEOUT`` for the workflow to accept (or refuse) it, then at most ``RECORD_WAIT``
    for its answer, which the workflow gives once the ledger holds the step."""
    h = client.get_workflow_handle(target.workflow_id)
    expiry = await clock() + EXPIRY
    arg = arg.model_copy(update={"expires_at": expiry})
    not_applied = NOT_APPLIED.format(s=RPC_TIMEOUT.total_seconds(), expiry=expiry.isoformat())
    try:
        async with asyncio.timeout(RPC_TIMEOUT.total_seconds()):
            accepted = await h.start_update(  # type: ignore[call-overload]
                update,
                arg,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                rpc_timeout=RPC_TIMEOUT,
            )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ProjectError(not_applied, "NoWorker") from exc
    except RPCError as exc:
        # An update to a finished workflow is "not found" too: tell the two apart.
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION) and (
            await _has_finished(h)
        ):
            raise ProjectError(f"{target.name} is no longer running", target.closed) from exc
        error = _rpc_error(exc, target)
        raise (
            ProjectError(not_applied, "NoWorker") if error.kind == "NoWorker" else error
        ) from exc
    try:
        async with asyncio.timeout(RECORD_WAIT.total_seconds()):
            result: St = await accepted.result(rpc_timeout=RECORD_WAIT)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise ProjectError(cause.message, cause.type or "Rejected") from exc
        raise ProjectError(f"{target.name} failed the request: {cause}", "Failed") from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError):
        # Accepted, so applied; the ledger is slow to take it, or the worker went away since:
        # say where things stand, or that no answer came.
        try:
            return await status_of(client, target, rpc_timeout=timedelta(seconds=5))
        except ProjectError:
            raise ProjectError(
                f"the request was accepted and is applied, but no worker answered after "
                f"that; `phasegate {target.status_command}` shows it once a worker runs "
                "(do not send it again)",
                UNANSWERED,
            ) from None
    if result.recorded_seq < result.last_seq and result.ledger_error is None:
        # The answer can count a step that followed the command's own (an iteration that
        # opened, a stand-up that fell due): answer once the ledger holds that too.
        result = await until_recorded(client, target, result)
    return result


async def until_recorded(
    client: Client,
    target: str | Target[St],
    st: St,
    timeout: timedelta = RECORD_WAIT,
) -> St:
    """``st``, or a newer status once the ledger holds every event ``st`` counts: a command
    that returns has been written, so the audit trail and the inbox show it at once.
    ``target``: a project id, or the workflow ``st`` is the status of."""
    on: Target[Any] = project(target) if isinstance(target, str) else target
    loop = asyncio.get_running_loop()
    deadline, goal, pause = loop.time() + timeout.total_seconds(), st.last_seq, 0.01
    while st.recorded_seq < goal and loop.time() < deadline:
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)
        try:  # short tries: a query that meets a continue-as-new can hang; ask again
            st = await status_of(client, on, rpc_timeout=timedelta(seconds=2))
        except ProjectError as exc:
            if exc.kind == on.unknown:
                raise
    return st


async def _has_finished(h: WorkflowHandle[Any, Any]) -> bool:
    try:
        return (await h.describe()).status != WorkflowExecutionStatus.RUNNING
    except RPCError:
        return False


async def _wall_clock() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], Awaitable[datetime]] = _wall_clock
"""The Temporal server's time as the client sees it; a time-skipping test server has its own
(tests set ``WorkflowEnvironment.get_current_time``)."""

M = TypeVar("M", bound=BaseModel)


def command_input(cls: type[M], **data: object) -> M:
    """The update's input, or ProjectError("InvalidInput") saying what is wrong with it."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ProjectError(f"invalid request: {problems}", "InvalidInput") from None


async def request_gate(
    client: Client, project_id: str, actor: str, comment: str | None = None
) -> ProjectStatus:
    return await send_update(
        client,
        project(project_id),
        ProjectWorkflow.request_gate,
        command_input(RequestGateInput, actor=actor, comment=comment),
    )


async def decide_gate(
    client: Client,
    project_id: str,
    actor: str,
    decision: str,
    comment: str | None = None,
    round: int | None = None,
    on_behalf_of: str | None = None,
) -> ProjectStatus:
    """A vote for gate round ``round`` (None: the round open now, read from the status);
    with ``on_behalf_of``, cast by ``actor`` as that person's substitute."""
    vote = command_input(
        DecideGateInput,
        actor=actor,
        decision=decision,
        comment=comment,
        round=round,
        on_behalf_of=on_behalf_of,
    )
    if vote.round is None:
        current = (await status(client, project_id)).gate
        vote = vote.model_copy(update={"round": current.round if current else None})
    return await send_update(client, project(project_id), ProjectWorkflow.decide_gate, vote)


async def delegate(
    client: Client,
    project_id: str,
    actor: str,
    to: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None = None,
) -> ProjectStatus:
    """``actor`` lets ``to`` decide for them from ``starts_at`` until ``ends_at``."""
    return await send_update(
        client,
        project(project_id),
        ProjectWorkflow.delegate,
        command_input(
            DelegateInput,
            actor=actor,
            to=to,
            starts_at=starts_at,
            ends_at=ends_at,
            comment=reason,
        ),
    )


async def revoke_delegation(
    client: Client, project_id: str, actor: str, delegation_id: int, comment: str | None = None
) -> ProjectStatus:
    """End delegation ``delegation_id`` now (its delegator or its substitute)."""
    return await send_update(
        client,
        project(project_id),
        ProjectWorkflow.revoke_delegation,
        command_input(
            RevokeDelegationInput, actor=actor, delegation_id=delegation_id, comment=comment
        ),
    )


async def board_action(
    client: Client, project_id: str, action: str, actor: str, comment: str | None = None
) -> ProjectStatus:
    updates = {
        "hold": ProjectWorkflow.hold,
        "resume": ProjectWorkflow.resume,
        "cancel": ProjectWorkflow.cancel,
    }
    if action not in updates:
        raise ProjectError(
            f"unknown board action {action!r}: use hold, resume or cancel", "InvalidInput"
        )
    return await send_update(
        client,
        project(project_id),
        updates[action],
        command_input(ActorInput, actor=actor, comment=comment),
    )


@dataclass(frozen=True)
class CompletedTask:
    """A review task completed: the task as the inbox listed it, and its project's status."""

    task: Task
    status: ProjectStatus


async def complete_task(
    client: Client, ledger: Ledger, task_id: int, actor: str, comment: str | None = None
) -> CompletedTask:
    """Complete review task ``task_id`` (its id in the inbox, as ``phasegate tasks`` shows it)
    as ``actor``. The ledger says which project and task it is; the project's workflow
    decides (the gate that handed it out still open, the task not done, ``actor`` its
    assignee or a project manager) and records it: a ``task_completed`` event, the task done.
    """
    task = ledger.task(task_id)
    if task is None:
        raise ProjectError(
            f"no task {task_id} in the ledger (`phasegate tasks` lists the tasks with their ids)",
            "UnknownTask",
        )
    if task.status != "open":
        raise ProjectError(
            f'task {task_id} ("{task.title}", {task.project_id}) is already {task.status}',
            "TaskClosed",
        )
    arg = command_input(CompleteTaskInput, actor=actor, comment=comment, key=task.key)
    st = await send_update(client, project(task.project_id), ProjectWorkflow.complete_task, arg)
    return CompletedTask(task, st)


@dataclass(frozen=True)
class ProjectRow:
    project_id: str
    phase: str
    model: str
    awaiting: str
    status: str
    model_hash: str = ""
    model_source: str = ""
    """``built-in``, ``published`` or ``local file PATH``; empty for projects started before
    phasegate kept it."""
    rag: str = ""
    """The worst RAG colour (green, amber, red); empty before the first progress report."""
    title: str = ""
    managers: tuple[str, ...] = ()
    """The holders of the model's project-manager role."""
    phase_since: datetime | None = None
    deadline: datetime | None = None
    """The earliest deadline of the open decisions (gate, changes, exception)."""
    level: str | None = None
    """The escalation level now holding the gate, once escalated."""
    held_since: datetime | None = None
    held_by: str | None = None
    outcome: str | None = None
    """closed, rejected or cancelled once the project has ended."""

    def overdue(self, now: datetime) -> bool:
        """A decision is past its deadline and the project is not held (clocks stop then)."""
        return self.deadline is not None and self.deadline < now and self.held_since is None


ListState = Literal["open", "closed", "rejected", "cancelled"]


def filter_clash(
    *,
    awaiting: str | None = None,
    held: bool = False,
    state: ListState | None = None,
    overdue: bool = False,
    option: Callable[[str], str] = str,
) -> str | None:
    """Why these filters of ``list_projects`` contradict each other (so no project could
    match), each named by ``option`` (the CLI's ``--held``); None when they do not."""
    ended = state not in (None, "open")
    held_, awaiting_, state_, overdue_ = (
        option(n) for n in ("held", "awaiting", "state", "overdue")
    )
    for clash, why in (
        (
            held and awaiting is not None,
            f"{held_} and {awaiting_}: a held project awaits its resume",
        ),
        (held and ended, f"{held_} and {state_} {state}: a held project is open"),
        (overdue and held, f"{overdue_} and {held_}: a held project's clocks wait, never overdue"),
        (overdue and ended, f"{overdue_} and {state_} {state}: an ended project is never overdue"),
    ):
        if clash:
            return f"{why}; use one of them"
    return None


async def list_projects(
    client: Client,
    *,
    phase: str | None = None,
    awaiting: str | None = None,
    rag: str | None = None,
    held: bool = False,
    state: ListState | None = None,
    overdue_at: datetime | None = None,
    person: str | None = None,
) -> list[ProjectRow]:
    """Projects from Temporal's visibility store, filtered by phase, what they await, their
    worst RAG colour, hold and state (server-side), by a decision overdue at ``overdue_at``
    and by ``person``, the projects whose charter names them (both from the row each project
    keeps in its memo; a project whose row does not name its people yet, begun before rows
    did, is asked its `people` query)."""
    # A run that continued as new keeps its last search attributes: list live runs only.
    query = f"WorkflowType = '{ProjectWorkflow.__name__}' AND ExecutionStatus != 'ContinuedAsNew'"
    if phase:
        query += f" AND {sa.PHASE.name} = '{_quote(phase)}'"
    if held:
        awaiting = "hold"
    if awaiting:
        value = awaiting if ":" in awaiting or awaiting == "hold" else f"gate:{awaiting}"
        query += f" AND {sa.AWAITING.name} = '{_quote(value)}'"
    if rag:
        query += f" AND {sa.RAG.name} = '{_quote(rag)}'"
    if state == "open":
        query += " AND ExecutionStatus = 'Running'"
    elif state is not None:  # an ended project's phase attribute is its outcome
        query += f" AND ExecutionStatus != 'Running' AND {sa.PHASE.name} = '{state}'"
    rows: list[ProjectRow] = []
    ask: list[ProjectRow] = []  # rows that do not say whom they name: ask the project
    async for wf in client.list_workflows(query):
        attrs = wf.typed_search_attributes
        memo = await wf.memo()
        row = row_of_memo(memo.get(sa.ROW_MEMO))
        named = people_of_memo(memo.get(sa.ROW_MEMO)) if person is not None else ()
        found = ProjectRow(
            project_id=attrs.get(sa.PROJECT) or wf.id.removeprefix(WORKFLOW_ID_PREFIX),
            phase=attrs.get(sa.PHASE) or "",
            model=attrs.get(sa.MODEL) or "",
            awaiting=attrs.get(sa.AWAITING) or "",
            status=wf.status.name.lower() if wf.status else "",
            model_hash=str(memo.get("model_hash", "")),
            model_source=str(memo.get("model_source", "")),
            rag=attrs.get(sa.RAG) or "",
            **row,
        )
        if overdue_at is not None and not found.overdue(overdue_at):
            continue
        if named is None:
            ask.append(found)
        elif person is None or person in named:
            rows.append(found)
    if ask and person is not None:
        rows += await rows_naming(client, ask, person)
    return sorted(rows, key=lambda r: r.project_id)


PEOPLE_QUERIES = 16
"""Projects asked at once whether their charter names a person (rows kept before the memo
row named the people)."""


async def rows_naming(client: Client, rows: list[ProjectRow], person: str) -> list[ProjectRow]:
    """Those of ``rows`` whose project's charter names ``person``, by its `people` query; a
    project gone meanwhile names nobody."""
    gate = asyncio.Semaphore(PEOPLE_QUERIES)

    async def names(row: ProjectRow) -> bool:
        async with gate:
            try:
                return person in await people(client, row.project_id)
            except ProjectError as exc:
                if exc.kind == "UnknownProject":
                    return False
                raise

    found = await asyncio.gather(*(names(r) for r in rows))
    return [r for r, yes in zip(rows, found, strict=True) if yes]


def people_of_memo(raw: object) -> tuple[str, ...] | None:
    """The ids of the people the charter names, from a project's memo row; ``None`` when the
    row does not hold them (a project begun before rows did, or a row that is not what it
    should be): then only the project's `people` query knows."""
    named = raw.get("people") if isinstance(raw, dict) else None
    if not isinstance(named, list) or not all(isinstance(p, str) for p in named):
        return None
    return tuple(named)


def row_of_memo(raw: object) -> dict[str, Any]:
    """The fields of a project's memo row (`workflows/_search.row`); none for a project
    begun before it was kept, or a row that is not what it should be."""
    if not isinstance(raw, dict):
        return {}

    def when(key: str) -> datetime | None:
        value = raw.get(key)
        try:
            at = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return at if at is not None and at.utcoffset() is not None else None  # never naive

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) else None

    managers = raw.get("managers")
    return {
        "title": text("title") or "",
        "managers": tuple(m for m in managers if isinstance(m, str))
        if isinstance(managers, list)
        else (),
        "phase_since": when("phase_since"),
        "deadline": when("deadline"),
        "level": text("level"),
        "held_since": when("held_since"),
        "held_by": text("held_by"),
        "outcome": text("outcome"),
    }


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


NOT_IN_TEMPORAL = "not in Temporal"


@dataclass(frozen=True)
class EndedOutside:
    """A project whose workflow ended (or is gone) while its chain records no end."""

    project_id: str
    status: str


async def ended_outside_governance(client: Client, unfinished: list[str]) -> list[EndedOutside]:
    """Of the chains with no terminal event (projects', and their iterations'), those whose
    workflow is no longer running: terminated, failed or timed out from Temporal (or gone
    from it), which no governance step recorded."""
    found: list[EndedOutside] = []
    for project_id in unfinished:
        try:
            desc = await client.get_workflow_handle(chain_workflow_id(project_id)).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            found.append(EndedOutside(project_id, NOT_IN_TEMPORAL))
            continue
        if desc.status is not None and desc.status != WorkflowExecutionStatus.RUNNING:
            found.append(EndedOutside(project_id, desc.status.name.lower()))
    return found
