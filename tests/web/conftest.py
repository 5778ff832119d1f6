"""The dashboard against real components: one Temporal dev server, one `phasegate worker`
process and one SQLite ledger for the folder, the app served by uvicorn on a free port in a
thread of this process (as `phasegate api` serves it), and Debian's chromium driven by
Playwright for the browser tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from web_support import CHROMIUM, CHROMIUM_ARGS, Served

from ledger import Ledger
from phasegate.devserver import DevServer
from phasegate.logging import configure_logging
from phasegate.settings import Settings
from tests.api.api_support import (
    AUDIENCE,
    CLAIM,
    ISSUER,
    PEOPLE,
    PMO,
    IdentityProvider,
    serving,
)
from tests.integration.conftest import Cli, WorkerProcess


@pytest.fixture(scope="session")
def web_devserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(tmp_path_factory.mktemp("web-devserver"), ui=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def web_worker(
    web_devserver: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    folder = tmp_path_factory.mktemp("web-worker")
    worker = WorkerProcess(
        web_devserver.address,
        f"sqlite:///{folder / 'ledger.db'}",
        f"tq-web-{uuid.uuid4().hex}",
        folder / "worker.log",
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def web_ledger(web_worker: WorkerProcess) -> Iterator[Ledger]:
    """The worker's ledger, for making and revoking tokens."""
    with Ledger(web_worker.ledger_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def web_tokens(web_ledger: Ledger) -> dict[str, str]:
    """A personal API token of each person of the tests."""
    return {person: web_ledger.create_token(person, "web tests")[1] for person in PEOPLE}


@pytest.fixture(scope="session")
def web_idp() -> Iterator[IdentityProvider]:
    with serving(IdentityProvider()) as provider:
        yield provider


@pytest.fixture(scope="session")
def web(
    web_devserver: DevServer, web_worker: WorkerProcess, web_idp: IdentityProvider
) -> Iterator[Served]:
    configure_logging("json", "WARNING")
    settings = Settings(
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=web_idp.url,
        oidc_person_claim=CLAIM,
        address=web_devserver.address,
        ledger_url=web_worker.ledger_url,
        task_queue=web_worker.task_queue,
        pmo=(PMO,),
        session_secret="a-test-secret-that-is-long-enough-0123456789",
        log_format="json",
    )
    with Served(settings) as served:
        yield served


@pytest.fixture(scope="session")
def web_cli(
    web_devserver: DevServer, web_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Cli:
    """The CLI on the same server: starting projects, submitting deliverables, voting as
    someone else than the person in the browser."""
    return Cli(web_devserver, web_worker, tmp_path_factory.mktemp("web-cli"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium (Playwright's own browsers are never downloaded). One browser for
    the one module of browser tests, and not for the session: Playwright's sync API keeps its
    event loop running on this thread while it is open, and the CLI (``asyncio.run``) and
    the async tests of other folders cannot run their own then."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
