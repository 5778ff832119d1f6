"""The API against its own OpenAPI document (schemathesis over real HTTP to `phasegate api`):
for generated requests, valid and invalid, no answer is a server error and every answer fits
the document (status code, content type, body schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from api_support import ApiProcess
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from phasegate.api import create_app
from phasegate.devserver import DevServer
from phasegate.settings import Settings
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(
    api_server: DevServer, api_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    folder = tmp_path_factory.mktemp("contract")
    env = {
        "PHASEGATE_ADDRESS": api_server.address,
        "PHASEGATE_LEDGER_URL": api_worker.ledger_url,
        "PHASEGATE_DATA_DIR": str(folder / "data"),
        "PHASEGATE_PMO": "pia",
    }
    api = ApiProcess(env, folder / "api.log")
    try:
        api.wait_ready()
        yield api
    finally:
        assert api.stop() == 0, api.log.read_text()
    assert '"status": 500' not in Path(api.log).read_text()


# The document as the app makes it (the same one the server serves, checked below): loaded at
# import, since schemathesis's lazy fixture loader needs a pytest internal that pytest 9 dropped.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


def test_the_server_serves_the_document_tested(served: ApiProcess) -> None:
    assert httpx.get(f"{served.base}/api/openapi.json").json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_breaks_the_document(
    case: Case, served: ApiProcess, tokens: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=served.base,
        headers={"Authorization": f"Bearer {tokens['pia']}"},
        checks=CHECKS,
    )
