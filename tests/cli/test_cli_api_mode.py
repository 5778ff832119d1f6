"""The CLI's API mode without a server: its settings (both variables or neither, https or a
loopback host), the commands it does not offer refused before anything runs, local options
refused, the local `--as` still required, and the commands it offers importing neither the
Temporal SDK nor SQLAlchemy. (Against a real API: tests/api/test_cli_over_api.py.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from phasegate.cli import app
from tests.cli.test_cli_light_imports import HEAVY, PROBE, ROOT


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def url() -> str:
    """An API URL where nothing listens."""
    return f"http://127.0.0.1:{unused_port()}"


def run(*args: str, **env: str | None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"PHASEGATE_API_URL": "http://127.0.0.1:8080"}, "PHASEGATE_TOKEN"),
        ({"PHASEGATE_TOKEN": "pg_x"}, "PHASEGATE_API_URL"),
    ],
)
def test_one_variable_alone_is_an_error(env: dict[str, str], missing: str) -> None:
    code, out, err = run("project", "status", "new-crm", **env)
    assert (code, out) == (1, "")
    assert err == (
        "error: PHASEGATE_API_URL and PHASEGATE_TOKEN go together (with both set, the CLI acts "
        f"through the REST API as the token's person); {missing} is not set\n"
    )


@pytest.mark.parametrize(
    "bad",
    ["http://phasegate.example.org", "ftp://127.0.0.1", "https://x.org/?a=1", "https://u:p@x.org"],
)
def test_an_api_url_that_would_expose_the_token_is_refused(bad: str) -> None:
    code, _, err = run("project", "list", PHASEGATE_API_URL=bad, PHASEGATE_TOKEN="pg_x")
    assert code == 1
    assert err.startswith("error: setting api_url: ")


@pytest.mark.parametrize(
    "args",
    [
        ("model", "publish", "governance/builtin/prince2.yaml"),
        ("token", "list"),
        ("worker",),
    ],
    ids=" ".join,
)
def test_a_command_the_api_does_not_offer_is_refused(args: tuple[str, ...], url: str) -> None:
    code, out, err = run(*args, PHASEGATE_API_URL=url, PHASEGATE_TOKEN="pg_x")
    assert (code, out) == (2, "")
    command = " ".join(a for a in args[:2] if not a.startswith(("new-crm", "gov")))
    assert err.startswith(f"error: not available over the API: `phasegate {command}`")
    assert "unset PHASEGATE_API_URL and PHASEGATE_TOKEN" in err


@pytest.mark.parametrize("token", ["pg x", "pg_\u00e4", "pg_\x1b[2J"])
def test_a_token_that_is_no_token_is_refused_unshown(token: str, url: str) -> None:
    code, _, err = run("project", "list", PHASEGATE_API_URL=url, PHASEGATE_TOKEN=token)
    assert (code, err) == (
        1,
        "error: setting token: is not a token: printable ASCII without spaces expected\n",
    )


@pytest.fixture
def stranger() -> Iterator[dict[str, Any]]:
    """A local web server that is not the phasegate API: it answers ``answer["body"]`` with
    ``answer["status"]`` to every request (and records what it was sent)."""
    answer: dict[str, Any] = {"status": 200, "body": b'{"hello": "world"}', "seen": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer["seen"].append((self.command, self.path))
            self.send_response(answer["status"])
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    answer["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield answer
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (200, b'{"hello": "world"}', "answered what this phasegate cannot read"),
        (200, b"<html>hello</html>", "answered something other than JSON"),
        (404, b"<html>no</html>", "answered 404 Not Found (is PHASEGATE_API_URL the phasegate"),
        (302, b"", "answered 302 Found (is PHASEGATE_API_URL the phasegate API?)"),
    ],
)
def test_an_answer_that_is_not_the_apis_is_told_so(
    stranger: dict[str, Any], status: int, body: bytes, says: str
) -> None:
    stranger.update(status=status, body=body)
    env = {"PHASEGATE_API_URL": stranger["url"], "PHASEGATE_TOKEN": "pg_x"}
    for args in (("project", "status", "new-crm"), ("project", "list"), ("audit", "verify")):
        code, out, err = run(*args, **env)
        assert (code, out) == (1, ""), args
        assert err.startswith(f"error: the API at {stranger['url']} "), err
        assert says in err, err


def test_as_is_checked_before_a_command_is_sent(stranger: dict[str, Any]) -> None:
    """``--as`` asks who the token is first; an answer it cannot read sends nothing more."""
    env = {"PHASEGATE_API_URL": stranger["url"], "PHASEGATE_TOKEN": "pg_x"}
    code, _, err = run("gate", "decide", "new-crm", "--as", "bo", "--decision", "approve", **env)
    assert code == 1 and "cannot read" in err
    assert stranger["seen"] == [("GET", "/api/me")]


def test_a_local_option_on_the_command_line_is_refused(url: str) -> None:
    env = {"PHASEGATE_API_URL": url, "PHASEGATE_TOKEN": "pg_x"}
    code, _, err = run("project", "status", "new-crm", "--address", "127.0.0.1:7233", **env)
    assert code == 2
    assert err.startswith("error: --address: not used over the API")
    # From the environment it is left aside: the request goes to the API (unreachable here).
    code, _, err = run("project", "status", "new-crm", PHASEGATE_ADDRESS="127.0.0.1:1", **env)
    assert code == 1
    assert err.startswith(f"error: the API at {url} is unreachable")


def test_model_commands_still_read_local_files(url: str) -> None:
    code, out, _ = run("model", "validate", "prince2", PHASEGATE_API_URL=url, PHASEGATE_TOKEN="x")
    assert code == 0 and out.startswith("ok: prince2@")


@pytest.mark.parametrize(
    "args",
    [
        ("gate", "decide", "new-crm", "--decision", "approve"),
        ("gate", "request", "new-crm"),
        ("hold", "new-crm", "--comment", "why"),
        ("tasks", "complete", "1"),
        (
            "progress",
            "new-crm",
            "--as-of",
            "2026-11-27",
            "--actual-cost",
            "1",
            "--earned-scope",
            "1",
        ),
        (
            "change",
            "request",
            "new-crm",
            "--title",
            "x",
            "--cost-impact",
            "1",
            "--time-impact",
            "P1D",
        ),
        ("change", "decide", "new-crm", "CR-1", "--decision", "approve"),
        ("exception", "decide", "new-crm", "--decision", "close"),
        ("deliverable", "submit", "new-crm", "X", "--url", "https://x.org/a"),
        ("delegate", "new-crm", "--to", "erik", "--from", "2027-03-01", "--until", "2027-03-05"),
        ("delegation", "revoke", "new-crm", "1"),
        ("iteration", "done", "new-crm", "CRM-1"),
        ("iteration", "close", "new-crm"),
    ],
    ids=" ".join,
)
def test_locally_as_is_still_required(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert "Missing option '--as'." in err


@pytest.mark.parametrize(
    "args",
    [
        ("project", "status", "new-crm"),
        ("project", "list"),
        ("gate", "decide", "new-crm", "--decision", "approve"),
        ("tasks",),
        ("audit", "verify"),
        (
            "progress",
            "new-crm",
            "--as-of",
            "2026-11-27",
            "--actual-cost",
            "1",
            "--earned-scope",
            "1",
        ),
        ("change", "list", "new-crm"),
        ("deliverable", "list", "new-crm"),
        ("deliverable", "submit", "new-crm", "X", "--url", "https://x.org/a"),
        ("report", "new-crm", "--number", "1"),
        ("report", "new-crm", "--list"),
        ("delegate", "new-crm", "--to", "erik", "--from", "2027-03-01", "--until", "2027-03-05"),
        ("delegation", "list", "new-crm"),
        ("delegation", "revoke", "new-crm", "1"),
        ("calendar", "export", "--project", "new-crm"),
        ("calendar", "export", "--person", "anna"),
        ("iteration", "status", "new-crm"),
        ("change", "show", "new-crm", "CR-1"),
        ("exception", "show", "new-crm"),
        ("iteration", "done", "new-crm", "CRM-1"),
        ("iteration", "deliver", "new-crm", "--decision", "deliver"),
        ("change", "decide", "new-crm", "CR-1", "--decision", "approve"),
        ("exception", "decide", "new-crm", "--decision", "widen", "--tolerance", "cost=5%"),
    ],
    ids=" ".join,
)
def test_api_mode_imports_neither_temporal_nor_sqlalchemy(
    args: tuple[str, ...], url: str, tmp_path: Path
) -> None:
    """A fresh interpreter, so that no other test's imports hide one; the API is unreachable,
    and the command says so having loaded nothing heavy."""
    env = {**os.environ, "PHASEGATE_API_URL": url, "PHASEGATE_TOKEN": "pg_x"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=(*HEAVY, "ledger"), model_only=()), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 1
    assert f"the API at {url} is unreachable" in result["output"]
    assert result["heavy"] == []
