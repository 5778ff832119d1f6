"""Hostile review (issue #8): bad input of every kind gets the one JSON error shape with a
4xx status, never a 500 nor a traceback, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import Api, error, new_project

from tests.integration.conftest import Cli

pytestmark = pytest.mark.devserver


@pytest.fixture
def pid(setup_cli: Cli, tmp_path: Path, as_: dict[str, Api]) -> str:
    """A new project at its first gate."""
    pid = new_project(setup_cli, tmp_path)
    assert as_["david"].post(f"/api/projects/{pid}/gate/request").status_code == 200
    return pid


def client_error(response: object) -> tuple[int, str, str]:
    """The error, once it is the API's shape and a 4xx."""
    status, kind, message = error(response)  # type: ignore[arg-type]
    assert 400 <= status < 500, (status, kind, message)
    assert "Traceback" not in message
    return status, kind, message


def votes(api: Api, pid: str) -> list[object]:
    found: list[object] = api.get(f"/api/projects/{pid}").json()["gate"]["votes"]
    return found


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"decision": "approve"}', "text/plain"),
        ('{"decision": "approve"}', "application/x-www-form-urlencoded"),
        ("decision=approve", "application/x-www-form-urlencoded"),
        ('{"decision": "approve"', "application/json"),
        ("{'decision': 'approve'}", "application/json"),
        ('{"decision": "approve"}\x00', "application/json"),
        ("[" * 30000 + "]" * 30000, "application/json"),
        ('{"decision": "approve", "round": NaN}', "application/json"),
        ('{"decision": "approve", "round": 1e400}', "application/json"),
        ('{"decision": "approve", "round": ' + "9" * 5000 + "}", "application/json"),
        ('{"decision": "approve", "comment": "\\ud800"}', "application/json"),
        ("null", "application/json"),
        ('"approve"', "application/json"),
        ("\xff\xfe", "application/json"),
    ],
    ids=[
        "json-as-text",
        "json-as-form",
        "form",
        "truncated",
        "single-quotes",
        "nul-after",
        "deeply-nested",
        "nan",
        "infinite",
        "5000-digits",
        "lone-surrogate",
        "null",
        "a-string",
        "not-utf8",
    ],
)
def test_a_bad_body_is_a_4xx_in_the_error_shape_and_no_vote(
    as_: dict[str, Api], pid: str, content: str, content_type: str
) -> None:
    anna = as_["anna"]
    response = anna.http.post(
        f"/api/projects/{pid}/gate/decide",
        content=content.encode("latin-1") if content == "\xff\xfe" else content.encode(),
        headers={**anna.headers, "Content-Type": content_type},
    )
    client_error(response)
    assert votes(anna, pid) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": 0},
        {"limit": 10**6},
        {"offset": -1},
        {"limit": "9" * 5000},
        {"offset": "9" * 5000},
        {"limit": "1.5"},
        {"limit": "0x10"},
    ],
)
@pytest.mark.parametrize("path", ["/api/projects", "/api/tasks", "/api/projects/{pid}/history"])
def test_bad_pagination_is_422(
    as_: dict[str, Api], pid: str, path: str, params: dict[str, object]
) -> None:
    status, kind, _ = client_error(as_["anna"].get(path.format(pid=pid), params=params))
    assert (status, kind) == (422, "InvalidInput")


@pytest.mark.parametrize("path", ["/api/projects", "/api/tasks", "/api/projects/{pid}/history"])
def test_an_offset_past_the_end_is_an_empty_page(as_: dict[str, Api], pid: str, path: str) -> None:
    response = as_["anna"].get(path.format(pid=pid), params={"offset": 10**30})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    "project",
    [
        "%C3%A5ngest",  # ångest
        "ANNA",
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "a%00b",
        "x" * 64,
        "-x",
        "%EF%BC%A1",  # fullwidth A
        "new-crm%0A",
    ],
)
@pytest.mark.parametrize("route", ["", "/history", "/allowed-actions"])
def test_odd_project_ids_are_a_4xx(as_: dict[str, Api], project: str, route: str) -> None:
    client_error(as_["anna"].get(f"/api/projects/{project}{route}"))


@pytest.mark.parametrize(
    "task", ["-1", "0", "1e3", "0x1", "..%2F1", "%EF%BC%91", str(2**63), str(2**64), "9" * 400]
)
def test_odd_task_ids_are_a_4xx(as_: dict[str, Api], task: str) -> None:
    client_error(as_["anna"].post(f"/api/tasks/{task}/complete"))


@pytest.mark.parametrize(
    "params",
    [
        {"phase": "\x00"},
        {"phase": "a'b"},
        {"phase": "\\"},
        {"phase": "x\\' OR WorkflowType != '"},
        {"phase": "é"},
        {"phase": "\n"},
        {"phase": "x" * 20000},
        {"awaiting": "gate:\x00"},
        {"awaiting": "x" * 20000},
        {"awaiting": "\\"},
    ],
    ids=[
        "nul",
        "quote",
        "backslash",
        "injection",
        "non-ascii",
        "newline",
        "long-phase",
        "awaiting-nul",
        "long-awaiting",
        "awaiting-backslash",
    ],
)
@pytest.mark.parametrize("who", ["anna", "pia"])
def test_odd_list_filters_are_an_answer_not_a_500(
    as_: dict[str, Api], params: dict[str, str], who: str
) -> None:
    response = as_[who].get("/api/projects", params=params)
    if response.status_code == 200:
        assert response.json()["items"] == []
    else:
        client_error(response)


def test_an_unknown_list_filter_is_422(as_: dict[str, Api]) -> None:
    status, kind, message = client_error(as_["anna"].get("/api/projects", params={"owner": "x"}))
    assert (status, kind) == (422, "InvalidInput") and "owner" in message


def test_duplicate_keys_in_a_body_do_not_smuggle_a_field(as_: dict[str, Api], pid: str) -> None:
    """The last of two equal keys counts (json's rule); a second ``decision`` cannot slip a
    reject past the reason check."""
    anna = as_["anna"]
    response = anna.http.post(
        f"/api/projects/{pid}/gate/decide",
        content=b'{"decision": "approve", "decision": "reject"}',
        headers={**anna.headers, "Content-Type": "application/json"},
    )
    status, kind, message = client_error(response)
    assert (status, kind) == (422, "InvalidInput") and "reject needs a comment" in message
    assert votes(anna, pid) == []


def test_a_body_over_the_limit_with_a_lying_content_length_is_413(as_: dict[str, Api]) -> None:
    anna = as_["anna"]
    for length in ("abc", "-1", "99999999999999999999999"):
        response = anna.http.post(
            "/api/projects/any-project/gate/decide",
            content=json.dumps({"decision": "approve"}).encode(),
            headers={**anna.headers, "Content-Type": "application/json", "Content-Length": length},
        )
        assert error(response)[0] in {413, 400, 404}, (length, response.text)
