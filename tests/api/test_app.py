"""The app around the routes: the OpenAPI document and the docs, the one error shape (also for
a route that does not exist), the 64 KiB body limit, and one access-log line per request."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from api_support import Api, error
from fastapi.testclient import TestClient

from phasegate.logging import configure_logging

pytestmark = pytest.mark.devserver

ROUTES = {
    "/api/me": {"get"},
    "/api/projects": {"get", "post"},
    "/api/projects/{project_id}": {"get"},
    "/api/projects/{project_id}/history": {"get"},
    "/api/projects/{project_id}/allowed-actions": {"get"},
    "/api/projects/{project_id}/gate/request": {"post"},
    "/api/projects/{project_id}/gate/decide": {"post"},
    "/api/projects/{project_id}/hold": {"post"},
    "/api/projects/{project_id}/resume": {"post"},
    "/api/projects/{project_id}/cancel": {"post"},
    "/api/projects/{project_id}/iterations": {"get"},
    **{
        f"/api/projects/{{project_id}}/iteration/{step}": {"post"}
        for step in ("plan", "done", "items", "close", "demo", "deliver", "retro")
    },
    "/api/projects/{project_id}/deliverables": {"get", "post"},
    "/api/projects/{project_id}/progress": {"post"},
    "/api/projects/{project_id}/changes": {"get", "post"},
    "/api/projects/{project_id}/changes/{change_id}": {"get"},
    "/api/projects/{project_id}/changes/{change_id}/decide": {"post"},
    "/api/projects/{project_id}/exception": {"get"},
    "/api/projects/{project_id}/exception/decide": {"post"},
    "/api/projects/{project_id}/reports": {"get"},
    "/api/projects/{project_id}/reports/{kind}": {"get"},
    "/api/projects/{project_id}/reports/{kind}/{number}": {"get"},
    "/api/projects/{project_id}/delegations": {"get", "post"},
    "/api/projects/{project_id}/delegations/{delegation_id}/revoke": {"post"},
    "/api/calendar/person/{person_id}.ics": {"get"},
    "/api/calendar/project/{project_id}.ics": {"get"},
    "/api/tasks": {"get"},
    "/api/tasks/{task_id}": {"get"},
    "/api/tasks/{task_id}/complete": {"post"},
    "/api/notifications": {"get"},
    "/api/notifications/{delivery_id}/retry": {"post"},
    "/api/audit/verify": {"get"},
    "/api/audit/export": {"get"},
}


def test_the_openapi_document_lists_every_route_behind_bearer_auth(http: TestClient) -> None:
    response = http.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert {path: set(ops) for path, ops in doc["paths"].items()} == ROUTES
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["security"] == [{"HTTPBearer": []}], path
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }
    decide = doc["components"]["schemas"]["GateDecisionBody"]
    assert "actor" not in decide["properties"] and decide["additionalProperties"] is False


def test_the_docs_are_served_with_every_asset_from_this_server(http: TestClient) -> None:
    response = http.get("/api/docs")
    assert response.status_code == 200 and "/api/openapi.json" in response.text
    # Air-gapped networks reach no CDN: the page names no other host, and what it names is here.
    assert "//" not in response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert {a.rsplit(".", 1)[-1] for a in assets} >= {"js", "css"}
    for asset in assets:
        answer = http.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset


def test_an_unknown_route_or_method_answers_in_the_error_shape(
    http: TestClient, as_: dict[str, Api]
) -> None:
    assert error(http.get("/api/nothing")) == (404, "NotFound", "Not Found")
    assert error(as_["anna"].get("/api/projects/x/gate/decide"))[:2] == (405, "MethodNotAllowed")


def test_a_body_over_64_kib_is_413(as_: dict[str, Api]) -> None:
    big = {"decision": "approve", "comment": "x" * (64 * 1024)}
    response = as_["anna"].post("/api/projects/any-project/gate/decide", big)
    assert error(response) == (
        413,
        "PayloadTooLarge",
        "the request body is larger than 65536 bytes",
    )


def test_a_chunked_body_over_64_kib_is_413(as_: dict[str, Api]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"decision": "approve", "comment": "'
        for _ in range(17):
            yield b"x" * 4096
        yield b'"}'

    response = as_["anna"].http.post(
        "/api/projects/any-project/gate/decide",
        content=chunks(),
        headers={**as_["anna"].headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers  # sent chunked
    assert error(response)[:2] == (413, "PayloadTooLarge")


def test_a_body_just_within_the_limit_is_read(as_: dict[str, Api]) -> None:
    """Within the limit, the body reaches the route (here: refused by its model, not 413)."""
    body = json.dumps({"decision": "approve", "comment": "x" * 60000, "actor": "bo"})
    assert len(body) <= 64 * 1024
    response = as_["anna"].http.post(
        "/api/projects/any-project/gate/decide",
        content=body,
        headers={**as_["anna"].headers, "Content-Type": "application/json"},
    )
    assert error(response)[:2] in {(404, "UnknownProject"), (422, "InvalidInput")}


def test_every_request_logs_one_line_without_the_token(
    as_: dict[str, Api],
    http: TestClient,
    tokens: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    capsys.readouterr()
    as_["anna"].get("/api/tasks", params={"status": "all"})
    http.get("/api/tasks")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    logged = [line for line in lines if line.get("event") == "api.request"]
    assert [(x["method"], x["path"], x["status"], x["person"]) for x in logged] == [
        ("GET", "/api/tasks", 200, "anna"),
        ("GET", "/api/tasks", 401, None),
    ]
    assert all(isinstance(x["duration_ms"], float) and x["duration_ms"] >= 0 for x in logged)
    assert all(x["logger"] == "phasegate.api" and x["level"] == "info" for x in logged)
    assert tokens["anna"] not in json.dumps(lines)
