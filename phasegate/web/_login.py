"""Signing in with a personal API token (or an OpenID Connect token), and out: signing in
opens a session in the ledger, signing out ends it there (not only in the browser)."""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime
from typing import Annotated

import jwt
import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from ledger import TOKEN_PREFIX
from phasegate.api._auth import _groups as oidc_groups
from phasegate.api._errors import ApiError
from phasegate.web._core import Signed, check_csrf, form, local_path, render, services
from phasegate.web._session import (
    COOKIE,
    LIFETIME,
    LOGIN_COOKIE,
    LOGIN_LIFETIME,
    Session,
    new_csrf,
    secret_of,
    sign,
    unsign,
)

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("phasegate.web")


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _login_page(
    request: Request, next_: str, error: str | None = None, status: int = 200
) -> Response:
    """The login form, with a fresh CSRF token in its field and in a signed cookie."""
    token = new_csrf()
    key = secret_of(services(request).settings)
    response = render(
        request,
        "login.html",
        viewer=None,
        status=status,
        csrf=token,
        next=next_,
        error=error,
        oidc=services(request).settings.oidc_enabled,
    )
    _cookie(
        response,
        request,
        LOGIN_COOKIE,
        sign(key, LOGIN_COOKIE, {"csrf": token}),
        int(LOGIN_LIFETIME.total_seconds()),
    )
    return response


@router.get("/login")
async def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    return _login_page(request, local_path(next))


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    next_ = local_path(fields.get("next"))
    s = services(request)
    key = secret_of(s.settings)
    cookie = unsign(key, LOGIN_COOKIE, request.cookies.get(LOGIN_COOKIE))
    sent, expected = fields.get("csrf", ""), (cookie or {}).get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(
            request,
            next_,
            "The form had expired or did not come from this page; paste the token again.",
            403,
        )
    token = fields.get("token", "").strip()
    if not token:
        return _login_page(request, next_, "Paste your token.", 401)
    now = datetime.now(UTC)
    try:
        person = await asyncio.to_thread(s.auth.person, token, now)
    except ApiError as exc:
        log.info("web.login_refused", reason=exc.kind)
        return _login_page(request, next_, exc.message, exc.status)
    expires = now + LIFETIME
    token_id = None
    groups: tuple[str, ...] = ()
    subject: str | None = None
    if person.via == "token":
        found = await asyncio.to_thread(s.ledger.token, token)
        if found is None or not token.startswith(TOKEN_PREFIX):  # revoked meanwhile, say
            return _login_page(request, next_, "the API token is not valid", 401)
        token_id = found.id
        if found.expires_at is not None:
            expires = min(expires, found.expires_at)
    else:
        claims = jwt.decode(token, options={"verify_signature": False})
        expires = min(expires, datetime.fromtimestamp(int(claims["exp"]), UTC))
        # The PMO groups among the JWT's (the API's rule): kept, to be checked per request.
        named = oidc_groups(claims.get(s.settings.oidc_groups_claim))
        groups = tuple(sorted(named & set(s.settings.pmo_groups)))
        sub = claims.get("sub")  # the provider's own id of the person, when it sends one
        subject = sub if isinstance(sub, str) and sub else person.id
    try:
        sid = await asyncio.to_thread(
            s.ledger.open_web_session,
            person.id,
            expires,
            token_id=token_id,
            subject=subject,
            now=now,
        )
    except ValueError as exc:  # the token's or the JWT's expiry is already past, say
        log.info("web.login_refused", reason="session", error=str(exc))
        return _login_page(request, next_, f"cannot sign in with this token: {exc}", 401)
    session = Session(person.id, person.via, token_id, expires, new_csrf(), groups, sid)
    response = RedirectResponse(next_, status_code=303)
    _cookie(
        response,
        request,
        COOKIE,
        sign(key, COOKIE, session.data()),
        max(1, int((expires - now).total_seconds())),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    log.info("web.signed_in", person=person.id, via=person.via, token_id=token_id)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Signed) -> Response:
    check_csrf(viewer, await form(request))
    # Ended on the server: a copy of the cookie taken before is no session any more.
    await asyncio.to_thread(services(request).ledger.end_web_session, viewer.session.sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    log.info("web.signed_out", person=viewer.id)
    return response
