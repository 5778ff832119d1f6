"""Helpers of the dashboard tests: the app served by uvicorn in a thread, a signed-in HTTP
client, the CSRF token of a page."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import uvicorn

from phasegate.api import create_app
from phasegate.settings import Settings
from tests.api.api_support import free_port

if TYPE_CHECKING:
    from tests.integration.conftest import Cli

SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
"""Where the browser tests keep their screenshots (git ignores the folder)."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Served:
    """The app in a uvicorn server on a thread of this process."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_config=None
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "the web server stopped at start-up"
            assert time.monotonic() < deadline, "the web server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html
    return found.group(1)


def signed_in(web: Served, token: str) -> httpx.Client:
    """An HTTP client with a session: the login form fetched, the token posted."""
    http = httpx.Client(base_url=web.base, timeout=60)
    page = http.get("/login")
    answer = http.post("/login", data={"csrf": csrf_of(page.text), "token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    assert "pg_session" in http.cookies
    return http


UNDER_WAY = Path(__file__).parents[2] / "examples" / "prince2-under-way.yaml"


def start_under_way(cli: Cli, folder: Path, change: str, cost: str, time_impact: str) -> str:
    """A PRINCE2 project well under way (``examples/prince2-under-way.yaml`` under a new id),
    started by its project manager (dev), with the change ``change`` requested (its cost and
    time impact) and a red progress report raising an exception; its id."""
    pid = f"web-{uuid.uuid4().hex[:8]}"
    charter = folder / "charter.yaml"
    text = UNDER_WAY.read_text(encoding="utf-8").replace("id: payroll-cutover", f"id: {pid}")
    charter.write_text(text, encoding="utf-8")
    cli("project", "start", charter, "--as", "dev")
    cli(
        "change", "request", pid, "--as", "dev", "--title", change,
        "--cost-impact", cost, "--time-impact", time_impact,
    )  # fmt: skip
    today = datetime.now(UTC).date().isoformat()
    cli(
        "progress", pid, "--as", "dev", "--as-of", today, "--actual-cost", "312000",
        "--earned-scope", "58", "--comment", "Parallel runs cost more than planned",
    )  # fmt: skip
    return pid
