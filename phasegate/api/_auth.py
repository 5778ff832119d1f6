"""Who a request comes from: a personal API token (kept in the ledger, see
``phasegate token``) or an OpenID Connect JWT from the identity provider in the settings.

The person found is the actor of everything the request does; nothing in a request body can
name another. What a person may do stays the workflow's to decide (its validators check roles
as they do for the CLI): this only says who is asking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import jwt
from jwt import PyJWKClient

from ledger import TOKEN_PREFIX, Ledger
from phasegate.api._errors import ApiError
from phasegate.settings import Settings

__all__ = ["Authenticator", "Person", "unauthenticated"]

LEEWAY_S = 30
"""Clock skew allowed between the identity provider and this server, on exp, nbf and iat."""
JWKS_LIFESPAN_S = 300
"""How long the provider's key set is used before it is fetched again."""
JWKS_REFETCH_S = 30.0
"""The soonest the key set is fetched again for a kid it lacks (a key just rotated in)."""
_PERSON = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_REALM = 'Bearer realm="phasegate"'


@dataclass(frozen=True, slots=True)
class Person:
    """The authenticated person: their id in the charters, how they proved it, and whether
    they have the PMO's portfolio-wide read access."""

    id: str
    via: Literal["token", "oidc"]
    pmo: bool


def unauthenticated(message: str, *, invalid: bool = True) -> ApiError:
    """A 401 that says how to authenticate (RFC 6750: ``invalid_token`` for a bad one)."""
    header = f'{_REALM}, error="invalid_token"' if invalid else _REALM
    return ApiError(401, "NotAuthenticated", message, {"WWW-Authenticate": header})


class Authenticator:
    """Checks bearer tokens against the ledger's API tokens and, when configured, the
    identity provider's signing keys (fetched from its JWKS, cached, refetched for a key id
    it does not know yet, so a key rotation needs no restart). Blocking: call it from a
    worker thread."""

    def __init__(
        self, settings: Settings, ledger: Ledger, *, refetch_after_s: float = JWKS_REFETCH_S
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._jwks = (
            # The key set is cached and fetched again for a kid it lacks (``refetch_after_s``
            # after the last fetch at the soonest: random kids cannot make it hammer the
            # provider). Keys are not cached past their set, so a key the provider drops is
            # no longer trusted once the set is fetched again.
            PyJWKClient(
                settings.oidc_jwks_url,
                cache_keys=False,
                lifespan=JWKS_LIFESPAN_S,
                timeout=10,
                cooldown_duration=refetch_after_s,
            )
            if settings.oidc_jwks_url is not None
            else None
        )

    def person(self, token: str | None, now: datetime | None = None) -> Person:
        """The person ``token`` proves; ``ApiError`` 401 when there is none or it proves
        nobody, 503 when the identity provider's keys cannot be fetched."""
        if not token:
            raise unauthenticated(
                "authentication required: send `Authorization: Bearer TOKEN` with a personal "
                "API token (`phasegate token create`)"
                + (" or an OpenID Connect token" if self._jwks is not None else ""),
                invalid=False,
            )
        if token.startswith(TOKEN_PREFIX):
            person = self._ledger.person_for(token, now or datetime.now(UTC))
            if person is None:
                raise unauthenticated("the API token is not valid: unknown, revoked or expired")
            return Person(person, "token", person in self._settings.pmo)
        if self._jwks is None:
            raise unauthenticated("the token is not a phasegate API token")
        person, groups = self._oidc_person(token)
        pmo = person in self._settings.pmo or not groups.isdisjoint(self._settings.pmo_groups)
        return Person(person, "oidc", pmo)

    def _oidc_person(self, token: str) -> tuple[str, frozenset[str]]:
        """The person a JWT proves, and the groups its groups claim lists."""
        s = self._settings
        assert self._jwks is not None
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ApiError(
                503,
                "IdentityProviderUnavailable",
                f"cannot fetch the identity provider's keys from {s.oidc_jwks_url}: {exc}",
            ) from None
        except jwt.PyJWTError as exc:  # no kid, a kid the JWKS does not have, not a JWT
            raise unauthenticated(f"the OpenID Connect token is not valid: {exc}") from None
        claim = s.oidc_person_claim
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(s.oidc_algorithms),
                audience=s.oidc_audience,
                issuer=s.oidc_issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", claim]},
            )
        except jwt.PyJWTError as exc:
            raise unauthenticated(f"the OpenID Connect token is not valid: {exc}") from None
        person = claims.get(claim)
        if not isinstance(person, str) or not _PERSON.fullmatch(person):
            raise unauthenticated(
                f"the OpenID Connect token's {claim!r} claim is not a person id of the "
                f"charters: {person!r}"
            )
        return person, _groups(claims.get(s.oidc_groups_claim))


def _groups(value: object) -> frozenset[str]:
    """The groups of a groups claim: a list of strings (most providers), or one string
    (a single group). Anything else names no group: the person is then not PMO by a group,
    and still whoever the person claim says."""
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, list):
        return frozenset(g for g in value if isinstance(g, str))
    return frozenset()
