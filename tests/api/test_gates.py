"""Gate requests, votes and board actions over the API: the actor is always the token's
person; the workflow's refusal reaches the client with its message unchanged; a missing
reason is refused before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import OUTSIDER, PMO, Api, error, new_project

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path) -> str:
    """A new project at its first gate's request, its deliverable submitted."""
    return new_project(setup_cli, tmp_path)


def requested(as_: dict[str, Api], pid: str) -> dict[str, object]:
    response = as_["david"].post(f"/api/projects/{pid}/gate/request")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_gate_request_and_two_votes_pass_the_gate(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    st = requested(as_, pid)
    assert st["state"] == "idea_gate"
    assert st["gate"]["awaited"] == ["anna", "bo"]  # type: ignore[index]
    first = as_["bo"].post(
        f"/api/projects/{pid}/gate/decide", {"decision": "approve", "comment": "fine"}
    )
    assert first.status_code == 200, first.text
    assert [v["actor"] for v in first.json()["gate"]["votes"]] == ["bo"]
    last = as_["anna"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})
    assert last.status_code == 200, last.text
    st = last.json()
    assert st["state"] == "pre_study" and st["gate"] is None
    assert st["last_gate"]["outcome"] == "approve" and st["last_gate"]["by"] == "anna"
    votes = [(e.actor, e.kind) for e in ledger.events(pid) if e.kind == "vote_cast"]
    assert votes == [("bo", "vote_cast"), ("anna", "vote_cast")]


def test_a_body_cannot_name_another_actor(as_: dict[str, Api], pid: str) -> None:
    requested(as_, pid)
    for body in (
        {"decision": "approve", "actor": "bo"},
        {"decision": "approve", "as": "bo"},
        {"decision": "approve", "comment": "x", "actor": "anna"},
    ):
        status, kind, message = error(as_["anna"].post(f"/api/projects/{pid}/gate/decide", body))
        assert (status, kind) == (422, "InvalidInput")
        assert "Extra inputs are not permitted" in message
    st = as_["anna"].get(f"/api/projects/{pid}").json()
    assert st["gate"]["votes"] == []  # nothing was sent
    voted = as_["anna"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})
    assert [v["actor"] for v in voted.json()["gate"]["votes"]] == ["anna"]  # anna, never bo


def test_the_validators_refusal_reaches_the_client_unchanged(
    as_: dict[str, Api], pid: str, setup_cli: Cli
) -> None:
    requested(as_, pid)
    assert as_["bo"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"}).is_success
    status, kind, message = error(
        as_["bo"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})
    )
    assert (status, kind) == (409, "DuplicateVote")
    cli = setup_cli("gate", "decide", pid, "--as", "bo", "--decision", "approve", code=1)
    assert cli.stderr == f"error: {message}\n"  # what the CLI prints, word for word
    assert message.startswith('"bo" has already decided gate idea_gate')


def test_a_person_without_the_role_is_403_with_the_workflows_reason(
    as_: dict[str, Api], pid: str
) -> None:
    requested(as_, pid)
    status, kind, message = error(
        as_["erik"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})
    )
    assert (status, kind) == (403, "NotAuthorised")
    assert message.startswith('"erik" may not decide gate idea_gate')


@pytest.mark.parametrize("decision", ["reject", "rework"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_reject_or_rework_without_a_comment_is_422_and_sends_nothing(
    as_: dict[str, Api], pid: str, decision: str, comment: str | None
) -> None:
    requested(as_, pid)
    body = {"decision": decision} if comment is None else {"decision": decision, "comment": comment}
    status, kind, message = error(as_["anna"].post(f"/api/projects/{pid}/gate/decide", body))
    assert (status, kind) == (422, "InvalidInput")
    assert f"{decision} needs a comment" in message
    assert as_["anna"].get(f"/api/projects/{pid}").json()["gate"]["votes"] == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"decision": "maybe"}, "decision: Input should be 'approve', 'reject' or 'rework'"),
        ({}, "decision: Field required"),
        ({"decision": "approve", "round": 0}, "round: Input should be greater than or equal to 1"),
        ({"decision": "approve", "comment": "x" * 4001}, "comment: Value should have at most 4000"),
        ({"decision": "approve", "comment": "bad\x1b[31m"}, "comment"),
    ],
)
def test_a_bad_vote_is_422_naming_the_field(
    as_: dict[str, Api], pid: str, body: dict[str, object], problem: str
) -> None:
    status, kind, message = error(as_["anna"].post(f"/api/projects/{pid}/gate/decide", body))
    assert (status, kind) == (422, "InvalidInput") and problem in message, message


def test_a_vote_for_another_round_is_409(as_: dict[str, Api], pid: str) -> None:
    requested(as_, pid)
    status, kind, message = error(
        as_["anna"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve", "round": 2})
    )
    assert (status, kind) == (409, "StaleVote") and "round 1 is open" in message


def test_hold_needs_a_reason_and_stops_the_votes_until_resumed(
    as_: dict[str, Api], pid: str
) -> None:
    requested(as_, pid)
    for action in ("hold", "cancel"):
        status, kind, message = error(as_["anna"].post(f"/api/projects/{pid}/{action}", {}))
        assert (status, kind) == (422, "InvalidInput") and f"{action} needs a comment" in message
    held = as_["anna"].post(f"/api/projects/{pid}/hold", {"comment": "budget review"})
    assert held.status_code == 200 and held.json()["on_hold"] is True
    assert held.json()["held_by"] == "anna"
    status, kind, _ = error(
        as_["bo"].post(f"/api/projects/{pid}/gate/decide", {"decision": "approve"})
    )
    assert (status, kind) == (409, "OnHold")
    status, kind, message = error(as_["bo"].post(f"/api/projects/{pid}/resume"))
    assert (status, kind) == (403, "NotAuthorised") and "bo" in message
    resumed = as_["anna"].post(f"/api/projects/{pid}/resume")
    assert resumed.status_code == 200 and resumed.json()["on_hold"] is False


def test_someone_outside_the_charter_gets_404_and_the_pmo_the_workflows_403(
    as_: dict[str, Api], pid: str
) -> None:
    requested(as_, pid)
    vote = {"decision": "approve"}
    assert error(as_[OUTSIDER].post(f"/api/projects/{pid}/gate/decide", vote)) == (
        404,
        "UnknownProject",
        f"no project {pid}",
    )
    status, kind, message = error(as_[PMO].post(f"/api/projects/{pid}/gate/decide", vote))
    assert (status, kind) == (403, "UnknownActor")
    assert message == f'"{PMO}" is not a person in the charter of {pid}'
