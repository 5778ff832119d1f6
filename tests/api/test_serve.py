"""``phasegate api``: uvicorn serving the app over real HTTP against the configured Temporal
server and ledger, stopped by SIGTERM; no ledger is a clear error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from phasegate.cli import app
from phasegate.devserver import DevServer
from tests.integration.conftest import PHASEGATE, WorkerProcess

pytestmark = pytest.mark.devserver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_phasegate_api_serves_over_http_until_sigterm(
    api_server: DevServer, api_worker: WorkerProcess, tokens: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "api.log"
    env = {
        **os.environ,
        "PHASEGATE_LOG_FORMAT": "json",
        "PHASEGATE_ADDRESS": api_server.address,
        "PHASEGATE_LEDGER_URL": api_worker.ledger_url,
        "PHASEGATE_DATA_DIR": str(tmp_path / "data"),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [PHASEGATE, "api", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                doc = httpx.get(f"{base}/api/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert doc.status_code == 200 and "/api/projects" in doc.json()["paths"]
        auth = {"Authorization": f"Bearer {tokens['anna']}"}
        assert httpx.get(f"{base}/api/tasks", headers=auth, timeout=10).status_code == 200
        assert httpx.get(f"{base}/api/tasks", timeout=10).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert f"phasegate api: http://127.0.0.1:{port}/api/docs" in text
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
