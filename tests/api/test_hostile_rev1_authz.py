"""Hostile review rev1: who may read and do what over the new routes (calendars, delegations,
iterations, deliverables, changes, the exception, reports, the audit export), odd ids in
paths, odd OpenID Connect claim shapes, and bad delegation and charter bodies: each refused
with a clear 4xx, never a 500, and nothing recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import EXAMPLE, OUTSIDER, PMO_GROUP, Api, IdentityProvider, error, new_project
from fastapi.testclient import TestClient

from ledger import Ledger
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path) -> str:
    return new_project(setup_cli, tmp_path)


def window(days: float = 2) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=days)).isoformat()}


def test_an_outsider_learns_nothing_of_a_project_from_the_new_routes(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    before = ledger.last_seq(pid)
    outsider = as_[OUTSIDER]
    for path in (
        f"/api/projects/{pid}/delegations",
        f"/api/projects/{pid}/iterations",
        f"/api/projects/{pid}/deliverables",
        f"/api/projects/{pid}/changes",
        f"/api/projects/{pid}/changes/CR-1",
        f"/api/projects/{pid}/exception",
        f"/api/projects/{pid}/reports",
        f"/api/projects/{pid}/reports/highlight",
        f"/api/projects/{pid}/reports/highlight/1",
        f"/api/calendar/project/{pid}.ics",
        f"/api/calendar/person/{OUTSIDER}.ics?project={pid}",
        f"/api/audit/export?project={pid}",
        f"/api/audit/verify?project={pid}",
    ):
        r = outsider.get(path)
        assert error(r)[:2] == (404, "UnknownProject"), (path, r.status_code, r.text)
        # A project that does not exist answers the same: nobody learns which ones exist.
        gone = outsider.get(path.replace(pid, "no-such-project"))
        assert gone.status_code == 404, (path, gone.text)
    for path, body in (
        (f"/api/projects/{pid}/delegations", {"to": "anna", **window()}),
        (f"/api/projects/{pid}/delegations/1/revoke", None),
        (f"/api/projects/{pid}/progress", {"spent": 1}),
        (f"/api/projects/{pid}/gate/decide", {"decision": "approve", "on_behalf_of": "anna"}),
    ):
        r = outsider.post(path, body)
        assert r.status_code in (404, 422), (path, r.text)
        assert r.status_code != 404 or error(r)[1] == "UnknownProject"
    # An outsider's own feed names nothing of the project.
    feed = outsider.get(f"/api/calendar/person/{OUTSIDER}.ics")
    assert feed.status_code == 200 and pid.encode() not in feed.content
    assert ledger.last_seq(pid) == before


@pytest.mark.parametrize(
    "person",
    [
        "ANNA",
        "anna%2F..%2Fbo",
        "..%2Fanna",
        "-anna",
        "anna-",
        "a" * 64,
        "%C3%A4nna",
        "anna%00",
        "anna.ics",
        "anna%20",
        "",
    ],
)
def test_odd_person_ids_in_a_calendar_path_are_refused_never_served(
    as_: dict[str, Api], person: str
) -> None:
    r = as_["anna"].get(f"/api/calendar/person/{person}.ics")
    assert r.status_code in (403, 404, 422), (person, r.status_code, r.text)
    assert not r.headers.get("content-type", "").startswith("text/calendar")


@pytest.mark.parametrize(
    "project", ["..", "%2e%2e", "a%2Fb", "A", "x" * 64, "%00", "api-%27%20or%201%3D1"]
)
def test_odd_project_ids_in_delegation_and_feed_paths_are_refused(
    as_: dict[str, Api], project: str
) -> None:
    for r in (
        as_["anna"].get(f"/api/projects/{project}/delegations"),
        as_["anna"].post(f"/api/projects/{project}/delegations", {"to": "bo", **window()}),
        as_["anna"].get(f"/api/calendar/project/{project}.ics"),
        as_["anna"].get(f"/api/calendar/person/anna.ics?project={project}"),
    ):
        assert r.status_code in (404, 405, 422), (project, r.status_code, r.text)


def test_bad_delegation_bodies_are_refused_and_change_nothing(
    as_: dict[str, Api], pid: str, ledger: Ledger
) -> None:
    before = ledger.last_seq(pid)
    url = f"/api/projects/{pid}/delegations"
    now = datetime.now(UTC)
    naive = now.replace(tzinfo=None)
    bad: list[tuple[Any, int]] = [
        ({"to": "erik", "starts_at": naive.isoformat(), "ends_at": window()["ends_at"]}, 422),
        ({"to": "erik", "starts_at": "0000-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00Z"}, 422),
        ({"to": "erik", "starts_at": "yesterday", "ends_at": "tomorrow"}, 422),
        ({"to": "ERIK", **window()}, 422),
        ({"to": "erik/../bo", **window()}, 422),
        ({"to": OUTSIDER, **window()}, 403),  # not in the charter (UnknownActor)
        ({"to": "anna", **window()}, 422),  # to oneself
        ({"to": "erik", **window(), "comment": "x" * 70_000}, 413),
        ({"to": "erik", **window(-1)}, 422),  # ends before it starts, and has passed
        ({"to": "erik", **window(), "extra": {"deep": [[[[[]]]]]}}, 422),
        ([{"to": "erik"}], 422),
        ("to=erik", 422),
    ]
    for body, status in bad:
        r = as_["anna"].post(url, body)
        assert r.status_code == status, (body if len(str(body)) < 200 else "long", r.text[:300])
        assert "error" in r.json()
    for delegation_id in ("0", "-1", "1000001", "abc", "1.5", "99"):
        r = as_["anna"].post(f"{url}/{delegation_id}/revoke")
        assert r.status_code in (404, 422), (delegation_id, r.text)
    assert ledger.last_seq(pid) == before
    # A third person may not revoke someone else's delegation.
    assert as_["anna"].post(url, {"to": "erik", **window()}).status_code == 200
    r = as_["bo"].post(f"{url}/1/revoke")
    assert error(r)[:2] == (403, "NotAuthorised"), r.text


def test_odd_groups_and_person_claim_shapes(http: TestClient, idp: IdentityProvider) -> None:
    def me(token: str) -> Any:
        return http.get("/api/me", headers={"Authorization": f"Bearer {token}"})

    for groups, pmo in (
        ([[PMO_GROUP]], False),  # nested: no group
        ([1, None, PMO_GROUP], True),  # the strings among other values
        (f" {PMO_GROUP}", False),  # matched whole
        (f"staff {PMO_GROUP}", False),  # not a space-separated list
        (None, False),
        (True, False),
    ):
        r = me(idp.token(OUTSIDER, groups=groups))
        assert r.json() == {"person": OUTSIDER, "pmo": pmo, "via": "oidc"}, groups
    for person in (["anna"], {"id": "anna"}, "Anna", "anna/..", "", 7, "a" * 64):
        r = me(idp.token(None, **{"phasegate_person": person}))
        assert r.status_code == 401, (person, r.text)


@pytest.mark.parametrize(
    "name,body",
    [
        (
            "alias bomb",
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                for i in range(8)
            ),
        ),
        ("deep", "a: " + "[" * 5000 + "]" * 5000),
        ("negative budget", EXAMPLE.read_text("utf-8").replace("budget: 800000", "budget: -5")),
        ("year 0", EXAMPLE.read_text("utf-8").replace("2027-01-11", "0000-01-11")),
        ("huge date", EXAMPLE.read_text("utf-8").replace("2027-09-30", "99999-09-30")),
        ("not a map", "- just\n- a list\n"),
        ("binary", "\x00\x01\x02"),
        ("python tag", "!!python/object/apply:os.system ['true']\n"),
    ],
)
def test_hostile_yaml_charters_are_refused_with_422(
    as_: dict[str, Api], name: str, body: str
) -> None:
    r = as_["anna"].http.post(
        "/api/projects",
        content=body.encode("utf-8"),
        headers={**as_["anna"].headers, "Content-Type": "application/yaml"},
    )
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    assert error(r)[1] == "InvalidCharter", (name, r.text[:300])


def test_a_persons_feed_over_every_project_names_theirs_and_no_other(
    as_: dict[str, Api], pid: str, setup_cli: Cli, tmp_path: Path
) -> None:
    """Found by the portfolio rows' people (the memo), not by asking every running project."""
    other = new_project(setup_cli, tmp_path)
    for p in (pid, other):
        assert as_["david"].post(f"/api/projects/{p}/gate/request").status_code == 200
    feed = as_["anna"].get("/api/calendar/person/anna.ics")
    assert feed.status_code == 200 and pid.encode() in feed.content
    assert other.encode() in feed.content
    assert pid.encode() not in as_[OUTSIDER].get(f"/api/calendar/person/{OUTSIDER}.ics").content
