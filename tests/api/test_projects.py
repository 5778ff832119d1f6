"""Projects over the API: a person sees the projects their charter names (404 for any other,
the same answer as for no project at all), the PMO sees every one; the portfolio with the
filters of `project list` and pages; a status with an ETag; the history; allowed actions."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from api_support import OUTSIDER, PMO, Api, error, eventually, new_project
from fastapi.testclient import TestClient

from ledger import Ledger
from phasegate import service
from phasegate.settings import Settings
from phasegate.temporal import ROW_MEMO, connect
from phasegate.views import PORTFOLIO_PAGE
from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def watcher() -> str:
    """A person named in this module's portfolio projects only."""
    return f"w-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def portfolio(setup_cli: Cli, tmp_path_factory: pytest.TempPathFactory, watcher: str) -> list[str]:
    """Three projects that name ``watcher``, the first at its gate; sorted by id."""
    folder = tmp_path_factory.mktemp("portfolio")
    pids = sorted(new_project(setup_cli, folder, watcher) for _ in range(3))
    setup_cli("gate", "request", pids[0], "--as", "david")
    return pids


@pytest.fixture(scope="module")
def watcher_api(http: TestClient, ledger: Ledger, watcher: str) -> Api:
    return Api(http, ledger.create_token(watcher)[1])


def listed(api: Api, **params: object) -> dict[str, object]:
    response = api.get("/api/projects", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, object] = response.json()
    return page


def ids(page: dict[str, object]) -> list[str]:
    return [row["project_id"] for row in page["items"]]  # type: ignore[attr-defined, index]


def test_a_person_sees_the_projects_of_their_charters_only(
    portfolio: list[str], watcher_api: Api, as_: dict[str, Api]
) -> None:
    page = eventually(lambda: listed(watcher_api), lambda p: ids(p) == portfolio)
    assert ids(page) == portfolio and page["total"] == 3
    assert not set(portfolio) & set(ids(listed(as_[OUTSIDER], limit=500)))
    everything = ids(listed(as_[PMO], limit=500))
    assert set(portfolio) <= set(everything)
    assert set(portfolio) <= set(ids(listed(as_["anna"], limit=500)))  # anna is in every one


def test_the_portfolio_comes_in_pages_with_a_total(portfolio: list[str], watcher_api: Api) -> None:
    eventually(lambda: listed(watcher_api), lambda p: ids(p) == portfolio)
    first, second = listed(watcher_api, limit=2), listed(watcher_api, limit=2, offset=2)
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert ids(first) + ids(second) == portfolio and second["total"] == 3
    assert ids(listed(watcher_api, offset=3)) == []


def test_a_portfolio_page_holds_up_to_portfolio_page_projects(
    portfolio: list[str], watcher_api: Api
) -> None:
    """A client reads a portfolio of thousands in one page (each page lists them all from
    Temporal); a larger page is refused."""
    page = eventually(
        lambda: listed(watcher_api, limit=PORTFOLIO_PAGE), lambda p: ids(p) == portfolio
    )
    assert page["limit"] == PORTFOLIO_PAGE
    too_many = watcher_api.get("/api/projects", params={"limit": PORTFOLIO_PAGE + 1})
    assert too_many.status_code == 422, too_many.text


def test_the_portfolio_filters_as_project_list_does(portfolio: list[str], watcher_api: Api) -> None:
    at_gate = eventually(
        lambda: listed(watcher_api, awaiting="idea_gate"), lambda p: ids(p) == portfolio[:1]
    )
    assert ids(at_gate) == portfolio[:1]
    row = at_gate["items"][0]  # type: ignore[index]
    assert row["awaiting"] == "gate:idea_gate" and row["managers"] == ["david"]
    assert ids(listed(watcher_api, phase="idea")) == portfolio  # its gate is the idea's
    assert ids(listed(watcher_api, phase="pre_study")) == []
    assert ids(listed(watcher_api, state="closed")) == []
    assert ids(listed(watcher_api, held=True)) == []


def test_the_rag_filter_lists_the_colours_worst_first_whatever_was_made_first() -> None:
    """governance's Colour (the same values, best first) made first, as importing the
    messages does: typing caches ``X | None`` by equality, so the filter's own spelling must
    not be equal to it, or the document and the errors would show Colour's order."""
    code = (
        "import json\n"
        "from governance._rag import Colour\n"
        "first = Colour | None\n"
        "from phasegate.api._models import ListParams\n"
        "print(json.dumps(ListParams.model_json_schema()['properties']['rag']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rag = json.loads(done.stdout)
    assert rag["anyOf"][0]["enum"] == ["red", "amber", "green"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"held": "true", "awaiting": "idea_gate"}, "held and awaiting: a held project"),
        ({"overdue": "true", "state": "closed"}, "overdue and state closed: an ended project"),
        ({"rag": "purple"}, "rag: Input should be 'red', 'amber' or 'green'"),
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"offset": -1}, "offset: Input should be greater than or equal to 0"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_contradictory_or_unknown_filters_are_422(
    as_: dict[str, Api], params: dict[str, object], problem: str
) -> None:
    status, kind, message = error(as_["anna"].get("/api/projects", params=params))
    assert (status, kind) == (422, "InvalidInput") and problem in message, message


