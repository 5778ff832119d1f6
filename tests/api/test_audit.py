"""Verifying the audit trail over the API: one project for the people of its charter, every
project for the PMO only."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from api_support import OUTSIDER, PMO, Api, error, new_project

from ledger import Ledger
from tests.integration.conftest import Cli, WorkerProcess

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def pid(setup_cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> str:
    return new_project(setup_cli, tmp_path_factory.mktemp("audit"))


def test_a_member_verifies_their_project(as_: dict[str, Api], pid: str, ledger: Ledger) -> None:
    response = as_["bo"].get("/api/audit/verify", params={"project": pid})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True and report["broken"] == []
    assert report["events_checked"] == ledger.last_seq(pid) and report["projects"] == 1
    assert report["ended_outside_governance"] == []


def test_the_pmo_verifies_every_project_and_nobody_else(as_: dict[str, Api], pid: str) -> None:
    everything = as_[PMO].get("/api/audit/verify").json()
    assert everything["ok"] is True and everything["projects"] >= 1
    status, kind, message = error(as_["anna"].get("/api/audit/verify"))
    assert (status, kind) == (403, "NotAuthorised") and "only the PMO" in message


def test_a_project_outside_ones_charters_is_404(as_: dict[str, Api], pid: str) -> None:
    hidden = error(as_[OUTSIDER].get("/api/audit/verify", params={"project": pid}))
    assert hidden == (404, "UnknownProject", f"no project {pid}")
    none = error(as_[PMO].get("/api/audit/verify", params={"project": "no-such-project"}))
    assert none == (404, "UnknownProject", "no events for project no-such-project in the ledger")


def test_a_tampered_chain_is_not_ok(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api], api_worker: WorkerProcess
) -> None:
    victim = new_project(setup_cli, tmp_path)
    engine = sa.create_engine(api_worker.ledger_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_events SET comment = 'edited' WHERE project_id = :p AND seq = 2"),
            {"p": victim},
        )
    engine.dispose()
    report = as_["anna"].get("/api/audit/verify", params={"project": victim}).json()
    assert report["ok"] is False
    assert [(b["project_id"], b["seq"]) for b in report["broken"]] == [(victim, 2)]
