"""Iterations and deliverables over the API. A model published in the ledger whose first phase
is Projektflödet's iterative execution (so a project started under it over the API is in
iteration 1 at once): plan, done, add, close, demo, deliver, retro, each as the person of the
token, the iteration workflow's refusals unchanged. Deliverables on a Projektflödet project at
its idea phase: a URL, then a file's hash as its next version; refusals and 422s."""

from __future__ import annotations

import uuid

import pytest
from api_support import EXAMPLE, OUTSIDER, PEOPLE, Api, error, eventually
from fastapi.testclient import TestClient

import governance as g
from ledger import Ledger

pytestmark = pytest.mark.devserver

ITEMS = [
    {"id": "CRM-1", "title": "Importera kunder", "owner": "erik", "estimate": 2, "points": 3},
    {"id": "CRM-2", "title": "Säljtratt i vyn", "owner": "cecilia", "estimate": 1.5, "points": 2},
]


@pytest.fixture(scope="module")
def as_(http: TestClient, ledger: Ledger) -> dict[str, Api]:
    """Tokens of this module's own: another module revokes every token of a person."""
    return {person: Api(http, ledger.create_token(person, "iterations")[1]) for person in PEOPLE}


def iterative_model() -> g.GovernanceModel:
    """Projektflödet from its execution phase on, as the published model apiflow@1.0."""
    builtin = g.builtin_model("projektflodet@1.0")
    assert builtin is not None
    data = builtin.model_dump(mode="json", exclude_none=True)
    data["name"], data["version"] = "apiflow", "1.0"
    data["phases"] = [p for p in data["phases"] if p["id"] not in ("idea", "pre_study", "planning")]
    return g.parse_model(data, "apiflow")


def start(api: Api, model: str | None = None) -> str:
    pid = f"it-{uuid.uuid4().hex[:8]}"
    charter = g.read_yaml(EXAMPLE.read_text(encoding="utf-8"))
    charter["id"] = pid
    if model is not None:
        charter["model"] = model
    response = api.post("/api/projects", charter)
    assert response.status_code == 201, response.text
    return pid


@pytest.fixture(scope="module")
def pid(as_: dict[str, Api], ledger: Ledger) -> str:
    """A project in iteration 1, open for planning, under the published apiflow@1.0."""
    ledger.publish_model(iterative_model(), "tests")
    pid = start(as_["david"], "apiflow@1.0")
    eventually(
        lambda: as_["erik"].get(f"/api/projects/{pid}/iterations"),
        lambda r: r.status_code == 200 and r.json()["iteration"] is not None,
    )
    return pid


def test_a_published_model_is_pinned_from_the_registry(pid: str, as_: dict[str, Api]) -> None:
    status = as_["anna"].get(f"/api/projects/{pid}").json()
    assert status["model"] == "apiflow@1.0"
    assert status["model_source"] == {"kind": "registry", "file": None}
    assert status["model_hash"] == iterative_model().content_hash()


def test_an_iteration_runs_its_loop_as_the_people_of_the_tokens(
    pid: str, as_: dict[str, Api]
) -> None:
    it = f"/api/projects/{pid}/iteration"
    assert as_["erik"].get(f"/api/projects/{pid}/iterations").json()["iteration"]["state"] == (
        "planning"
    )
    plan = {"items": ITEMS, "length": "P3W", "goal": "Kundregistret i CRM:et"}
    status, kind, message = error(as_["bo"].post(f"{it}/plan", plan))
    assert status == 403 and '"bo"' in message, (kind, message)
    assert error(as_["erik"].post(f"{it}/plan", {**plan, "length": "P1W"})) == (
        422,
        "InvalidPlan",
        "plan refused: length P1W is outside P2W..P6W",
    )
    for bad in ({**plan, "length": "three weeks"}, {**plan, "actor": "erik"}, {"items": "x"}):
        assert error(as_["erik"].post(f"{it}/plan", bad))[:2] == (422, "InvalidInput"), bad

    planned = as_["erik"].post(f"{it}/plan", plan)
    assert planned.status_code == 200, planned.text
    assert planned.json()["state"] == "executing" and planned.json()["planned_by"] == "erik"

    assert as_["cecilia"].post(f"{it}/done", {"item_ids": ["CRM-2"]}).status_code == 200
    assert error(as_["erik"].post(f"{it}/done", {"item_ids": ["CRM-9"]}))[2] == (
        'item "CRM-9" is not in iteration 1; its items: CRM-1, CRM-2'
    )
    more = [{"id": "CRM-4", "title": "Export", "owner": "erik", "estimate": 0.5, "points": 1}]
    added = as_["erik"].post(f"{it}/items", {"items": more, "comment": "Behövs"})
    assert added.status_code == 200, added.text
    assert as_["erik"].post(f"{it}/done", {"item_ids": ["CRM-1", "CRM-4"]}).status_code == 200
    closed = as_["erik"].post(f"{it}/close", {"comment": "Klart tidigt"})
    assert closed.status_code == 200 and closed.json()["state"] == "demo", closed.text
    feedback = [{"person": "bo", "text": "Importen fungerar"}]
    demo = as_["erik"].post(f"{it}/demo", {"attendees": ["anna", "bo"], "feedback": feedback})
    assert demo.status_code == 200, demo.text
    assert error(as_["erik"].post(f"{it}/deliver", {"decision": "deliver"})) == (
        403,
        "NotAuthorised",
        '"erik" may not decide delivery: the mottagare role decides it',
    )
    delivered = as_["bo"].post(f"{it}/deliver", {"decision": "deliver", "comment": "Ut"})
    assert delivered.status_code == 200, delivered.text
    retro = {"keep": ["Parprogrammering"], "obstacles": [{"role": "leverantor", "text": "Test"}]}
    assert as_["erik"].post(f"{it}/retro", retro).status_code == 200

    after = eventually(
        lambda: as_["anna"].get(f"/api/projects/{pid}/iterations").json(),
        lambda view: view["execution"]["open_iteration"] == 2,
    )
    assert after["execution"]["open_iteration"] == 2
    assert [h["number"] for h in after["execution"]["history"]] == [1]


