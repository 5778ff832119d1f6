"""``phasegate api``: uvicorn serving the app over real HTTP against the configured Temporal
server and ledger, stopped by SIGTERM; no ledger is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from api_support import ApiProcess
from typer.testing import CliRunner

from phasegate.cli import app
from phasegate.devserver import DevServer
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver


def test_phasegate_api_serves_over_http_until_sigterm(
    api_server: DevServer, api_worker: WorkerProcess, tokens: dict[str, str], tmp_path: Path
) -> None:
    env = {
        "PHASEGATE_ADDRESS": api_server.address,
        "PHASEGATE_LEDGER_URL": api_worker.ledger_url,
        "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
    }
    api = ApiProcess(env, tmp_path / "api.log")
    try:
        doc = api.wait_ready()
        assert doc.status_code == 200 and "/api/projects" in doc.json()["paths"]
        auth = {"Authorization": f"Bearer {tokens['anna']}"}
        assert httpx.get(f"{api.base}/api/tasks", headers=auth, timeout=10).status_code == 200
        assert httpx.get(f"{api.base}/api/tasks", timeout=10).status_code == 401
    finally:
        code = api.stop()
    text = api.log.read_text()
    assert code == 0, text
    assert f"phasegate api: http://127.0.0.1:{api.port}/api/docs" in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    served = [
        (x["path"], x["status"], x["person"]) for x in lines if x.get("event") == "api.request"
    ]
    assert served == [
        ("/api/openapi.json", 200, None),
        ("/api/tasks", 200, "anna"),
        ("/api/tasks", 401, None),
    ]
    assert tokens["anna"] not in text


def test_phasegate_api_without_a_ledger_says_so(tmp_path: Path, api_server: DevServer) -> None:
    result = CliRunner().invoke(
        app,
        ["api", "--data-dir", str(tmp_path / "empty"), "--address", api_server.address],
    )
    assert result.exit_code == 1
    assert "no ledger at" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "empty" / "ledger.db").exists()
