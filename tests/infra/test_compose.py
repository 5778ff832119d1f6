"""docker-compose.yml as Compose reads it (`docker-compose config`): the API service beside the
worker, on the same Temporal server and ledger, with a session secret it refuses to run
without. Skipped where the `docker-compose` binary is not installed, except in CI (`CI` set),
whose .ci/run installs it: there a missing binary fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
COMPOSE = shutil.which("docker-compose")

pytestmark = pytest.mark.skipif(
    COMPOSE is None and not os.environ.get("CI"), reason="docker-compose is not installed"
)


def config(**env: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None, "docker-compose is not installed (.ci/run installs it)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    return subprocess.run(
        [COMPOSE, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
    )  # fmt: skip


def services() -> dict[str, Any]:
    done = config(PHASEGATE_SESSION_SECRET="a-long-random-value")
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = yaml.safe_load(done.stdout)["services"]
    return found


def test_the_api_serves_on_8080_with_the_workers_temporal_and_ledger() -> None:
    found = services()
    api, worker = found["api"], found["worker"]
    assert api["command"] == ["api", "--host", "0.0.0.0", "--port", "8080"]
    assert [(p["published"], p["target"]) for p in api["ports"]] == [(8080, 8080)]
    env = api["environment"]
    for name in ("PHASEGATE_ADDRESS", "PHASEGATE_LEDGER_URL", "PHASEGATE_NAMESPACE",
                 "PHASEGATE_TASK_QUEUE"):  # fmt: skip
        assert env[name] == worker["environment"][name]
    assert env["PHASEGATE_ADDRESS"] == "temporal:7233"
    assert env["PHASEGATE_LEDGER_URL"].startswith("postgresql+psycopg://")
    assert env["PHASEGATE_SESSION_SECRET"] == "a-long-random-value"
    assert set(api["depends_on"]) == {"postgresql", "temporal-search-attributes", "worker"}
    assert "8080" not in str(found["temporal-ui"]["ports"][0].get("published"))


def test_compose_refuses_to_run_without_a_session_secret() -> None:
    done = config()
    assert done.returncode != 0
    assert "set PHASEGATE_SESSION_SECRET" in done.stderr
