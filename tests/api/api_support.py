"""Helpers of the API tests: an identity provider's key and tokens, requests as a person, the
API's error shape, and projects started for a test."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from httpx import Response
from jwt.algorithms import RSAAlgorithm
from typer.testing import CliRunner

from phasegate.cli import app
from tests.integration.conftest import PHASEGATE, Cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml"
PMO = "pia"
"""The PMO of the tests: in no charter, sees every project."""
OUTSIDER = "olle"
"""In no charter, not PMO: sees no project of the tests."""
PMO_GROUP = "portfolio-office"
"""An OIDC group whose members have the PMO's read access (``pmo_groups`` of the tests)."""
PEOPLE = ("anna", "bo", "cecilia", "david", "erik", PMO, OUTSIDER)
ISSUER = "https://id.example.org/"
AUDIENCE = "phasegate-api"
CLAIM = "phasegate_person"


@dataclass
class IdentityProvider:
    """An RSA signing key and the JWKS a local HTTP server publishes for it."""

    url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = "key-1"
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(
        self,
        person: str | None = "anna",
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        **claims: Any,
    ) -> str:
        now = datetime.now(UTC)
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"user-{person}",
            "iat": now,
            "exp": now + lifetime,
        }
        if person is not None:
            payload[CLAIM] = person
        payload.update(claims)
        return jwt.encode(
            payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@contextmanager
def serving(provider: IdentityProvider) -> Iterator[IdentityProvider]:
    """Publish ``provider``'s JWKS (as it is at each request) from a local HTTP server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.fetches += 1
            body = json.dumps(provider.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


class Api:
    """Requests as one person (their personal API token)."""

    def __init__(self, http: TestClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.http.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.http.post(path, json=body, headers=self.headers, **kwargs)


def error(response: Response) -> tuple[int, str, str]:
    """An error answer's status, type and message (the answer is the API's error shape)."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    return response.status_code, body["error"]["type"], body["error"]["message"]


def new_project(cli: Cli, folder: Path, *extra_people: str) -> str:
    """Start a project of the example charter under a new id (``extra_people`` join it, with
    the PMO role of the model); its first gate's deliverable submitted by david."""
    pid = f"api-{uuid.uuid4().hex[:8]}"
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: new-crm", f"id: {pid}")
    for person in extra_people:
        text = text.replace(
            "baseline:", f"  - {{id: {person}, name: {person}, roles: [pmo]}}\nbaseline:", 1
        )
    charter = folder / f"{pid}.yaml"
    charter.write_text(text, encoding="utf-8")
    assert cli("project", "start", charter, "--as", "david").stdout.strip() == pid
    url = f"https://docs.example.org/{pid}/idea"
    cli("deliverable", "submit", pid, "Idébeskrivning", "--as", "david", "--url", url)
    return pid


def eventually(probe: Any, check: Any, timeout: float = 20.0) -> Any:
    """Poll ``probe()`` until ``check`` holds (Temporal's visibility is not instant)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ApiProcess:
    """``phasegate api`` as a child process on a free port, logging JSON to ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [PHASEGATE, "api", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PHASEGATE_LOG_FORMAT": "json", **env},
            )

    def wait_ready(self, timeout: float = 30.0) -> httpx.Response:
        """The OpenAPI document, once the server answers."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.base}/api/openapi.json", timeout=2)
            except httpx.TransportError:
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM, and the exit code (killed after 20 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


UNSET_LOCAL = {
    "PHASEGATE_ADDRESS": None,
    "PHASEGATE_LEDGER_URL": None,
    "PHASEGATE_TASK_QUEUE": None,
    "PHASEGATE_NAMESPACE": None,
}


class RemoteCli:
    """``phasegate`` in-process with PHASEGATE_API_URL and PHASEGATE_TOKEN set, and nothing
    that would find Temporal or a ledger (a data dir holding nothing)."""

    def __init__(self, url: str, token: str, folder: Path) -> None:
        self.runner = CliRunner(
            env={
                **UNSET_LOCAL,
                "PHASEGATE_DATA_DIR": str(folder),
                "PHASEGATE_API_URL": url,
                "PHASEGATE_TOKEN": token,
            }
        )

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        return result
