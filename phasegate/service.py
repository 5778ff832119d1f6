"""What the faces (CLI, later the REST API) do with a Temporal client: one place for each use.

Every function takes the ``Client``; tests pass their own. The reads take any ``Reader``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from temporalio.service import RPCError, RPCStatusCode

from phasegate import temporal as sa
from phasegate.errors import ProjectError as ProjectError
from phasegate.errors import command_input as command_input
from phasegate.views import (  # kept here under their old names too: service.ProjectRow, ...
    NOT_IN_TEMPORAL as NOT_IN_TEMPORAL,
)
from phasegate.views import EndedOutside as EndedOutside
from phasegate.views import ListState as ListState
from phasegate.views import ProjectRow as ProjectRow
from phasegate.views import filter_clash as filter_clash

# The reads (``status``, ``list_projects``, ``ended_outside_governance``) work on any
# ``Reader``, the SDK's Client or the lighter ``Connection``, through the WorkflowService stubs;
# the rest imports the client layer, the messages and the workflows where it runs. A command
# that only reads (``project status``, ``project list``) so starts without them.
if TYPE_CHECKING:
    from temporalio.api.common.v1 import Payload
    from temporalio.api.enums.v1 import WorkflowExecutionStatus
    from temporalio.api.workflowservice.v1 import QueryWorkflowResponse
    from temporalio.client import Client, WorkflowHandle

    from governance import Charter, GovernanceModel
    from governance.audit import Task
    from governance.messages import (
        Action,
        Command,
        IterationStatus,
        ModelSource,
        ProjectStatus,
    )
    from ledger import Ledger
    from phasegate.temporal import Reader
    from workflows import ProjectWorkflow


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
    from temporalio.common import WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from governance import ensure_valid
    from governance.messages import LEDGER_MEMO, StartProjectInput
    from workflows import ProjectWorkflow

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
    from workflows import ProjectWorkflow

    return client.get_workflow_handle_for(ProjectWorkflow.run, workflow_id(project_id))


St = TypeVar("St", "ProjectStatus", "IterationStatus")


@dataclass(frozen=True)
class Target(Generic[St]):
    """A workflow the faces send commands to and read the status of: a project, or one of
    its iterations. Everything the messages about it need, so one ``send_update`` and one
    ``until_recorded`` serve every kind."""

    workflow_id: str
    name: str
    """How messages call it: ``project new-crm``, ``iteration 3 of project new-crm``."""
    status_type: type[St]
    """What the workflow's status query (``STATUS_QUERY``) answers."""
    status_command: str
    """The command that shows its status: ``project status new-crm``."""
    unknown: str = "UnknownProject"
    """ProjectError kind when Temporal has no such workflow."""
    closed: str = "ProjectClosed"
    """ProjectError kind when it is no longer running."""


def project(project_id: str) -> Target[ProjectStatus]:
    from governance.messages import ProjectStatus

    return Target(
        workflow_id(project_id),
        f"project {project_id}",
        ProjectStatus,
        f"project status {project_id}",
    )


PROJECT_WORKFLOW = "ProjectWorkflow"
"""The project workflow's type name (``workflows.ProjectWorkflow``'s class name)."""
STATUS_QUERY = "status"
"""The name of the status query of the project and iteration workflows (their ``status``
method): the reads send it by name, without importing the workflow classes."""
PEOPLE_QUERY = "people"
"""The name of the project workflow's query of the people its charter names (``people``)."""


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


async def status(client: Reader, project_id: str) -> ProjectStatus:
    """The project's status. Its query is on its way before the messages module, whose model
    the answer is read into, is imported (~0.1 s): a short command waits for the worker's
    answer and for the import at the same time, not one after the other."""
    asked = asyncio.ensure_future(_send(client, workflow_id(project_id), STATUS_QUERY))
    await asyncio.sleep(0)  # the query leaves
    target = project(project_id)
    return target.status_type.model_validate_json(await _answer(asked, target, STATUS_QUERY))


async def status_of(client: Reader, target: Target[St], rpc_timeout: timedelta = RPC_TIMEOUT) -> St:
    """The workflow's status query, its answer read as the pydantic converter reads it."""
    return target.status_type.model_validate_json(
        await _ask(client, target, STATUS_QUERY, rpc_timeout)
    )


