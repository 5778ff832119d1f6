"""Hostile review rev1: a substitute's vote on a formal change over the REST API, as the CLI's
`change decide --for` casts it locally (DESIGN: what a user can do from the CLI, they can do
over the API), with the same refusals: a vote for someone who did not delegate is 403."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_support import Api, error
from fastapi.testclient import TestClient

import governance as g
from ledger import Ledger

pytestmark = pytest.mark.devserver

UNDER_WAY = Path(__file__).parents[2] / "examples" / "prince2-under-way.yaml"


def test_a_substitute_votes_on_a_formal_change_for_the_delegator_over_the_api(
    http: TestClient, ledger: Ledger
) -> None:
    people = {p: Api(http, ledger.create_token(p)[1]) for p in ("ada", "ben", "dev", "finn")}
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(UNDER_WAY.read_text(encoding="utf-8"))
    charter["id"] = pid
    assert people["dev"].post("/api/projects", charter).status_code == 201
    now = datetime.now(UTC)
    window = {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=3)).isoformat()}
    granted = people["ada"].post(f"/api/projects/{pid}/delegations", {"to": "finn", **window})
    assert granted.status_code == 200, granted.text
    url = f"/api/projects/{pid}/changes"
    formal = people["dev"].post(
        url,
        {"title": "Second bank connection", "cost_impact": 60000, "time_impact": "P2W"},
    )
    assert formal.status_code == 201 and formal.json()["change"]["classification"] == "formal"
    cid = formal.json()["change"]["id"]

    refused = people["ben"].post(
        f"{url}/{cid}/decide", {"decision": "approve", "on_behalf_of": "ada"}
    )
    assert error(refused)[:2] == (403, "NotDelegated"), refused.text
    voted = people["finn"].post(
        f"{url}/{cid}/decide", {"decision": "approve", "on_behalf_of": "ada"}
    )
    assert voted.status_code == 200, voted.text
    assert voted.json()["change"]["state"] == "approved"
    [cast] = [e for e in ledger.events(pid) if e.kind == "vote_cast"]
    assert (cast.actor, cast.payload["on_behalf_of"]) == ("finn", "ada")


@pytest.mark.parametrize(
    "impact",
    [
        {"time_impact": "P999999999D"},
        {"time_impact": "-P999999999D"},
        {"cost_impact": 10**30},
        {"cost_impact": -(10**30)},
        {"scope_impact": 10**30},
        {"time_impact": "P3000000D", "cost_impact": 1},
    ],
)
def test_a_change_of_absurd_size_is_refused_and_the_project_still_answers(
    http: TestClient, ledger: Ledger, impact: dict[str, object]
) -> None:
    dev = Api(http, ledger.create_token("dev")[1])
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(UNDER_WAY.read_text(encoding="utf-8"))
    charter["id"] = pid
    assert dev.post("/api/projects", charter).status_code == 201
    r = dev.post(f"/api/projects/{pid}/changes", {"title": "absurd", **impact})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    # The project still takes a change and answers.
    ok = dev.post(f"/api/projects/{pid}/changes", {"title": "small", "time_impact": "P1D"})
    assert ok.status_code == 201, ok.text[:300]
    assert dev.get(f"/api/projects/{pid}/history").status_code == 200


@pytest.mark.parametrize(
    "report",
    [
        {"as_of": "9999-12-31", "actual_cost": 1, "earned_scope": 1},
        {"as_of": "0001-01-01", "actual_cost": 1, "earned_scope": 1},
        {"as_of": "2026-11-27", "actual_cost": -1, "earned_scope": 1},
        {"as_of": "2026-11-27", "actual_cost": 10**30, "earned_scope": 10**30},
        {"as_of": "2026-11-27", "actual_cost": 1, "earned_scope": -5},
        {
            "as_of": "2026-11-27",
            "actual_cost": 1,
            "earned_scope": 1,
            "risks": [{"title": "x", "probability": 2, "impact": 1}],
        },
    ],
)
def test_an_absurd_progress_report_is_refused_or_taken_and_the_project_still_answers(
    http: TestClient, ledger: Ledger, report: dict[str, object]
) -> None:
    dev = Api(http, ledger.create_token("dev")[1])
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(UNDER_WAY.read_text(encoding="utf-8"))
    charter["id"] = pid
    assert dev.post("/api/projects", charter).status_code == 201
    r = dev.post(f"/api/projects/{pid}/progress", report)
    assert r.status_code < 500, (r.status_code, r.text[:300])
    ok = dev.post(f"/api/projects/{pid}/changes", {"title": "small", "time_impact": "P1D"})
    assert ok.status_code == 201, ok.text[:300]
    for path in ("", "/history", "/reports"):
        got = dev.get(f"/api/projects/{pid}{path}")
        assert got.status_code in (200, 404), (path, got.status_code, got.text[:300])
    assert ledger.verify(pid).ok


REPORT = {
    "as_of": "2026-11-27",
    "actual_cost": 312000,
    "earned_scope": 58,
    "comment": "Parallel runs cost more than planned",
}


@pytest.mark.parametrize(
    "plan",
    [
        {"planned_end": "9999-12-31"},
        {"planned_end": "0001-01-01"},
        {"budget": -1},
        {"budget": 10**30},
        {"scope": -3},
    ],
)
def test_an_absurd_exception_plan_is_refused_or_taken_and_the_project_still_answers(
    http: TestClient, ledger: Ledger, plan: dict[str, object]
) -> None:
    ada, dev = (Api(http, ledger.create_token(p)[1]) for p in ("ada", "dev"))
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(UNDER_WAY.read_text(encoding="utf-8"))
    charter["id"] = pid
    assert dev.post("/api/projects", charter).status_code == 201
    assert dev.post(f"/api/projects/{pid}/progress", REPORT).status_code == 200
    r = ada.post(
        f"/api/projects/{pid}/exception/decide",
        {"decision": "approve-plan", "plan": plan, "comment": "absurd"},
    )
    assert r.status_code < 500, (r.status_code, r.text[:300])
    ok = dev.post(f"/api/projects/{pid}/changes", {"title": "small", "time_impact": "P1D"})
    assert ok.status_code == 201, ok.text[:300]
    for path in ("", "/history", "/reports"):
        got = dev.get(f"/api/projects/{pid}{path}")
        assert got.status_code in (200, 404), (path, got.status_code, got.text[:300])
    assert dev.get(f"/api/calendar/project/{pid}.ics").status_code == 200
    assert ledger.verify(pid).ok
