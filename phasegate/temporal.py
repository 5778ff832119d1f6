"""The Temporal client factory and the search attributes phasegate registers.

For clients (CLI, API, worker) only: workflow code declares its own ``SearchAttributeKey``s so
that the workflow sandbox never imports this module.

Two ways in: ``connect`` gives the SDK's ``Client`` (commands, the API, the worker);
``connect_service`` gives a ``Connection``, the same connection without the client layer
(``temporalio.client`` with its converters and the workflow module costs ~0.2 s to import), for
a command that only reads (``project status``, ``project list``). Both are ``Reader``s.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, DescribeTaskQueueRequest
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import (
    ConnectConfig,
    RPCError,
    RPCStatusCode,
    ServiceClient,
    WorkflowService,
)

from workflows._search import AWAITING, MODEL, PHASE, PROJECT, RAG, ROW_MEMO

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.runtime import Runtime

    from phasegate.settings import Settings

__all__ = [
    "AWAITING",
    "MODEL",
    "PHASE",
    "POLLER_FRESH_SECONDS",
    "PROJECT",
    "RAG",
    "ROW_MEMO",
    "SEARCH_ATTRIBUTES",
    "SEARCH_ATTRIBUTE_NAMES",
    "Connection",
    "Reader",
    "TemporalUnavailable",
    "UnknownNamespace",
    "connect",
    "connect_service",
    "pollers",
    "workers_polling",
]

# The keys are the workflow's own (workflows/_search.py): one definition for both sides.
SEARCH_ATTRIBUTES: Final[tuple[SearchAttributeKey[str], ...]] = (
    PHASE,
    MODEL,
    AWAITING,
    PROJECT,
    RAG,
)
SEARCH_ATTRIBUTE_NAMES: Final[tuple[str, ...]] = tuple(key.name for key in SEARCH_ATTRIBUTES)
"""Names of the custom search attributes; all of type Keyword. Registered by the dev server
launcher and by docker-compose.yml (keep that file in step)."""


class TemporalUnavailable(RuntimeError):
    """The Temporal frontend could not be reached; the message says where and what to do."""

    def __init__(self, address: str, namespace: str, cause: str) -> None:
        self.address: str | None = address
        self.namespace = namespace
        super().__init__(
            f"cannot reach the Temporal server at {address} (namespace {namespace!r}): {cause}\n"
            "Start a local one with `phasegate dev`, or point PHASEGATE_ADDRESS (--address) at "
            "a running Temporal frontend."
        )


class UnknownNamespace(TemporalUnavailable):
    """The server answers but has no such namespace."""

    def __init__(self, address: str, namespace: str) -> None:
        RuntimeError.__init__(
            self,
            f"namespace {namespace!r} does not exist on {address}\n"
            "Pass --namespace (PHASEGATE_NAMESPACE) naming one that does, or create it "
            f"(`temporal operator namespace create --namespace {namespace} --address {address}`).",
        )
        self.address = address
        self.namespace = namespace


class Reader(Protocol):
    """What a read needs of a connection: the namespace and the WorkflowService stubs. A
    ``Client`` is one; so is a ``Connection``."""

    @property
    def namespace(self) -> str: ...

    @property
    def workflow_service(self) -> WorkflowService: ...


@dataclass(frozen=True)
class Connection:
    """A connection to a Temporal server and one of its namespaces, without the client layer."""

    service: ServiceClient
    namespace: str

    @property
    def workflow_service(self) -> WorkflowService:
        return self.service.workflow_service


async def connect_service(settings: Settings, *, runtime: Runtime | None = None) -> Connection:
    """A connection to ``settings``' Temporal server and namespace, the one ``connect`` wraps
    in a ``Client``; the same errors as ``connect``."""
    address = settings.effective_address()
    try:
        service = await ServiceClient.connect(ConnectConfig(target_host=address, runtime=runtime))
    except RuntimeError as exc:  # the SDK reports every connect failure as RuntimeError
        raise TemporalUnavailable(address, settings.namespace, str(exc)) from exc
    try:
        await service.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.namespace)
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UnknownNamespace(address, settings.namespace) from None
        raise TemporalUnavailable(address, settings.namespace, exc.message) from exc
    return Connection(service, settings.namespace)


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client for ``settings``' Temporal server and namespace, with the pydantic converter.

    Raises ``TemporalUnavailable`` when the server cannot be reached (``NoDevServer`` when no
    address was given and no dev server runs for the data dir), ``UnknownNamespace`` when it
    has no such namespace. ``runtime`` lets a short-lived process use a private ``Runtime``
    that it can drop before exiting.
    """
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    connection = await connect_service(settings, runtime=runtime)
    # What ``Client.connect`` does with a connection it made itself.
    return Client(
        connection.service,
        namespace=connection.namespace,
        data_converter=pydantic_data_converter,
    )


POLLER_FRESH_SECONDS: Final = 90.0
"""A poller seen within this long still polls: an idle worker's long poll lasts up to ~70 s,
and the server keeps listing a gone worker for minutes."""


async def pollers(client: Reader, task_queue: str) -> set[str]:
    """Identities of the workers seen polling ``task_queue`` recently, for workflow tasks and
    for activity tasks alike (a phasegate worker polls both)."""
    now = time.time()
    responses = await asyncio.gather(  # both at once
        *(
            client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(name=task_queue),
                    task_queue_type=kind,
                )
            )
            for kind in (
                TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            )
        )
    )
    return {
        p.identity
        for response in responses
        for p in response.pollers
        if now - p.last_access_time.ToSeconds() <= POLLER_FRESH_SECONDS
    }


async def workers_polling(client: Reader, task_queue: str) -> bool:
    """Whether any worker polls ``task_queue`` now (see ``POLLER_FRESH_SECONDS``)."""
    return bool(await pollers(client, task_queue))


def initial(project_id: str, model_ref: str, phase: str) -> TypedSearchAttributes:
    """Search attributes a project workflow starts with (it keeps them current itself)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(PHASE, phase),
            SearchAttributePair(MODEL, model_ref),
            SearchAttributePair(PROJECT, project_id),
        ]
    )


async def register_search_attributes(client: Client) -> None:
    """Register phasegate's search attributes (Keyword) on a server; ones already there stay.

    Works on the dev server and on the time-skipping test server (which has no list call).
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    for name in SEARCH_ATTRIBUTE_NAMES:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace,
                    search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
                )
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