def test_iterations_are_404_outside_the_charter(pid: str, as_: dict[str, Api]) -> None:
    for call in (
        lambda a: a.get(f"/api/projects/{pid}/iterations"),
        lambda a: a.post(f"/api/projects/{pid}/iteration/close", {}),
    ):
        assert error(call(as_[OUTSIDER])) == (404, "UnknownProject", f"no project {pid}")


# -- deliverables ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def idea(as_: dict[str, Api]) -> str:
    """A Projektflödet project at its idea phase (its gate lists Idébeskrivning)."""
    return start(as_["david"])


def test_deliverables_by_url_then_by_a_files_hash(idea: str, as_: dict[str, Api]) -> None:
    url = f"/api/projects/{idea}/deliverables"
    missing = as_["anna"].get(url).json()
    assert [(d["name"], d["present"]) for d in missing] == [("Idébeskrivning", False)]
    by_url = as_["david"].post(url, {"name": "Idébeskrivning", "url": "https://x.example/idea"})
    assert by_url.status_code == 200, by_url.text
    sha = "ab" * 32
    body = {"name": "Idébeskrivning", "file": {"sha256": sha, "size": 1234}, "comment": "v2"}
    by_hash = as_["david"].post(url, body)
    assert by_hash.status_code == 200, by_hash.text
    [d] = as_["anna"].get(url).json()
    assert d["present"] and d["versions"] == 2
    current = d["current"]
    assert (current["sha256"], current["size"], current["url"]) == (sha, 1234, None)
    assert current["submitted_by"] == "david" and current["comment"] == "v2"


def test_a_deliverable_refused_changes_nothing(idea: str, as_: dict[str, Api]) -> None:
    url = f"/api/projects/{idea}/deliverables"
    before = as_["anna"].get(url).json()
    assert error(as_["david"].post(url, {"name": "Okänd", "url": "https://x.example/o"})) == (
        404,
        "UnknownDeliverable",
        '"Okänd" is not a deliverable of gate idea_gate; it lists: Idébeskrivning',
    )
    for body, said in (
        ({"name": "Idébeskrivning"}, "give exactly one of a file or a URL"),
        (
            {"name": "Idébeskrivning", "url": "https://x", "file": {"sha256": "a" * 64, "size": 1}},
            "give exactly one of a file or a URL",
        ),
        ({"name": "Idébeskrivning", "file": {"sha256": "XY", "size": 1}}, "sha256"),
        ({"name": "Idébeskrivning", "url": "no scheme"}, "url"),
    ):
        status, kind, message = error(as_["david"].post(url, body))
        assert (status, kind) == (422, "InvalidInput") and said in message, (body, message)
    assert as_["anna"].get(url).json() == before
    assert error(as_[OUTSIDER].get(url))[:2] == (404, "UnknownProject")


def test_a_project_without_iterations_says_why(idea: str, as_: dict[str, Api]) -> None:
    status, kind, message = error(as_["anna"].get(f"/api/projects/{idea}/iterations"))
    assert (status, kind) == (409, "NoIteration")
    assert message == f"project {idea} has run no iterations (phase idea runs no iterations)"


def test_commands_without_a_token_are_401(http: TestClient, idea: str) -> None:
    for path in ("iteration/close", "deliverables", "progress", "changes", "exception/decide"):
        response = http.post(f"/api/projects/{idea}/{path}", json={})
        assert error(response)[:2] == (401, "NotAuthenticated"), path
