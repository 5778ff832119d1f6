"""Who a request comes from: 401 with ``WWW-Authenticate: Bearer`` for no token, a wrong one,
a revoked or an expired one; an OpenID Connect JWT signed by the provider's key is accepted
and one with a wrong issuer, audience, expiry, signature or key id is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from api_support import AUDIENCE, ISSUER, Api, IdentityProvider, error, serving
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from ledger import Ledger
from phasegate.api._auth import Authenticator
from phasegate.api._errors import ApiError
from phasegate.settings import Settings

pytestmark = pytest.mark.devserver

OWN_TASKS = "/api/tasks"
"""A route that answers any authenticated person (their own tasks): what the token proves."""


def unauthorised(response: object, problem: str) -> None:
    status, kind, message = error(response)  # type: ignore[arg-type]
    assert (status, kind) == (401, "NotAuthenticated")
    assert problem in message, message
    assert response.headers["WWW-Authenticate"].startswith("Bearer")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic YW5uYTp4"}],
    ids=["none", "empty", "bearer-only", "basic"],
)
def test_no_token_is_401(http: TestClient, headers: dict[str, str]) -> None:
    response = http.get(OWN_TASKS, headers=headers)
    unauthorised(response, "authentication required")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="phasegate"'


def test_a_wrong_token_is_401(http: TestClient, tokens: dict[str, str]) -> None:
    anna = tokens["anna"]
    for wrong in (anna[:-1] + ("x" if anna[-1] != "x" else "y"), "pg_0123456789ab_" + anna[16:]):
        response = http.get(OWN_TASKS, headers={"Authorization": f"Bearer {wrong}"})
        unauthorised(response, "the API token is not valid")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_proves_its_person(as_: dict[str, Api], ledger: Ledger) -> None:
    response = as_["anna"].get(OWN_TASKS, params={"status": "all"})
    assert response.status_code == 200
    assert all(t["assignee"] == "anna" for t in response.json()["items"])


def test_a_revoked_token_is_401_at_once(http: TestClient, ledger: Ledger) -> None:
    token_id, token = ledger.create_token("anna", "to revoke")
    headers = {"Authorization": f"Bearer {token}"}
    assert http.get(OWN_TASKS, headers=headers).status_code == 200
    ledger.revoke_token(token_id)
    unauthorised(http.get(OWN_TASKS, headers=headers), "unknown, revoked or expired")


def test_an_expired_token_is_401(http: TestClient, ledger: Ledger) -> None:
    made = datetime.now(UTC) - timedelta(hours=2)
    _, token = ledger.create_token("anna", expires_at=made + timedelta(hours=1), now=made)
    unauthorised(
        http.get(OWN_TASKS, headers={"Authorization": f"Bearer {token}"}),
        "unknown, revoked or expired",
    )


def test_a_token_of_a_person_whose_tokens_were_revoked_is_401(
    http: TestClient, ledger: Ledger
) -> None:
    # A person of this test's own: the session's tokens of the charter's people must live on.
    tokens = [ledger.create_token("rut", name)[1] for name in ("laptop", "one of many")]
    assert ledger.revoke_person("rut") == 2
    for token in tokens:
        unauthorised(http.get(OWN_TASKS, headers={"Authorization": f"Bearer {token}"}), "not valid")


# -- OpenID Connect -------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_jwt_signed_by_the_provider_is_accepted(
    http: TestClient, idp: IdentityProvider, as_: dict[str, Api]
) -> None:
    response = http.get(OWN_TASKS, headers=bearer(idp.token("bo")), params={"status": "all"})
    assert response.status_code == 200, response.text
    by_token = as_["bo"].get(OWN_TASKS, params={"status": "all"}).json()
    assert response.json() == by_token  # the same person: bo, from the claim


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"iss": "https://evil.example.org/"}, "Invalid issuer"),
        ({"aud": "another-app"}, "Audience doesn't match"),
        ({"exp": datetime.now(UTC) - timedelta(minutes=10)}, "Signature has expired"),
        ({"nbf": datetime.now(UTC) + timedelta(minutes=10)}, "not yet valid"),
    ],
    ids=["issuer", "audience", "expired", "not-yet-valid"],
)
def test_a_jwt_with_wrong_claims_is_401(
    http: TestClient, idp: IdentityProvider, claims: dict[str, object], problem: str
) -> None:
    unauthorised(http.get(OWN_TASKS, headers=bearer(idp.token("anna", **claims))), problem)


def test_a_jwt_with_a_bad_signature_is_401(http: TestClient, idp: IdentityProvider) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = idp.token("anna", key=other)  # the provider's kid, another key
    unauthorised(http.get(OWN_TASKS, headers=bearer(forged)), "Signature verification failed")
    header, _, signature = idp.token("anna").split(".")
    as_bo = {"iss": ISSUER, "aud": AUDIENCE, "exp": 4102444800, "phasegate_person": "bo"}
    payload = jwt.utils.base64url_encode(json.dumps(as_bo).encode()).decode()
    unauthorised(
        http.get(OWN_TASKS, headers=bearer(f"{header}.{payload}.{signature}")),
        "Signature verification failed",
    )


def test_a_jwt_of_an_unknown_key_id_is_401(http: TestClient, idp: IdentityProvider) -> None:
    unauthorised(
        http.get(OWN_TASKS, headers=bearer(idp.token("anna", kid="key-unknown"))),
        'Unable to find a signing key that matches: "key-unknown"',
    )


def test_a_rotated_key_is_taken_without_a_restart_and_the_old_one_dropped(
    settings: Settings, ledger: Ledger
) -> None:
    with serving(IdentityProvider()) as provider:
        auth = Authenticator(
            settings.model_copy(update={"oidc_jwks_url": provider.url}), ledger, refetch_after_s=0
        )
        old = provider.token("anna")
        assert auth.person(old).id == "anna"
        provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        provider.kid = "key-2"
        assert auth.person(provider.token("bo")).id == "bo"  # a kid it lacked: fetched again
        with pytest.raises(ApiError) as caught:
            auth.person(old)
        assert caught.value.status == 401 and '"key-1"' in str(caught.value)


def test_a_jwt_signed_with_the_public_key_as_a_secret_is_401(
    http: TestClient, idp: IdentityProvider
) -> None:
    """The algorithm confusion attack: HS256 with the published key as the shared secret."""
    from cryptography.hazmat.primitives import serialization

    public = idp.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + timedelta(minutes=5),
        "phasegate_person": "anna",
    }
    # Built by hand: PyJWT itself refuses to sign HS256 with a PEM public key.
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.kid}
    signed = ".".join(
        jwt.utils.base64url_encode(json.dumps(part, default=str).encode()).decode()
        for part in (header, {**claims, "exp": int(claims["exp"].timestamp())})
    )
    mac = hmac.new(public, signed.encode(), hashlib.sha256).digest()
    forged = f"{signed}.{jwt.utils.base64url_encode(mac).decode()}"
    unauthorised(http.get(OWN_TASKS, headers=bearer(forged)), "alg value is not allowed")


@pytest.mark.parametrize(
    ("person", "problem"),
    [(None, "phasegate_person"), ("Anna Lind", "not a person id"), ("", "not a person id")],
)
def test_a_jwt_without_a_person_id_in_its_claim_is_401(
    http: TestClient, idp: IdentityProvider, person: str | None, problem: str
) -> None:
    unauthorised(http.get(OWN_TASKS, headers=bearer(idp.token(person))), problem)


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_is_401(http: TestClient, garbage: str) -> None:
    unauthorised(http.get(OWN_TASKS, headers=bearer(garbage)), "not valid")


def test_an_unreachable_identity_provider_is_503_not_a_pass(
    settings: Settings, ledger: Ledger, idp: IdentityProvider
) -> None:
    """Keys that cannot be fetched prove nobody: the answer says the provider is down."""
    down = settings.model_copy(update={"oidc_jwks_url": "http://127.0.0.1:9/jwks.json"})
    with pytest.raises(ApiError) as caught:
        Authenticator(down, ledger).person(idp.token("anna"))
    assert caught.value.status == 503 and "cannot fetch the identity provider's keys" in str(
        caught.value
    )


def test_without_oidc_a_jwt_is_401(
    settings: Settings, ledger: Ledger, idp: IdentityProvider
) -> None:
    plain = settings.model_copy(
        update={"oidc_issuer": None, "oidc_audience": None, "oidc_jwks_url": None}
    )
    with pytest.raises(ApiError) as caught:
        Authenticator(plain, ledger).person(idp.token("anna"))
    assert caught.value.status == 401 and "not a phasegate API token" in str(caught.value)
