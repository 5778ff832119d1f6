"""The web dashboard: server-rendered pages (Jinja2) over the same service functions as the
REST API, for a person signed in with their API token (or an OpenID Connect token). Every asset
ships in this package: nothing is fetched from elsewhere.

``install(app)`` adds its pages, its static files (``/static``) and its error pages to the app
of ``phasegate.api.create_app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: its pages, ``/static``, and its errors as pages."""
    # Imported here: the pages use the API's parts, and the API's app factory calls this.
    from fastapi.staticfiles import StaticFiles

    from phasegate.web._core import WebError, html_error
    from phasegate.web._router import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(WebError, html_error)
