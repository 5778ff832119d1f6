"""Hostile review (issue #8): a token must never reach a log, also when a request fails in a
way nobody foresaw (the 500 path logs the exception, and structlog's traceback renderers show
every frame's locals: the ASGI scope with its headers, the bearer credentials)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from api_support import Api, ApiProcess, error
from fastapi.testclient import TestClient

from phasegate.devserver import DevServer
from phasegate.logging import configure_logging
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver

UNFORESEEN = ("/api/projects", {"phase": "\x00"})
"""A request the API fails to answer in its own words (a NUL in a filter reaches Temporal's
visibility query, which fails): the path every unexpected error takes."""


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_an_unexpected_error_logs_no_token(
    as_: dict[str, Api],
    tokens: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    configure_logging(fmt, "INFO")  # type: ignore[arg-type]
    try:
        capsys.readouterr()
        path, params = UNFORESEEN
        response = as_["anna"].get(path, params=params)
        logged = capsys.readouterr().err
    finally:
        configure_logging("json", "INFO")
    assert response.status_code >= 400
    assert "api.request" in logged
    secret = tokens["anna"][16:]
    assert tokens["anna"] not in logged and secret not in logged, "the token is in the log"


def test_phasegate_api_logs_no_token_when_a_request_fails(
    api_server: DevServer, api_worker: WorkerProcess, tokens: dict[str, str], tmp_path: Path
) -> None:
    """The same through ``phasegate api`` itself (uvicorn, JSON logs as in a container)."""
    env = {
        "PHASEGATE_ADDRESS": api_server.address,
        "PHASEGATE_LEDGER_URL": api_worker.ledger_url,
        "PHASEGATE_TASK_QUEUE": api_worker.task_queue,
        "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
    }
    api = ApiProcess(env, tmp_path / "api.log")
    try:
        api.wait_ready()
        path, params = UNFORESEEN
        response = httpx.get(
            f"{api.base}{path}",
            params=params,
            headers={"Authorization": f"Bearer {tokens['bo']}"},
            timeout=60,
        )
    finally:
        api.stop()
    text = api.log.read_text()
    assert response.status_code >= 400
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(x.get("event") == "api.request" for x in lines), text[-2000:]
    assert tokens["bo"] not in text, "the token is in the server's log"


def test_a_401_message_never_echoes_the_token(
    http: TestClient, tokens: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    anna = tokens["anna"]
    for wrong in (anna + "x", "PG_" + anna[3:], anna.replace("_", ".")):
        response = http.get("/api/tasks", headers={"Authorization": f"Bearer {wrong}"})
        status, _, message = error(response)
        assert status == 401 and anna[16:] not in message and wrong not in message
    assert anna[16:] not in capsys.readouterr().err


def test_an_unauthenticated_path_cannot_write_lines_or_escapes_into_the_console_log(
    http: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The access log logs the decoded path of every request, before any authentication:
    in the console format (a terminal) a percent-encoded newline or escape sequence in it
    must not start a forged line nor reach the terminal raw."""
    configure_logging("console", "INFO")
    try:
        capsys.readouterr()
        http.get("/api/x%1B%5D0%3Bpwned%07%0A2026-01-01T00%3A00%3A00Z%20%5Binfo%5D%20forged")
        logged = capsys.readouterr().err
    finally:
        configure_logging("json", "INFO")
    assert "api.request" in logged
    assert "\x1b]0;pwned" not in logged, "an escape sequence from the path reached the log raw"
    assert not any(line.startswith("2026-01-01") for line in logged.splitlines()), logged