def test_a_project_outside_ones_charters_is_404_like_no_project(
    portfolio: list[str], as_: dict[str, Api]
) -> None:
    pid = portfolio[0]
    for path in ("", "/history", "/allowed-actions"):
        hidden = error(as_[OUTSIDER].get(f"/api/projects/{pid}{path}"))
        assert hidden == (404, "UnknownProject", f"no project {pid}")
        missing = error(as_[OUTSIDER].get(f"/api/projects/no-such-project{path}"))
        assert missing == (404, "UnknownProject", "no project no-such-project")
    assert error(as_[PMO].get("/api/projects/no-such-project")) == (
        404,
        "UnknownProject",
        "no project no-such-project",
    )


def test_the_pmo_and_the_charters_people_see_the_status(
    portfolio: list[str], as_: dict[str, Api]
) -> None:
    for person in (PMO, "anna", "erik"):
        response = as_[person].get(f"/api/projects/{portfolio[0]}")
        assert response.status_code == 200, (person, response.text)
        assert response.json()["project_id"] == portfolio[0]
        assert response.json()["gate"]["awaited"] == ["anna", "bo"]


@pytest.mark.parametrize("bad", ["UPPER", "a_b", "-lead", "x" * 64])
def test_a_project_id_that_is_no_slug_is_422(as_: dict[str, Api], bad: str) -> None:
    status, kind, message = error(as_[PMO].get(f"/api/projects/{bad}"))
    assert (status, kind) == (422, "InvalidInput") and "project_id" in message


def test_the_status_has_an_etag_and_an_unchanged_one_is_304(
    setup_cli: Cli, tmp_path: Path, as_: dict[str, Api]
) -> None:
    pid = new_project(setup_cli, tmp_path)
    first = as_["anna"].get(f"/api/projects/{pid}")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and len(etag) == 66
    assert first.headers["Cache-Control"] == "private, no-cache"
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = as_["anna"].get(f"/api/projects/{pid}", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"", header
        assert again.headers["ETag"] == etag
    other = as_["anna"].get(f"/api/projects/{pid}", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.json() == first.json()
    as_["david"].post(f"/api/projects/{pid}/gate/request")
    changed = as_["anna"].get(f"/api/projects/{pid}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["state"] == "idea_gate"


def test_the_history_is_the_timeline_in_pages(portfolio: list[str], as_: dict[str, Api]) -> None:
    pid = portfolio[0]
    whole = as_["bo"].get(f"/api/projects/{pid}/history").json()
    kinds = [e["kind"] for e in whole["items"]]
    assert kinds[:2] == ["project_started", "phase_started"] and "gate_opened" in kinds
    assert whole["total"] == len(kinds)
    assert whole["items"][0]["actor"] == "david" and whole["items"][0]["seq"] == 1
    second = as_["bo"].get(f"/api/projects/{pid}/history", params={"limit": 1, "offset": 1})
    assert second.json()["items"] == whole["items"][1:2]


def test_allowed_actions_are_the_persons(portfolio: list[str], as_: dict[str, Api]) -> None:
    pid = portfolio[0]
    anna = as_["anna"].get(f"/api/projects/{pid}/allowed-actions").json()
    assert anna["person"] == "anna" and {"approve", "reject", "rework"} <= set(anna["actions"])
    erik = as_["erik"].get(f"/api/projects/{pid}/allowed-actions").json()
    assert not {"approve", "reject", "rework"} & set(erik["actions"])
    pmo = as_[PMO].get(f"/api/projects/{pid}/allowed-actions").json()
    assert pmo == {"project_id": pid, "person": PMO, "actions": []}


async def test_the_listing_filters_by_the_people_in_the_memo_row_or_asks_older_projects(
    settings: Settings, portfolio: list[str], watcher: str
) -> None:
    """A listing for someone not PMO filters by the people each project's memo row names;
    a row kept before rows named people is answered by that project's `people` query."""
    client = await connect(settings)
    deadline = time.monotonic() + 20
    while True:
        rows = await service.list_projects(client, person=watcher)
        if [r.project_id for r in rows] == portfolio or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert [r.project_id for r in rows] == portfolio
    for pid in portfolio:
        memo = await client.get_workflow_handle(service.workflow_id(pid)).describe()
        named = service.people_of_memo((await memo.memo())[ROW_MEMO])
        assert named is not None and watcher in named and "david" in named
    assert await service.list_projects(client, person=f"x-{uuid.uuid4().hex[:8]}") == []

    older = [service.ProjectRow(pid, "", "", "", "running") for pid in portfolio]
    gone = service.ProjectRow(f"api-{uuid.uuid4().hex[:8]}", "", "", "", "running")
    asked = await service.rows_naming(client, [*older, gone], watcher)
    assert [r.project_id for r in asked] == portfolio
    assert await service.rows_naming(client, older, OUTSIDER) == []