async def _ask(
    client: Reader, target: Target[Any], query: str, rpc_timeout: timedelta = RPC_TIMEOUT
) -> bytes:
    """The answer (JSON) of ``target``'s query named ``query``, which takes no arguments,
    asked as ``WorkflowHandle.query`` asks it (retried while the server is unavailable)."""
    return await _answer(_send(client, target.workflow_id, query, rpc_timeout), target, query)


async def _send(
    client: Reader, workflow_id: str, query: str, rpc_timeout: timedelta = RPC_TIMEOUT
) -> QueryWorkflowResponse:
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.query.v1 import WorkflowQuery
    from temporalio.api.workflowservice.v1 import QueryWorkflowRequest

    request = QueryWorkflowRequest(
        namespace=client.namespace,
        execution=WorkflowExecution(workflow_id=workflow_id),
        query=WorkflowQuery(query_type=query),
    )
    return await client.workflow_service.query_workflow(request, retry=True, timeout=rpc_timeout)


async def _answer(sent: Awaitable[QueryWorkflowResponse], target: Target[Any], query: str) -> bytes:
    """The JSON the query ``sent`` to ``target`` answered, or the ProjectError saying why
    there is none."""
    try:
        response = await sent
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:  # the SDK's WorkflowQueryFailedError
            raise ProjectError(
                f"{target.name} could not answer: {exc.message}", "QueryFailed"
            ) from exc
        raise _rpc_error(exc, target) from exc
    answer = response.query_result.payloads
    if len(answer) != 1 or answer[0].metadata.get("encoding") != JSON_PLAIN:
        raise ProjectError(f"{target.name} gave no answer to its {query} query", "QueryFailed")
    return answer[0].data


JSON_PLAIN = b"json/plain"
"""The encoding of a payload the pydantic converter wrote (a query's answer, memo fields and
search attribute values)."""


async def allowed_actions(client: Client, project_id: str, actor: str) -> list[Action]:
    from workflows import ProjectWorkflow

    result: list[Action] = await _query(
        client, project(project_id), ProjectWorkflow.allowed_actions, actor
    )
    return result


async def people(client: Reader, project_id: str) -> list[str]:
    """The ids of the people the project's charter names."""
    from pydantic import TypeAdapter

    answer = await _ask(client, project(project_id), PEOPLE_QUERY)
    return TypeAdapter(list[str]).validate_json(answer)


async def _query(
    client: Client,
    target: Target[Any],
    query: Any,
    *args: Any,
    rpc_timeout: timedelta = RPC_TIMEOUT,
) -> Any:
    from temporalio.client import WorkflowQueryFailedError

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
    from temporalio.client import (
        WorkflowUpdateFailedError,
        WorkflowUpdateRPCTimeoutOrCancelledError,
        WorkflowUpdateStage,
    )
    from temporalio.exceptions import ApplicationError

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
    from temporalio.client import WorkflowExecutionStatus

    try:
        return (await h.describe()).status != WorkflowExecutionStatus.RUNNING
    except RPCError:
        return False


async def _wall_clock() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], Awaitable[datetime]] = _wall_clock
"""The Temporal server's time as the client sees it; a time-skipping test server has its own
(tests set ``WorkflowEnvironment.get_current_time``)."""


async def request_gate(
    client: Client, project_id: str, actor: str, comment: str | None = None
) -> ProjectStatus:
    from governance.messages import RequestGateInput
    from workflows import ProjectWorkflow

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
    from governance.messages import DecideGateInput
    from workflows import ProjectWorkflow

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
    from governance.messages import DelegateInput
    from workflows import ProjectWorkflow

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
    from governance.messages import RevokeDelegationInput
    from workflows import ProjectWorkflow

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
    from governance.messages import ActorInput
    from workflows import ProjectWorkflow

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
    from governance.messages import CompleteTaskInput
    from workflows import ProjectWorkflow

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
    try:
        st = await send_update(client, project(task.project_id), ProjectWorkflow.complete_task, arg)
    except ProjectError as exc:
        raise ProjectError(_by_id(str(exc), task), exc.kind) from None
    return CompletedTask(task, st)


def _by_id(message: str, task: Task) -> str:
    """The project's refusal ``message`` naming ``task`` as the person named it, by its id
    and title, not by its key within the project (``idea_gate/1/decide/anna``)."""
    message = message.replace(f'"{task.title}" ({task.key})', f'"{task.title}" (task {task.id})')
    message = message.replace(f"task {task.key}", f'task {task.id} ("{task.title}")')
    return message.replace(task.key, f"task {task.id}")


