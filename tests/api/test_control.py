"""Progress, changes, exceptions and reports over the API, on a PRINCE2 project under way
(examples/prince2-under-way.yaml, started over the API): a progress report that breaks the
stage tolerance raises an exception and issues reports; the exception decided by the executive
only; a minor change decided at once and a formal one by vote; 404, 422 and the workflow's
refusals unchanged."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from api_support import OUTSIDER, Api, error, eventually
from fastapi.testclient import TestClient

import governance as g
from ledger import Ledger

pytestmark = pytest.mark.devserver

UNDER_WAY = Path(__file__).parents[2] / "examples" / "prince2-under-way.yaml"
REPORT = {
    "as_of": "2026-11-27",
    "actual_cost": 312000,
    "earned_scope": 58,
    "risks": [{"title": "Bank file format changes", "probability": 0.4, "impact": 50000}],
    "comment": "Parallel runs cost more than planned",
}


@pytest.fixture(scope="module")
def people(http: TestClient, ledger: Ledger) -> dict[str, Api]:
    return {p: Api(http, ledger.create_token(p)[1]) for p in ("ada", "ben", "dev", OUTSIDER)}


@pytest.fixture(scope="module")
def pid(people: dict[str, Api]) -> str:
    """The project under way, its progress reported once (cost breaks the stage tolerance)."""
    pid = f"pay-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(UNDER_WAY.read_text(encoding="utf-8"))
    charter["id"] = pid
    response = people["dev"].post("/api/projects", charter)
    assert response.status_code == 201, response.text
    reported = people["dev"].post(f"/api/projects/{pid}/progress", REPORT)
    assert reported.status_code == 200, reported.text
    assert reported.json()["control"]["worst"] == "red"
    return pid


def test_a_progress_report_is_the_project_managers_and_checked_before_it_is_sent(
    pid: str, people: dict[str, Api], ledger: Ledger
) -> None:
    before = ledger.last_seq(pid)
    status, kind, message = error(people["ben"].post(f"/api/projects/{pid}/progress", REPORT))
    assert (status, kind) == (403, "NotAuthorised"), message
    assert '"ben"' in message
    for bad, said in (
        ({"actual_cost": -1}, "must not be negative"),
        ({"actor": "dev"}, "actor: Extra inputs are not permitted"),
        ({"as_of": "2026-02-30"}, "as_of"),
    ):
        status, kind, message = error(
            people["dev"].post(f"/api/projects/{pid}/progress", {**REPORT, **bad})
        )
        assert (status, kind) == (422, "InvalidInput") and said in message, message
    assert ledger.last_seq(pid) == before
    hidden = error(people[OUTSIDER].post(f"/api/projects/{pid}/progress", REPORT))
    assert hidden == (404, "UnknownProject", f"no project {pid}")


def test_the_exception_and_its_reports_are_shown(pid: str, people: dict[str, Api]) -> None:
    exception = people["ben"].get(f"/api/projects/{pid}/exception").json()["exception"]
    assert exception["id"] == "EX-1" and exception["level"] == "board"

    def issued(rows: list[dict[str, object]]) -> bool:
        return {("exception", 1), ("highlight", 1)} <= {(r["kind"], r["number"]) for r in rows}

    def listed(**params: object) -> dict[str, Any]:
        page: dict[str, Any] = (
            people["ben"].get(f"/api/projects/{pid}/reports", params=params).json()
        )
        return page

    every = eventually(listed, lambda page: issued(page["items"]))
    assert issued(every["items"]) and every["total"] == len(every["items"])
    only = listed(kind="exception")
    assert [r["kind"] for r in only["items"]] == ["exception"] and only["total"] == 1
    second = listed(limit=1, offset=1)
    assert second["items"] == every["items"][1:2] and second["total"] == every["total"]
    report = people["ben"].get(f"/api/projects/{pid}/reports/exception").json()
    assert report["number"] == 1 and report["warning"] is None
    assert report["markdown"].startswith("# Exception: cost forecast outside the stage tolerance")
    assert report["content"]["exception_id"] == "EX-1"
    same = people["ben"].get(f"/api/projects/{pid}/reports/exception/1").json()
    assert same == report
    missing = error(people["ben"].get(f"/api/projects/{pid}/reports/exception/9"))
    assert missing == (
        404,
        "NoReport",
        f"project {pid} has no exception report #9: its exception reports are #1 to #1",
    )
    assert error(people["ben"].get(f"/api/projects/{pid}/reports/other"))[:2] == (
        422,
        "InvalidInput",
    )


def test_the_exception_is_decided_by_the_executive_only(pid: str, people: dict[str, Api]) -> None:
    url = f"/api/projects/{pid}/exception/decide"
    plan = {"decision": "approve-plan", "plan": {"budget": 1100000}}
    assert error(people["ben"].post(url, plan)) == (
        403,
        "NotAuthorised",
        '"ben" may not decide exception EX-1: it is with level board, where only executive '
        "decides it",
    )
    status, kind, message = error(people["ada"].post(url, {"decision": "approve-plan"}))
    assert (status, kind) == (422, "InvalidInput") and "needs" in message, message
    decided = people["ada"].post(url, {**plan, "comment": "Parallel runs are worth it"})
    assert decided.status_code == 200, decided.text
    control = decided.json()["control"]
    assert control["baseline_version"] == 2 and float(control["baseline"]["budget"]) == 1100000
    assert control["exception"] is None
    assert people["ada"].get(f"/api/projects/{pid}/exception").json() == {"exception": None}


def test_changes_minor_at_once_formal_by_vote(pid: str, people: dict[str, Api]) -> None:
    url = f"/api/projects/{pid}/changes"
    minor = people["dev"].post(
        url, {"title": "Extra payslip field", "cost_impact": 8000, "time_impact": "P2D"}
    )
    assert minor.status_code == 201, minor.text
    assert minor.json()["change"]["id"] == "CR-1"
    assert (minor.json()["change"]["classification"], minor.json()["change"]["state"]) == (
        "minor",
        "approved",
    )
    formal = (
        people["dev"]
        .post(
            url,
            {
                "title": "Second bank connection",
                "cost_impact": 60000,
                "time_impact": "P2W",
                "scope_impact": 10,
                "reason": "The bank splits its file formats",
            },
        )
        .json()["change"]
    )
    shown = (formal["id"], formal["classification"], formal["state"])
    assert shown == ("CR-2", "formal", "assessed")
    status, kind, message = error(people["dev"].post(url, {"title": "x", "time_impact": "PT5H"}))
    assert (status, kind) == (422, "InvalidInput") and "whole days" in message, message

    vote = {"decision": "approve", "comment": "Needed for go-live"}
    assert error(people["dev"].post(f"{url}/CR-2/decide", vote)) == (
        403,
        "NotAuthorised",
        '"dev" may not decide change CR-2: approvers are executive; senior_user, '
        "senior_supplier advise",
    )
    decided = people["ada"].post(f"{url}/cr-2/decide", {"decision": "approve"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["change"]["state"] == "approved"
    assert error(people["ada"].post(f"{url}/CR-2/decide", {"decision": "approve"})) == (
        409,
        "ChangeNotOpen",
        "change CR-2 is not open for a decision: it is approved",
    )

    listed = people["ben"].get(url).json()
    assert listed["currency"] == "EUR" and [c["id"] for c in listed["items"]] == ["CR-1", "CR-2"]
    assert people["ben"].get(f"{url}/CR-1").json()["title"] == "Extra payslip field"
    assert error(people["ben"].get(f"{url}/CR-9")) == (
        404,
        "UnknownChange",
        f"project {pid} has no change CR-9",
    )
    assert error(people["ben"].get(f"{url}/X-1"))[:2] == (422, "InvalidInput")


def test_an_exception_decision_is_checked_before_it_is_sent(
    pid: str, people: dict[str, Api], ledger: Ledger
) -> None:
    url = f"/api/projects/{pid}/exception/decide"
    before = ledger.last_seq(pid)
    for body, said in (
        ({"decision": "widen"}, "needs --tolerance ASPECT=VALUE or --change-budget PCT"),
        (
            {"decision": "widen", "tolerances": {"cost": "15%"}, "plan": {"budget": 1}},
            "--plan goes with --decision approve-plan, not widen",
        ),
        ({"decision": "widen", "change_budget": 150}, "must be a percentage from 0 to 100"),
        ({"decision": "close", "change_budget": 5}, "go with --decision widen, not close"),
        ({"decision": "widen", "tolerances": {"cost": "lots"}}, "tolerances.cost"),
        ({"decision": "shrug"}, "decision"),
    ):
        status, kind, message = error(people["ada"].post(url, body))
        assert (status, kind) == (422, "InvalidInput") and said in message, (body, message)
    assert ledger.last_seq(pid) == before
