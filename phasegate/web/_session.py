"""The dashboard's session: a cookie signed with HMAC-SHA256 that holds the session's id, who
signed in, with which API token (its public id, never the token), until when, and the
session's CSRF token.

The server keeps the session too (the ledger's ``web_sessions``, only the SHA-256 of its id),
and every request checks it there, in one query: not ended (signing out ends it, so a copy of
the cookie taken before is no session after), not expired, and its API token still active
(revoking the token, ``token revoke``, ends its sessions). The signature keeps the cookie's
other fields honest; an OpenID Connect session ends at the JWT's own expiry, if that comes
before ``LIFETIME``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import structlog

from phasegate.settings import Settings

__all__ = [
    "COOKIE",
    "LIFETIME",
    "LOGIN_COOKIE",
    "Session",
    "new_csrf",
    "secret_of",
    "sign",
    "unsign",
]

COOKIE = "pg_session"
LOGIN_COOKIE = "pg_login"
"""Before signing in: the CSRF token of the login form (double submit, signed)."""
LIFETIME = timedelta(hours=12)
"""How long a session lasts at most: a working day, then the token is asked for again."""
LOGIN_LIFETIME = timedelta(hours=1)

log = structlog.get_logger("phasegate.web")
_process_secret: bytes | None = None


def secret_of(settings: Settings) -> bytes:
    """The signing key: ``session_secret`` of the settings, else one random key per process
    (sessions then end with the process; a warning says so, once)."""
    global _process_secret
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    if _process_secret is None:
        _process_secret = secrets.token_bytes(32)
        log.warning(
            "web.session_secret_unset",
            hint="set PHASEGATE_SESSION_SECRET: without it every process signs sessions with "
            "a random key of its own, so a restart signs everybody out",
        )
    return _process_secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}:{body}".encode(), hashlib.sha256).digest())


def sign(key: bytes, purpose: str, data: dict[str, object]) -> str:
    """``data`` as ``<base64 JSON>.<base64 HMAC>``; ``purpose`` keeps one cookie's value from
    standing in for another's."""
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(key, purpose, body)}"


def unsign(key: bytes, purpose: str, value: str | None) -> dict[str, object] | None:
    """The data ``sign`` signed, or None for anything else (unsigned, altered, not JSON)."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    # As bytes: compare_digest refuses str with non-ASCII characters (a cookie's latin-1).
    expected = _mac(key, purpose, body).encode()
    if not hmac.compare_digest(mac.encode("utf-8", "replace"), expected):
        return None
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in person, as the cookie holds them."""

    person: str
    via: Literal["token", "oidc"]
    token_id: str | None
    expires: datetime
    csrf: str
    groups: tuple[str, ...] = ()
    """An OpenID Connect session's groups (from the JWT) that were PMO groups at sign-in;
    checked again against ``pmo_groups`` at every request, as the API checks a JWT's."""
    sid: str = ""
    """The session's id in the ledger (``Ledger.open_web_session``); a cookie without one is
    no session."""

    def data(self) -> dict[str, object]:
        out: dict[str, object] = {
            "p": self.person,
            "via": self.via,
            "k": self.token_id,
            "exp": int(self.expires.timestamp()),
            "csrf": self.csrf,
            "s": self.sid,
        }
        if self.groups:
            out["g"] = list(self.groups)
        return out

    @classmethod
    def of(cls, data: dict[str, object] | None, now: datetime) -> Session | None:
        """The session of a cookie's data; None when it is malformed or has expired."""
        if data is None:
            return None
        person, via, token_id, exp, csrf, sid = (
            data.get(k) for k in ("p", "via", "k", "exp", "csrf", "s")
        )
        groups = data.get("g", [])
        if (
            not isinstance(groups, list)
            or not all(isinstance(g, str) for g in groups)
            or (groups and via != "oidc")
            or not isinstance(person, str)
            or via not in ("token", "oidc")
            or not (token_id is None or isinstance(token_id, str))
            or not isinstance(exp, int)
            or not isinstance(csrf, str)
            or not isinstance(sid, str)
            or not sid
            or (via == "token") != (token_id is not None)
        ):
            return None
        expires = datetime.fromtimestamp(exp, UTC)
        if expires <= now:
            return None
        kind: Literal["token", "oidc"] = "token" if via == "token" else "oidc"
        return cls(person, kind, token_id, expires, csrf, tuple(groups), sid)

    def csrf_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf.encode())