LIST_PAGE = 1000
"""Rows per visibility page: the most a Temporal server gives (``frontend.visibilityMaxPageSize``
by default), as the SDK's ``list_workflows`` asks."""


async def list_projects(
    client: Reader,
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
    did, is asked its `people` query).

    Read page by page through the WorkflowService stubs, as ``Client.list_workflows`` reads
    them, decoding only the search attributes and memo fields a row shows."""
    from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest

    # A run that continued as new keeps its last search attributes: list live runs only.
    query = f"WorkflowType = '{PROJECT_WORKFLOW}' AND ExecutionStatus != 'ContinuedAsNew'"
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
    request = ListWorkflowExecutionsRequest(
        namespace=client.namespace, query=query, page_size=LIST_PAGE
    )
    ask: list[ProjectRow] = []  # rows that do not say whom they name: ask the project
    while True:
        page = await client.workflow_service.list_workflow_executions(request, retry=True)
        for wf in page.executions:
            attrs, memo = wf.search_attributes.indexed_fields, wf.memo.fields
            kept = _json(memo.get(sa.ROW_MEMO))
            row = row_of_memo(kept)
            named = people_of_memo(kept) if person is not None else ()
            found = ProjectRow(
                project_id=_keyword(attrs.get(sa.PROJECT.name))
                or wf.execution.workflow_id.removeprefix(WORKFLOW_ID_PREFIX),
                phase=_keyword(attrs.get(sa.PHASE.name)),
                model=_keyword(attrs.get(sa.MODEL.name)),
                awaiting=_keyword(attrs.get(sa.AWAITING.name)),
                status=_status_name(wf.status),
                model_hash=str(_json(memo["model_hash"])) if "model_hash" in memo else "",
                model_source=str(_json(memo["model_source"])) if "model_source" in memo else "",
                rag=_keyword(attrs.get(sa.RAG.name)),
                **row,
            )
            if overdue_at is not None and not found.overdue(overdue_at):
                continue
            if named is None:
                ask.append(found)
            elif person is None or person in named:
                rows.append(found)
        if not page.next_page_token:
            break
        request.next_page_token = page.next_page_token
    if ask and person is not None:
        rows += await rows_naming(client, ask, person)
    return sorted(rows, key=lambda r: r.project_id)


def _status_name(status: WorkflowExecutionStatus.ValueType) -> str:
    """A workflow execution status as ``WorkflowExecutionStatus``'s name, lower case
    (``running``, ``terminated``); empty for none."""
    from temporalio.api.enums.v1 import WorkflowExecutionStatus

    if not status:
        return ""
    return WorkflowExecutionStatus.Name(status).removeprefix("WORKFLOW_EXECUTION_STATUS_").lower()


def _json(payload: Payload | None) -> Any:
    """A payload's value as the converters read JSON; None for none, or for what is not
    JSON."""
    if payload is None or payload.metadata.get("encoding") != JSON_PLAIN:
        return None
    return json.loads(payload.data.decode())  # UTF-8, as the converters write it


def _keyword(payload: Payload | None) -> str:
    """A Keyword search attribute's value as ``TypedSearchAttributes`` reads it; empty when
    unset, or when it is not one."""
    if payload is None or payload.metadata.get("type") != b"Keyword":
        return ""
    value = _json(payload)
    if isinstance(value, list):  # a single value in a list, as older servers gave it
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) else ""


PEOPLE_QUERIES = 16
"""Projects asked at once whether their charter names a person (rows kept before the memo
row named the people)."""


async def rows_naming(client: Reader, rows: list[ProjectRow], person: str) -> list[ProjectRow]:
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


async def ended_outside_governance(client: Reader, unfinished: list[str]) -> list[EndedOutside]:
    """Of the chains with no terminal event (projects', and their iterations'), those whose
    workflow is no longer running: terminated, failed or timed out from Temporal (or gone
    from it), which no governance step recorded."""
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    found: list[EndedOutside] = []
    for project_id in unfinished:
        request = DescribeWorkflowExecutionRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=chain_workflow_id(project_id)),
        )
        try:  # as ``WorkflowHandle.describe`` asks
            desc = await client.workflow_service.describe_workflow_execution(request, retry=True)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            found.append(EndedOutside(project_id, NOT_IN_TEMPORAL))
            continue
        status = _status_name(desc.workflow_execution_info.status)
        if status not in ("", "running"):
            found.append(EndedOutside(project_id, status))
    return found
