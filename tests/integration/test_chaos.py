"""Chaos on the real dev server: four projects taking votes while the worker is killed with
SIGKILL every 0.3 to 2.5 s and restarted (``PHASEGATE_CHAOS_SECONDS``, default 20)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from temporalio.client import Client

from phasegate.devserver import DevServer
from tests.integration.chaos import chaos

pytestmark = pytest.mark.devserver

SECONDS = float(os.environ.get("PHASEGATE_CHAOS_SECONDS", "20"))
SEED = int(os.environ.get("PHASEGATE_CHAOS_SEED", "13"))


async def test_projects_voting_through_worker_kills_all_decide_and_verify(
    client: Client, dev_server: DevServer, tmp_path: Path
) -> None:
    run = await chaos(client, dev_server.address, tmp_path, seconds=SECONDS, seed=SEED)
    print(run.summary())
    assert run.kills >= 2, run.summary()  # the worker did die, over and over
    assert run.accepted > 0, run.summary()
    assert run.verified, run.summary()
