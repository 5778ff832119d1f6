"""The app factory: routes, errors, middleware, and the lifespan that makes the Temporal
client and opens the ledger on the server's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path
from temporalio.client import Client

from ledger import Ledger
from phasegate.api import _errors
from phasegate.api._auth import Authenticator
from phasegate.api._deps import Services
from phasegate.api._middleware import MAX_BODY_BYTES, AccessLog, BodyLimit
from phasegate.api.routes import (
    audit,
    calendar,
    control,
    delegations,
    deliverables,
    gates,
    iterations,
    me,
    notifications,
    projects,
    reports,
    tasks,
)
from phasegate.settings import Settings
from phasegate.temporal import connect
from phasegate.web import install as install_web

__all__ = ["create_app"]

log = structlog.get_logger("phasegate.api")

DESCRIPTION = """\
Project governance as durable workflows, over HTTP. Every request is made as the person its
bearer token proves (a personal API token from `phasegate token create`, or an OpenID Connect
token): the actor of a decision is that person, never a field of the body. A person sees the
projects whose charter names them (the PMO sees every one); any other project is 404.

Errors are `{"error": {"type", "message"}}`; a refusal of a project keeps the workflow's own
message (`type` is its kind: `DuplicateVote`, `NotAuthorised`, ...).
"""


def create_app(
    settings: Settings, client: Client | None = None, ledger: Ledger | None = None
) -> FastAPI:
    """The API for ``settings``. ``client`` and ``ledger`` are used as given (the caller
    keeps them: a ledger given is not closed here); else the app connects to the Temporal
    server of the settings and opens their ledger (which must exist) when it starts, on the
    event loop that serves it, and closes the ledger when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = (
            None
            if ledger is not None
            else await asyncio.to_thread(Ledger.existing, settings.effective_ledger_url())
        )
        the_ledger = ledger if ledger is not None else opened
        assert the_ledger is not None
        try:
            the_client = client if client is not None else await connect(settings)
            app.state.services = Services(
                settings, the_client, the_ledger, Authenticator(settings, the_ledger)
            )
            log.info(
                "api.started",
                namespace=the_client.namespace,
                ledger=the_ledger.display_url,
                oidc=settings.oidc_issuer,
                pmo=list(settings.pmo),
                pmo_groups=list(settings.pmo_groups),
            )
            yield
        finally:
            if opened is not None:
                opened.close()

    app = FastAPI(
        title="phasegate",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below, with Swagger UI's files from this machine
        redoc_url=None,
        lifespan=lifespan,
    )
    for module in (
        me,
        projects,
        gates,
        delegations,
        iterations,
        deliverables,
        control,
        reports,
        tasks,
        calendar,
        notifications,
        audit,
    ):
        app.include_router(module.router)
    _install_docs(app)
    _errors.install(app)
    install_web(app)  # the dashboard's pages and /static (after the errors: it wraps one)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(AccessLog)  # added last: outermost, so it sees every answer
    return app


SWAGGER_UI = "/api/docs/ui"
"""Where Swagger UI's own files are served from: the copy the ``swagger-ui-bundle-v2`` package
ships, so the docs work on a network that reaches no CDN."""


def _install_docs(app: FastAPI) -> None:
    """``/api/docs``: Swagger UI over the OpenAPI document, every asset from this server."""
    app.mount(SWAGGER_UI, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="phasegate - API docs",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        )
