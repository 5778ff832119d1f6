"""Helpers of the dashboard tests: the app served by uvicorn in a thread, a signed-in HTTP
client, the CSRF token of a page."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from phasegate.api import create_app
from phasegate.settings import Settings
from tests.api.api_support import free_port

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
