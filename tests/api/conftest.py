"""The REST API against real components: one Temporal dev server, one `phasegate worker`
process and one SQLite ledger for the whole folder, the app served by FastAPI's TestClient
(its own thread and event loop: the app makes its Temporal client there, in its lifespan),
personal API tokens from the ledger and OpenID Connect tokens signed by keys made here and
served from a local JWKS endpoint."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from api_support import (
    AUDIENCE,
    CLAIM,
    ISSUER,
    PEOPLE,
    PMO,
    PMO_GROUP,
    Api,
    IdentityProvider,
    RemoteCli,
    free_port,
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


# -- the CLI over the API (PHASEGATE_API_URL) ---------------------------------------------------


@pytest.fixture(scope="module")
def api_url(settings: Settings) -> Iterator[str]:
    """The API as `phasegate api` serves it: uvicorn on a free port, in a thread."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def remote(
    api_url: str, tokens: dict[str, str], ledger: Ledger, tmp_path: Path
) -> Callable[..., RemoteCli]:
    """``remote("anna")("project", "status", pid)``: the CLI with anna's token (a person of
    another charter, ``ada``, gets one made for them)."""
    folder = tmp_path / "empty-data-dir"

    def as_person(person: str, token: str | None = None, url: str | None = None) -> RemoteCli:
        if token is None and person not in tokens:
            tokens[person] = ledger.create_token(person)[1]
        return RemoteCli(url or api_url, token or tokens[person], folder)

    return as_person
