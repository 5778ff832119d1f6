"""Hostile review (issue #8): what only a real HTTP server shows (``phasegate api``, uvicorn):
raw requests the test client cannot send: a header too long, a lying Content-Length, a
chunked body over the limit, a slow unanswered filter."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import ApiProcess

from phasegate.devserver import DevServer
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def served(
    api_server: DevServer,
    api_worker: WorkerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiProcess]:
    folder = tmp_path_factory.mktemp("hostile8-http")
    env = {
        "PHASEGATE_ADDRESS": api_server.address,
        "PHASEGATE_LEDGER_URL": api_worker.ledger_url,
        "PHASEGATE_TASK_QUEUE": api_worker.task_queue,
        "PHASEGATE_DATA_DIR": str(folder / "data"),
    }
    api = ApiProcess(env, Path(folder / "api.log"))
    try:
        api.wait_ready()
        yield api
    finally:
        api.stop()


def raw(api: ApiProcess, request: bytes, timeout: float = 20) -> tuple[int, bytes, bytes]:
    """Send ``request`` as it is; the status, the head and the body of the answer."""
    with socket.create_connection(("127.0.0.1", api.port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head, body


def json_error(body: bytes) -> dict[str, str]:
    parsed = json.loads(body)
    assert set(parsed) == {"error"} and set(parsed["error"]) == {"type", "message"}, parsed
    detail: dict[str, str] = parsed["error"]
    return detail


def test_a_chunked_body_over_the_limit_is_413_over_real_http(
    served: ApiProcess, tokens: dict[str, str]
) -> None:
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    status, _, answer = raw(
        served,
        b"POST /api/projects/any-project/gate/decide HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + tokens["anna"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + body,
    )
    assert status == 413 and json_error(answer)["type"] == "PayloadTooLarge"


@pytest.mark.parametrize("size", [8 * 1024, 20 * 1024, 100 * 1024])
def test_a_long_authorization_header_is_an_error_in_the_api_shape(
    served: ApiProcess, size: int
) -> None:
    status, head, answer = raw(
        served,
        b"GET /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer pg_"
        + b"a" * size
        + b"\r\nConnection: close\r\n\r\n",
    )
    assert 400 <= status < 500, head
    json_error(answer)


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: -1\r\n",
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=["negative", "two-lengths", "length-and-chunked"],
)
def test_bad_framing_is_refused_and_the_server_lives_on(
    served: ApiProcess, tokens: dict[str, str], framing: bytes
) -> None:
    status, head, _ = raw(
        served,
        b"POST /api/projects/x/hold HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + tokens["anna"].encode()
        + b"\r\nContent-Type: application/json\r\n"
        + framing
        + b"Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert 400 <= status < 500, head  # refused, or (chunked wins) the route's own 4xx
    ok = httpx.get(
        f"{served.base}/api/tasks",
        headers={"Authorization": f"Bearer {tokens['anna']}"},
        timeout=10,
    )
    assert ok.status_code == 200


def test_a_bad_filter_is_refused_at_once(served: ApiProcess, tokens: dict[str, str]) -> None:
    """One request must not hold a server task (and Temporal's visibility store) for
    seconds of retries: a filter no project can match is answered at once."""
    start = time.monotonic()
    response = httpx.get(
        f"{served.base}/api/projects",
        params={"phase": "\x00"},
        headers={"Authorization": f"Bearer {tokens['anna']}"},
        timeout=60,
    )
    took = time.monotonic() - start
    answered = 400 <= response.status_code < 500 or response.status_code == 200
    assert answered and took < 3, f"{response.status_code} after {took:.1f} s: {response.text}"
