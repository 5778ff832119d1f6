"""Starting a project over the API (`POST /api/projects`): from the charter's JSON or YAML,
under the model the charter names or a `model` given, pinned as `project start` pins it, the
authenticated person recorded as its starter; 422 for an invalid charter or an unknown model,
409 for a project id used before, 415 for a body of another type, 401 without a token."""

from __future__ import annotations

import json
import uuid

import pytest
from api_support import EXAMPLE, Api, error, eventually
from fastapi.testclient import TestClient

import governance as g
from ledger import Ledger

pytestmark = pytest.mark.devserver


def charter_text(pid: str) -> str:
    return EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}")


def charter_json(pid: str) -> dict[str, object]:
    return g.read_yaml(charter_text(pid))


def new_id() -> str:
    return f"api-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def started(as_: dict[str, Api]) -> tuple[str, dict[str, object]]:
    """A project started from its charter's JSON by david; its id and the answer."""
    pid = new_id()
    response = as_["david"].post("/api/projects", charter_json(pid))
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/projects/{pid}"
    return pid, response.json()


def test_a_charter_as_json_starts_its_project_under_the_model_it_names(
    started: tuple[str, dict[str, object]], as_: dict[str, Api], ledger: Ledger
) -> None:
    pid, answer = started
    model = g.builtin_model("projektflodet@1.0")
    assert model is not None
    assert answer == {
        "project_id": pid,
        "model": "projektflodet@1.0",
        "model_hash": model.content_hash(),
        "model_source": {"kind": "builtin", "file": None},
        "started_by": "david",
    }
    status = as_["anna"].get(f"/api/projects/{pid}").json()
    assert (status["model"], status["model_hash"]) == ("projektflodet@1.0", model.content_hash())
    first = eventually(lambda: ledger.events(pid), lambda events: len(events) >= 1)[0]
    assert (first.kind, first.actor, first.role) == ("project_started", "david", "projektledare")


def test_a_project_id_used_before_is_409_and_changes_nothing(
    started: tuple[str, dict[str, object]], as_: dict[str, Api], ledger: Ledger
) -> None:
    pid, _ = started
    status, kind, message = error(as_["anna"].post("/api/projects", charter_json(pid)))
    assert (status, kind) == (409, "ProjectExists")
    assert f"project {pid} already exists" in message
    started_by = [e.actor for e in ledger.events(pid) if e.kind == "project_started"]
    assert started_by == ["david"]


def test_a_charter_as_yaml_starts_its_project_too(http: TestClient, tokens: dict[str, str]) -> None:
    pid = new_id()
    response = http.post(
        "/api/projects",
        content=charter_text(pid).encode(),
        headers={"Authorization": f"Bearer {tokens['anna']}", "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["project_id"] == pid and response.json()["started_by"] == "anna"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c.pop("title"), "title: "),
        (lambda c: c.update(id="Not A Slug"), "id: "),
        (lambda c: c["people"][0].update(roles=["no_such_role"]), "no_such_role"),
        (lambda c: c.update(actor="bo"), "actor: "),
    ],
    ids=["missing-title", "bad-id", "role-not-in-model", "unknown-key"],
)
def test_an_invalid_charter_is_422_naming_the_problem(
    as_: dict[str, Api], ledger: Ledger, change: object, problem: str
) -> None:
    charter = charter_json(new_id())
    change(charter)  # type: ignore[operator]
    status, kind, message = error(as_["anna"].post("/api/projects", charter))
    assert (status, kind) == (422, "InvalidCharter"), message
    assert message.startswith("invalid charter: ") and problem in message, message
    assert ledger.last_seq(str(charter["id"])) == 0


def test_an_unknown_model_is_422_saying_where_it_looked(as_: dict[str, Api]) -> None:
    pid = new_id()
    for params, said in (
        ({"model": "acme@9.0"}, '"acme@9.0" is neither a built-in model'),
        ({"model": "prince2@9.9"}, 'built-in "prince2" is version 2.0, not 9.9'),
    ):
        response = as_["anna"].post("/api/projects", charter_json(pid), params=params)
        status, kind, message = error(response)
        assert (status, kind) == (422, "UnknownModel") and said in message, message
        assert "looked for model files" not in message  # no folder of the server is searched
    status, kind, _ = error(
        as_["anna"].post("/api/projects", charter_json(pid), params={"model": "./acme.yaml"})
    )
    assert (status, kind) == (422, "InvalidInput")  # a file is never named over the API


def test_a_body_that_is_no_charter_document_is_refused(
    http: TestClient, tokens: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {tokens['anna']}"}
    for content, media, expected in (
        (b"{not json", "application/json", (422, "InvalidCharter")),
        (b"[" * 60_000, "application/json", (422, "InvalidCharter")),
        (b'{"id": ' + b"[" * 500 + b"]" * 500 + b"}", "application/json", (422, "InvalidCharter")),
        (b"[1, 2]", "application/json", (422, "InvalidCharter")),
        (b"- a\n- b\n", "application/yaml", (422, "InvalidCharter")),
        (b"title: x", "text/plain", (415, "UnsupportedMediaType")),
    ):
        response = http.post(
            "/api/projects", content=content, headers={**auth, "Content-Type": media}
        )
        assert error(response)[:2] == expected, (content, response.text)


def test_starting_without_a_token_is_401(http: TestClient) -> None:
    response = http.post("/api/projects", content=json.dumps(charter_json(new_id())))
    assert error(response)[:2] == (401, "NotAuthenticated")
