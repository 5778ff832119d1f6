"""Hostile review rev1: delegation, calendars and the new routes over the REST API, on the
API tests' dev server. Substitutes voting at once, a revoke racing a vote, a delegation with a
window no timer can hold, odd person ids in calendar paths, and people outside the charter
reading what the new routes show."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, error, new_project
from httpx import Response

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path) -> str:
    return new_project(setup_cli, tmp_path)


def at_once(*sends: Any) -> list[Response]:
    barrier = threading.Barrier(len(sends))

    def one(send: Any) -> Response:
        barrier.wait()
        response: Response = send()
        return response

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(one, sends))


def outcome(r: Response) -> tuple[int, str]:
    return (200, "ok") if r.status_code == 200 else error(r)[:2]


def delegation(to: str, days: float = 2, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "to": to,
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=days)).isoformat(),
        **extra,
    }


def delegate(as_: dict[str, Api], pid: str, who: str, to: str, **extra: Any) -> Response:
    r = as_[who].post(f"/api/projects/{pid}/delegations", delegation(to, **extra))
    assert r.status_code == 200, r.text
    return r


def decide_for(api: Api, pid: str, delegator: str) -> Any:
    body = {"decision": "approve", "on_behalf_of": delegator}
    return lambda: api.post(f"/api/projects/{pid}/gate/decide", body)


def kinds(ledger: Ledger, pid: str, kind: str) -> list[Any]:
    return [e for e in ledger.events(pid) if e.kind == kind]


@pytest.mark.parametrize("attempt", range(2))
def test_one_substitute_voting_for_two_delegators_at_once_casts_one_vote(
    as_: dict[str, Api], pid: str, ledger: Ledger, attempt: int
) -> None:
    delegate(as_, pid, "anna", "erik")
    delegate(as_, pid, "bo", "erik")
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    seen = Counter(
        outcome(r)
        for r in at_once(decide_for(as_["erik"], pid, "anna"), decide_for(as_["erik"], pid, "bo"))
    )
    assert seen == Counter({(200, "ok"): 1, (409, "DuplicateVote"): 1}), seen
    st = as_["erik"].get(f"/api/projects/{pid}").json()
    assert st["state"] == "idea_gate" and len(st["gate"]["votes"]) == 1
    assert [e.actor for e in kinds(ledger, pid, "vote_cast")] == ["erik"]


def test_two_substitutes_voting_at_once_pass_the_gate_once(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    delegate(as_, pid, "anna", "erik")
    delegate(as_, pid, "bo", "cecilia")
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    seen = [
        outcome(r)
        for r in at_once(
            decide_for(as_["erik"], pid, "anna"), decide_for(as_["cecilia"], pid, "bo")
        )
    ]
    assert seen == [(200, "ok"), (200, "ok")], seen
    assert as_["anna"].get(f"/api/projects/{pid}").json()["state"] == "pre_study"
    cast = kinds(ledger, pid, "vote_cast")
    assert sorted((e.actor, e.payload["on_behalf_of"]) for e in cast) == [
        ("cecilia", "bo"),
        ("erik", "anna"),
    ]
    assert len(kinds(ledger, pid, "gate_passed")) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_a_revoke_racing_a_vote_never_lets_a_vote_in_after_the_revoke(
    as_: dict[str, Api], pid: str, ledger: Ledger, attempt: int
) -> None:
    delegate(as_, pid, "anna", "erik")
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    voted, revoked = at_once(
        decide_for(as_["erik"], pid, "anna"),
        lambda: as_["anna"].post(f"/api/projects/{pid}/delegations/1/revoke"),
    )
    assert revoked.status_code == 200, revoked.text
    events = ledger.events(pid)
    order = [e.kind for e in events if e.kind in ("vote_cast", "delegation_revoked")]
    if voted.status_code == 200:
        assert order == ["vote_cast", "delegation_revoked"]
    else:
        assert error(voted)[:2] == (403, "OutsideDelegation") and order == ["delegation_revoked"]
    # Either way the substitute's copies are closed and anna's vote is hers to cast (or cast).
    st = as_["anna"].get(f"/api/projects/{pid}").json()
    assert st["delegations"] == []
    open_copies = [
        t for t in ledger.tasks(project_id=pid, status="open") if t.key.endswith("/for/erik")
    ]
    assert open_copies == []


def test_a_delegation_ending_in_the_year_9999_leaves_the_project_working(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    """A window no server timer can hold (Go durations end at ~292 years) must be refused
    with a clear error, or held without wedging the project."""
    body = delegation("erik") | {"ends_at": "9999-12-31T23:59:59+00:00"}
    r = as_["anna"].post(f"/api/projects/{pid}/delegations", body)
    assert r.status_code in (200, 422), r.text
    # The project still takes and answers updates afterwards.
    request = as_["david"].post(f"/api/projects/{pid}/gate/request")
    assert request.status_code == 200, request.text
    for path in (f"/api/projects/{pid}/history", "/api/calendar/person/erik.ics"):
        assert as_["erik"].get(path).status_code == 200, path
    assert as_["bo"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"}).is_success
    assert ledger.verify(pid).ok


@pytest.mark.parametrize("attempt", range(2))
def test_a_delegator_and_their_substitute_voting_at_once_cast_one_vote(
    as_: dict[str, Api], pid: str, ledger: Ledger, attempt: int
) -> None:
    delegate(as_, pid, "anna", "erik")
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    own = {"decision": "approve", "comment": "myself"}
    seen = Counter(
        outcome(r)
        for r in at_once(
            decide_for(as_["erik"], pid, "anna"),
            lambda: as_["anna"].post(f"/api/projects/{pid}/gate/decide", own),
        )
    )
    assert seen == Counter({(200, "ok"): 1, (409, "DuplicateVote"): 1}), seen
    st = as_["anna"].get(f"/api/projects/{pid}").json()
    assert st["state"] == "idea_gate" and [v["actor"] for v in st["gate"]["votes"]] == ["anna"]
    assert len(kinds(ledger, pid, "vote_cast")) == 1


def test_two_overlapping_grants_at_once_keep_one(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    url = f"/api/projects/{pid}/delegations"
    seen = Counter(
        outcome(r)
        for r in at_once(
            lambda: as_["anna"].post(url, delegation("erik")),
            lambda: as_["anna"].post(url, delegation("bo")),
        )
    )
    assert seen == Counter({(200, "ok"): 1, (409, "DelegationOverlaps"): 1}), seen
    assert len(as_["anna"].get(url).json()) == 1
    assert len(kinds(ledger, pid, "delegation_granted")) == 1


def test_a_window_ending_past_the_last_utc_instant_leaves_everything_answering(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    """9999-12-31T23:59:59-05:00 is in the year 10000 in UTC: whatever turns it to UTC (the
    ledger, a calendar feed) must not fail on it; the delegation is refused or held."""
    body = delegation("erik") | {"ends_at": "9999-12-31T23:59:59-05:00"}
    r = as_["anna"].post(f"/api/projects/{pid}/delegations", body)
    assert error(r)[:2] == (422, "InvalidDelegation"), r.text
    assert "out of range" in error(r)[2]
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    for path in (
        f"/api/projects/{pid}",
        f"/api/projects/{pid}/delegations",
        f"/api/projects/{pid}/history",
        f"/api/calendar/project/{pid}.ics",
        "/api/calendar/person/erik.ics",
        "/api/calendar/person/anna.ics",
    ):
        got = as_["erik"].get(path) if "anna.ics" not in path else as_["anna"].get(path)
        assert got.status_code == 200, (path, got.status_code, got.text[:300])
    assert as_["bo"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"}).is_success
    assert ledger.verify(pid).ok
