"""What every page of the dashboard needs: the signed-in viewer (from the session cookie,
re-checked on every request), the templates, rendering with an ETag (the live updates poll
with ``If-None-Match``), form bodies, the CSRF check and the error pages."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

import governance as g
from governance.audit import Task
from ledger import Ledger
from phasegate.api._auth import Person
from phasegate.api._deps import Services
from phasegate.service import ProjectError
from phasegate.web._session import COOKIE, Session, secret_of, unsign

__all__ = [
    "LIVE_HEADER",
    "LoginRequired",
    "Signed",
    "Viewer",
    "WebError",
    "check_csrf",
    "form",
    "html_error",
    "local_path",
    "pinned_model",
    "render",
    "services",
    "task_kind",
]

LIVE_HEADER = "x-phasegate-live"
"""Sent by the page's script when it polls: answer 401 rather than a redirect to the login."""
MAX_FIELDS = 20
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class WebError(Exception):
    """A page that cannot be shown, as an HTML page with this status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class LoginRequired(WebError):
    """No valid session: a page is redirected to the login, a poll or a form gets 401."""

    def __init__(self, message: str = "sign in first") -> None:
        super().__init__(401, "Sign in", message)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person and their session (for its CSRF token)."""

    person: Person
    session: Session

    @property
    def id(self) -> str:
        return self.person.id


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def _short(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d")


def relative(at: datetime | None, now: datetime | None = None) -> str:
    """``in 3 days``, ``overdue 2 days`` (calendar days, UTC, as the CLI counts them, so that
    a due date ten days from today says "in 10 days" beside it); within a day ``in 5 h``,
    ``within the hour``, ``overdue``."""
    if at is None:
        return "-"
    now = now or datetime.now(UTC)
    span = (at - now).total_seconds() / 86400
    if 0 <= span < 1:
        hours = int(span * 24)
        return f"in {hours} h" if hours else "within the hour"
    if -1 < span < 0:
        return "overdue"
    days = (at.astimezone(UTC).date() - now.astimezone(UTC).date()).days
    if days > 0:
        return f"in {days} day{'s' if days != 1 else ''}"
    return f"overdue {-days} day{'s' if days != -1 else ''}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


TEMPLATES = Environment(
    loader=PackageLoader("phasegate.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters.update(when=_short, day=_day, relative=relative, money=_money)


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """The page, with an ETag of its body: a GET whose ``If-None-Match`` names it is 304."""
    body = TEMPLATES.get_template(template).render(
        viewer=viewer, path=request.url.path, now=datetime.now(UTC), **context
    )
    data = body.encode()
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    sent = request.headers.get("if-none-match")
    # no-store: a signed-in person's pages (votes, audit) stay off the browser's disk; the
    # polling sends its ETag itself (app.js), so a 304 needs no stored copy.
    common = {**SECURITY_HEADERS, "Cache-Control": "private, no-store", **(headers or {})}
    if (
        request.method == "GET"
        and sent is not None
        and etag in {t.strip() for t in sent.split(",")}
    ):
        return Response(status_code=304, headers={**common, "ETag": etag})
    return HTMLResponse(data, status_code=status, headers={**common, "ETag": etag})


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site (``/work``), else ``default``: a ``next`` or
    ``back`` field must never send the browser elsewhere (``//evil.example``)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 for c in value)
    ):
        return default
    return value


async def _viewer(request: Request) -> Viewer:
    s = services(request)
    now = datetime.now(UTC)
    session = Session.of(unsign(secret_of(s.settings), COOKIE, request.cookies.get(COOKIE)), now)
    if session is None:
        raise LoginRequired()
    # One query: the session is open in the ledger (not signed out, not expired) and its
    # token, if it has one, is still an active token of the same person.
    kept = await asyncio.to_thread(s.ledger.web_session, session.sid, now)
    if kept is None or kept.person != session.person or kept.token_id != session.token_id:
        raise LoginRequired("this session has ended (signed out, or its token revoked): sign in")
    request.state.person = session.person  # for the access log
    pmo = session.person in s.settings.pmo or not set(session.groups).isdisjoint(
        s.settings.pmo_groups
    )
    person = Person(session.person, session.via, pmo)
    return Viewer(person, session)


Signed = Annotated[Viewer, Depends(_viewer)]
"""The signed-in person of a page (else: to the login page)."""


async def form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the first value of each); none for no body."""
    raw = await request.body()
    if not raw:
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise WebError(
            415, "Unsupported form", "send the form as application/x-www-form-urlencoded"
        )
    try:
        text = raw.decode("utf-8")
        fields = parse_qs(
            text, keep_blank_values=True, max_num_fields=MAX_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebError(400, "Bad form", f"the form could not be read: {exc}") from None
    return {name: values[0] for name, values in fields.items()}


def check_csrf(viewer: Viewer, fields: dict[str, str]) -> None:
    """403 unless the form carries the session's CSRF token (a page of this site made it)."""
    if not viewer.session.csrf_ok(fields.get("csrf")):
        raise WebError(
            403,
            "Form refused",
            "the form's security token is missing or wrong (it comes from the page; reload it "
            "and try again). Nothing was changed.",
        )


def html_error(request: Request, exc: Exception) -> Response:
    """The page for a ``WebError`` (a ``LoginRequired`` page request goes to the login)."""
    assert isinstance(exc, WebError)
    polled = request.headers.get(LIVE_HEADER) is not None
    if isinstance(exc, LoginRequired) and request.method == "GET" and not polled:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if exc.message != "sign in first":
            response.delete_cookie(COOKIE, path="/")
        return response
    return render(request, "error.html", viewer=None, status=exc.status, error=exc)


def pinned_model(ledger: Ledger, ref: str, model_hash: str) -> g.GovernanceModel | None:
    """A project's model (``ref``, ``name@version``), when a built-in or a published one has
    the very content the project pinned (``model_hash``); None for a local file's model (the
    pages then show phase ids)."""
    name, _, version = ref.partition("@")
    try:
        model = g.builtin_model(ref)
    except g.GovernanceError:
        model = None
    if model is None and version:
        published = ledger.published_model(name, version)
        model = published.model if published is not None else None
    if model is None or model.content_hash() != model_hash:
        return None
    return model


def task_kind(task: Task) -> str:
    """``gate`` (a vote on a gate), ``change``, ``exception``, ``review`` (a gate's review
    task, completed as such) or ``other`` (an iteration's, an obstacle), from its key."""
    key = task.key
    deciding = "/decide/" in key or "/advise/" in key
    if key.startswith("change/") or "/change/" in key:
        return "change" if deciding else "other"
    if key.startswith("exception/") or "/exception/" in key:
        return "exception" if deciding else "other"
    if deciding:
        return "gate"
    return "review" if task.gate is not None else "other"


def project_error(exc: ProjectError) -> WebError:
    """A refusal or failure of the project, as a page."""
    from phasegate.api._errors import status_of_kind

    return WebError(status_of_kind(exc.kind), exc.kind, str(exc))
