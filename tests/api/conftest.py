"""The REST API against real components: one Temporal dev server, one `phasegate worker`
process and one SQLite ledger for the whole folder, the app served by FastAPI's TestClient
(its own thread and event loop: the app makes its Temporal client there, in its lifespan),
personal API tokens from the ledger and OpenID Connect tokens signed by keys made here and
served from a local JWKS endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from api_support import (
    AUDIENCE,
    CLAIM,
    ISSUER,
    PEOPLE,
    PMO,
    PMO_GROUP,
    Api,
    IdentityProvider,
    serving,
)
from fastapi.testclient import TestClient

from ledger import Ledger
from phasegate.api import create_app
from phasegate.devserver import DevServer
from phasegate.logging import configure_logging
from phasegate.settings import Settings
from tests.integration.conftest import Cli, WorkerProcess


@pytest.fixture(scope="session")
def idp() -> Iterator[IdentityProvider]:
    with serving(IdentityProvider()) as provider:
        yield provider


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("api-devserver"), ui=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api_worker(
    api_server: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    folder = tmp_path_factory.mktemp("api-worker")
    worker = WorkerProcess(
        api_server.address,
        f"sqlite:///{folder / 'ledger.db'}",
        f"tq-api-{uuid.uuid4().hex}",
        folder / "worker.log",
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def ledger(api_worker: WorkerProcess) -> Iterator[Ledger]:
    """The worker's ledger (migrated by the worker), for making tokens."""
    with Ledger(api_worker.ledger_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def tokens(ledger: Ledger) -> dict[str, str]:
    """A personal API token of each person of the tests."""
    return {person: ledger.create_token(person, "tests")[1] for person in PEOPLE}


@pytest.fixture(scope="session")
def settings(api_server: DevServer, api_worker: WorkerProcess, idp: IdentityProvider) -> Settings:
    return Settings(
        address=api_server.address,
        ledger_url=api_worker.ledger_url,
        task_queue=api_worker.task_queue,
        pmo=(PMO,),
        pmo_groups=(PMO_GROUP,),
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=idp.url,
        oidc_person_claim=CLAIM,
        log_format="json",
    )


@pytest.fixture(scope="session")
def http(settings: Settings) -> Iterator[TestClient]:
    """The app as ``phasegate api`` serves it, without credentials of its own."""
    configure_logging("json", "INFO")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def setup_cli(
    api_server: DevServer, api_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Cli:
    """The CLI on the same server, for what the API does not do (yet): start projects,
    submit deliverables."""
    return Cli(api_server, api_worker, tmp_path_factory.mktemp("api-cli"))


@pytest.fixture(scope="session")
def as_(http: TestClient, tokens: dict[str, str]) -> dict[str, Api]:
    """``as_["anna"].post(...)``: a request with anna's token."""
    return {person: Api(http, token) for person, token in tokens.items()}
