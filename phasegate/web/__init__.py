"""The web dashboard: server-rendered pages (Jinja2) over the same service functions as the
REST API, for a person signed in with their API token (or an OpenID Connect token). Every asset
ships in this package: nothing is fetched from elsewhere.

``install(app)`` adds its pages, its static files (``/static``) and its error pages to the app
of ``phasegate.api.create_app`` (after the API's error handlers: it wraps the one of invalid
requests)."""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi import FastAPI

__all__ = ["STATIC", "install"]

STATIC = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: its pages, ``/static``, and its errors as pages."""
    # Imported here: the pages use the API's parts, and the API's app factory calls this.
    from fastapi import Request, Response
    from fastapi.exceptions import RequestValidationError
    from fastapi.staticfiles import StaticFiles

    from phasegate.api._errors import _validation_message
    from phasegate.web._core import WebError, html_error
    from phasegate.web._router import router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(WebError, html_error)
    # A page's bad query or path (``?page=-1``) is a page too, with the pages' headers; the
    # API's own answer (JSON) stays the API's.
    api_invalid = app.exception_handlers.get(RequestValidationError)

    async def invalid(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api") and api_invalid is not None:
            answer = api_invalid(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        assert isinstance(exc, RequestValidationError)
        message = f"the address is not valid: {_validation_message(exc)}"
        return html_error(request, WebError(422, "Bad request", message))

    app.add_exception_handler(RequestValidationError, invalid)
