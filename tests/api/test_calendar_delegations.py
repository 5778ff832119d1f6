"""Calendar feeds and delegations over the API, on the dev server: a person's feed is theirs
and the PMO's only, a project's its people's; a delegation by the token's person, a vote on
behalf through the gate route, and the CLI's `calendar export` over every running project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_support import OUTSIDER, PMO, Api, error, new_project
from icalendar import Calendar

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path) -> str:
    return new_project(setup_cli, tmp_path)


def uids(body: bytes) -> set[str]:
    return {str(e["uid"]) for e in Calendar.from_ical(body).walk("VEVENT")}


def test_feeds_are_for_the_person_the_pmo_and_the_projects_people(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").is_success
    mine = as_["anna"].get(f"/api/calendar/person/anna.ics?project={pid}")
    assert mine.status_code == 200, mine.text
    assert mine.headers["content-type"].startswith("text/calendar")
    tasks = [t.id for t in ledger.tasks(assignee="anna", project_id=pid, status="open")]
    assert uids(mine.content) == {f"{pid}-task-{i}@phasegate" for i in tasks}
    assert as_[PMO].get(f"/api/calendar/person/anna.ics?project={pid}").content == mine.content
    status, kind, _ = error(as_["bo"].get("/api/calendar/person/anna.ics"))
    assert (status, kind) == (403, "NotAuthorised")

    project = as_["bo"].get(f"/api/calendar/project/{pid}.ics")
    assert project.status_code == 200, project.text
    assert f"{pid}-gate-idea-1@phasegate" in uids(project.content)
    assert error(as_[OUTSIDER].get(f"/api/calendar/project/{pid}.ics"))[:2] == (
        404,
        "UnknownProject",
    )
    assert error(as_[OUTSIDER].get(f"/api/calendar/person/{OUTSIDER}.ics?project={pid}"))[0] == 404


def test_a_delegation_and_a_vote_on_behalf_over_the_api(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    now = datetime.now(UTC)
    body = {
        "to": "erik",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=2)).isoformat(),
        "comment": "conference",
    }
    granted = as_["anna"].post(f"/api/projects/{pid}/delegations", body)
    assert granted.status_code == 200, granted.text
    [d] = as_["erik"].get(f"/api/projects/{pid}/delegations").json()
    assert (d["delegator"], d["substitute"], d["reason"]) == ("anna", "erik", "conference")
    bad = {**body, "ends_at": (now - timedelta(days=1)).isoformat()}
    assert error(as_["bo"].post(f"/api/projects/{pid}/delegations", bad))[:2] == (
        422,
        "InvalidDelegation",
    )

    assert as_["david"].post(f"/api/projects/{pid}/gate/request").is_success
    voted = as_["erik"].post(
        f"/api/projects/{pid}/gate/decide", {"decision": "approve", "on_behalf_of": "anna"}
    )
    assert voted.status_code == 200, voted.text
    assert [(v["actor"], v["by"]) for v in voted.json()["gate"]["votes"]] == [("anna", "erik")]
    [cast] = [e for e in ledger.events(pid) if e.kind == "vote_cast"]
    assert (cast.actor, cast.payload["on_behalf_of"]) == ("erik", "anna")
    refused = as_["bo"].post(
        f"/api/projects/{pid}/gate/decide", {"decision": "approve", "on_behalf_of": "anna"}
    )
    assert error(refused)[:2] == (403, "NotDelegated")

    revoked = as_["erik"].post(f"/api/projects/{pid}/delegations/{d['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["delegations"] == []


def test_calendar_export_over_every_running_project_keeps_its_uids(
    setup_cli: Cli, pid: str, tmp_path: Path
) -> None:
    setup_cli("gate", "request", pid, "--as", "david")
    out = tmp_path / "anna.ics"
    setup_cli("calendar", "export", "--person", "anna", "-o", out)
    first = uids(out.read_bytes())
    assert any(u.startswith(f"{pid}-task-") for u in first)
    setup_cli("calendar", "export", "--person", "anna", "-o", out)
    assert uids(out.read_bytes()) == first
    project = setup_cli("calendar", "export", "--project", pid).stdout
    assert f"{pid}-gate-idea-1@phasegate" in uids(project.encode())
    assert "--person" in setup_cli("calendar", "export", code=2).stderr
    # A person no running project names (a typo) is said so, and no feed is written.
    nobody = tmp_path / "nobody.ics"
    refused = setup_cli("calendar", "export", "--person", "nobody", "-o", nobody, code=1)
    assert "no running project names 'nobody'" in refused.stderr and not nobody.exists()
    refused = setup_cli("calendar", "export", "--person", "nobody", code=1)
    assert refused.stdout == "" and "no feed written" in refused.stderr


def test_delegate_list_and_revoke_from_the_command_line(setup_cli: Cli, pid: str) -> None:
    today = datetime.now().date()
    until = (today + timedelta(days=2)).isoformat()
    out = setup_cli(
        "delegate", pid, "--as", "bo", "--to", "cecilia", "--from", today.isoformat(),
        "--until", until, "--reason", "holiday",
    ).stdout  # fmt: skip
    assert out.startswith("delegation 1: cecilia for bo (mottagare) from ") and "holiday" in out
    listed = setup_cli.json("delegation", "list", pid)
    assert [(d["delegator"], d["substitute"]) for d in listed] == [("bo", "cecilia")]
    setup_cli("gate", "request", pid, "--as", "david")
    voted = setup_cli(
        "gate", "decide", pid, "--as", "cecilia", "--for", "bo", "--decision", "approve"
    ).stdout
    assert "cecilia for bo: approve" in voted
    refused = setup_cli(
        "delegate", pid, "--as", "anna", "--to", "erik", "--from", until, "--until",
        today.isoformat(), code=1,
    ).stderr  # fmt: skip
    assert "--until must come after --from" in refused
    assert setup_cli("delegation", "revoke", pid, "1", "--as", "bo").stdout.startswith(
        "delegation 1 revoked"
    )
    assert setup_cli("delegation", "list", pid).stdout == "no delegations\n"
