"""The web dashboard: server-rendered pages (Jinja2) over the same service functions as the
REST API, for a person signed in with their API token (or an OpenID Connect token). Every asset
ships in this package: nothing is fetched from elsewhere.

``install(app)`` adds its pages, its static files (``/static``) and its error pages to the app
of ``phasegate.api.create_app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from phasegate.web import _actions, _audit, _login, _portfolio, _project, _work
from phasegate.web._core import WebError, html_error

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)
for _module in (_login, _portfolio, _work, _project, _actions, _audit):
    router.include_router(_module.router)

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: its pages, ``/static``, and its errors as pages."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(WebError, html_error)
