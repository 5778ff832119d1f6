"""Hostile review (issue #8): ways around the bearer check. Personal API tokens bent out of
shape, OpenID Connect tokens forged or malformed, claims that are not a person id, and the
identity provider's keys fetched from where they must not come."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from api_support import AUDIENCE, CLAIM, ISSUER, Api, IdentityProvider, error, serving
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from ledger import Ledger
from phasegate.api._auth import Authenticator
from phasegate.api._errors import ApiError
from phasegate.settings import Settings

pytestmark = pytest.mark.devserver

OWN_TASKS = "/api/tasks"


def refused(response: Any) -> str:
    status, kind, message = error(response)
    assert (status, kind) == (401, "NotAuthenticated"), (status, kind, message)
    return message


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(part: dict[str, Any]) -> str:
    return jwt.utils.base64url_encode(json.dumps(part).encode()).decode()


def rs256(header: dict[str, Any], payload: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    """A JWT signed by hand: PyJWT will not encode some of the headers and claims tried here."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signed = f"{b64({'alg': 'RS256', **header})}.{b64(payload)}"
    signature = key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signed}.{jwt.utils.base64url_encode(signature).decode()}"


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signed = f"{b64(header)}.{b64(payload)}"
    mac = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{jwt.utils.base64url_encode(mac).decode()}"


def claims(person: str = "anna", **changes: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    base: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    base[CLAIM] = person
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


# -- personal API tokens --------------------------------------------------------------------


def _tricks(anna: str, bo: str) -> dict[str, str]:
    anna_id, anna_secret = anna[3:15], anna[16:]
    bo_id = bo[3:15]
    return {
        "bo-id-anna-secret": f"pg_{bo_id}_{anna_secret}",
        "upper-case": anna.upper(),
        "upper-prefix": "PG_" + anna[3:],
        "upper-id": f"pg_{anna_id.upper()}_{anna_secret}",
        "one-char-more": anna + "A",
        "one-char-less": anna[:-1],
        "id-only": f"pg_{anna_id}",
        "id-and-underscore": f"pg_{anna_id}_",
        "prefix-only": "pg_",
        "zero-secret": "pg_" + anna_id + "_" + "0" * 43,
        "double-prefix": "pg_" + anna,
        "url-encoded-underscore": anna.replace("_", "%5F", 2),
        "very-long": anna + "A" * 60_000,
        "dot-separated": anna.replace("_", ".", 2),
    }


TRICKS = list(_tricks("pg_" + "a" * 12 + "_" + "b" * 43, "pg_" + "c" * 12 + "_" + "d" * 43))


@pytest.mark.parametrize("trick", TRICKS)
def test_a_bent_token_is_401(http: TestClient, tokens: dict[str, str], trick: str) -> None:
    token = _tricks(tokens["anna"], tokens["bo"])[trick]
    refused(http.get(OWN_TASKS, headers=bearer(token)))


def test_a_token_in_a_query_string_or_cookie_proves_nobody(
    http: TestClient, tokens: dict[str, str]
) -> None:
    anna = tokens["anna"]
    refused(http.get(OWN_TASKS, params={"access_token": anna}))
    refused(http.get(OWN_TASKS, headers={"Cookie": f"access_token={anna}"}))
    refused(http.get(OWN_TASKS, headers={"X-Api-Token": anna}))


def test_a_token_revoked_between_two_requests_on_one_connection_is_401(
    http: TestClient, ledger: Ledger
) -> None:
    token_id, token = ledger.create_token("anna", "revoked mid-session")
    assert http.get(OWN_TASKS, headers=bearer(token)).status_code == 200
    ledger.revoke_token(token_id)
    refused(http.get(OWN_TASKS, headers=bearer(token)))


def test_a_token_expiring_this_instant_is_expired(ledger: Ledger, settings: Settings) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    _, token = ledger.create_token("anna", expires_at=at, now=at - timedelta(days=1))
    auth = Authenticator(settings, ledger)
    assert auth.person(token, now=at - timedelta(microseconds=1)).id == "anna"
    with pytest.raises(ApiError) as caught:
        auth.person(token, now=at)
    assert caught.value.status == 401


# -- OpenID Connect -------------------------------------------------------------------------


def test_alg_none_is_401(http: TestClient, idp: IdentityProvider) -> None:
    for alg in ("none", "None", "NONE"):
        forged = f"{b64({'alg': alg, 'typ': 'JWT', 'kid': idp.kid})}.{b64(claims())}."
        refused(http.get(OWN_TASKS, headers=bearer(forged)))


def test_hs256_with_the_jwk_as_the_secret_is_401(http: TestClient, idp: IdentityProvider) -> None:
    """The confusion attack again, with the JWK's JSON and its modulus as the secret."""
    jwk = idp.jwks()["keys"][0]
    for secret in (json.dumps(jwk).encode(), RSAAlgorithm.to_jwk(idp.key.public_key()).encode()):
        forged = hs256({"alg": "HS256", "kid": idp.kid}, claims(), secret)
        refused(http.get(OWN_TASKS, headers=bearer(forged)))


def test_an_rs256_header_over_an_hmac_signature_is_401(
    http: TestClient, idp: IdentityProvider
) -> None:
    public = RSAAlgorithm.to_jwk(idp.key.public_key()).encode()
    forged = hs256({"alg": "RS256", "kid": idp.kid}, claims(), public)
    refused(http.get(OWN_TASKS, headers=bearer(forged)))


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", CLAIM])
def test_a_jwt_missing_a_required_claim_is_401(
    http: TestClient, idp: IdentityProvider, missing: str
) -> None:
    token = jwt.encode(
        claims(**{missing: None}), idp.key, algorithm="RS256", headers={"kid": idp.kid}
    )
    assert missing in refused(http.get(OWN_TASKS, headers=bearer(token)))


@pytest.mark.parametrize(
    "changes",
    [
        {"iat": int(datetime.now(UTC).timestamp()) + 3600},
        {"nbf": int(datetime.now(UTC).timestamp()) + 3600},
        {"aud": [AUDIENCE + "x"]},
        {"aud": ["", AUDIENCE[:-1]]},
        {"iss": ISSUER.rstrip("/")},
        {"iss": ISSUER + "evil"},
        {"iss": [ISSUER]},
    ],
    ids=[
        "iat-future",
        "nbf-future",
        "aud-other",
        "aud-prefix",
        "iss-no-slash",
        "iss-longer",
        "iss-list",
    ],
)
def test_a_jwt_with_claims_almost_right_is_401(
    http: TestClient, idp: IdentityProvider, changes: dict[str, Any]
) -> None:
    token = rs256({"kid": idp.kid}, claims(**changes), idp.key)
    refused(http.get(OWN_TASKS, headers=bearer(token)))


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no kid at all
        {"kid": ""},
        {"kid": 1},
        {"kid": ["key-1"]},
        {"kid": "key-1", "jku": "http://127.0.0.1:9/evil.json"},
        {"kid": "key-1", "x5u": "http://127.0.0.1:9/evil.pem"},
    ],
    ids=["no-kid", "empty-kid", "int-kid", "list-kid", "jku", "x5u"],
)
def test_kid_tricks_with_an_attackers_key_are_401(
    http: TestClient, idp: IdentityProvider, headers: dict[str, Any]
) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(http.get(OWN_TASKS, headers=bearer(rs256(headers, claims(), attacker))))


def test_an_embedded_jwk_is_not_trusted(http: TestClient, idp: IdentityProvider) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own = RSAAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    token = jwt.encode(claims(), attacker, algorithm="RS256", headers={"kid": idp.kid, "jwk": own})
    refused(http.get(OWN_TASKS, headers=bearer(token)))


def test_a_symmetric_key_in_the_jwks_cannot_sign(settings: Settings, ledger: Ledger) -> None:
    """A provider that (wrongly) also publishes an ``oct`` key: its secret is public, so a
    token signed with it must prove nobody, whatever alg the header names."""

    class WithOct(IdentityProvider):
        def jwks(self) -> dict[str, Any]:
            published = super().jwks()
            oct_key = {"kty": "oct", "kid": "oct-1", "k": "c2VjcmV0LXRoYXQtaXMtcHVibGlj"}
            return {"keys": [*published["keys"], oct_key]}

    with serving(WithOct()) as provider:
        auth = Authenticator(settings.model_copy(update={"oidc_jwks_url": provider.url}), ledger)
        secret = b"secret-that-is-public"
        for alg in ("HS256", "RS256"):
            with pytest.raises(ApiError) as caught:
                auth.person(hs256({"alg": alg, "kid": "oct-1"}, claims(), secret))
            assert caught.value.status == 401


@pytest.mark.parametrize(
    "person",
    [
        "anna\n",
        "pia\n",
        "anna\x00",
        "an\x1bna",
        "anna\r\n",
        "\nanna",
        "anna ",
        "ａnna",
        "anna\u2028",
    ],
    ids=["lf", "pmo-lf", "nul", "esc", "crlf", "leading-lf", "space", "fullwidth", "u2028"],
)
def test_a_claim_with_control_characters_is_401(
    http: TestClient, idp: IdentityProvider, person: str
) -> None:
    """A person id is a slug: a claim the provider lets a user set (a username) with a
    newline after it must not become a person, nor write a line of its own into a log."""
    refused(http.get(OWN_TASKS, headers=bearer(idp.token(person))))


@pytest.mark.parametrize("person", [["anna"], {"id": "anna"}, 7, True])
def test_a_claim_that_is_not_a_string_is_401(
    http: TestClient, idp: IdentityProvider, person: Any
) -> None:
    token = jwt.encode(
        claims(**{CLAIM: person}), idp.key, algorithm="RS256", headers={"kid": idp.kid}
    )
    refused(http.get(OWN_TASKS, headers=bearer(token)))


def test_a_person_in_no_charter_is_someone_who_sees_nothing(
    http: TestClient, idp: IdentityProvider
) -> None:
    headers = bearer(idp.token("nobody-anywhere"))
    mine = http.get(OWN_TASKS, headers=headers, params={"status": "all"})
    assert mine.status_code == 200 and mine.json()["items"] == []
    listed = http.get("/api/projects", headers=headers, params={"limit": 500})
    assert listed.status_code == 200 and listed.json() == {
        "total": 0,
        "limit": 500,
        "offset": 0,
        "items": [],
    }
    status, kind, _ = error(http.get("/api/audit/verify", headers=headers))
    assert (status, kind) == (403, "NotAuthorised")


# -- where the keys come from ---------------------------------------------------------------


def test_a_plain_http_jwks_url_off_loopback_is_refused() -> None:
    for url in (
        "http://id.example.org/jwks.json",
        "http://127.0.0.1@id.example.org/jwks.json",
        "http://id.example.org#@127.0.0.1/",
        "ftp://127.0.0.1/jwks.json",
        "file:///etc/jwks.json",
        "https:///jwks.json",
    ):
        with pytest.raises(ValueError, match="https"):
            Settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=url)


def _off_loopback_address() -> str:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: only picks the outward interface
        address: str = s.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address off loopback")
    return address


@contextmanager
def redirecting(to: str) -> Iterator[str]:
    """A loopback http server that answers every GET with a redirect to ``to``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def test_the_keys_are_not_taken_from_a_redirect_to_plain_http_off_loopback(
    settings: Settings, ledger: Ledger
) -> None:
    """The settings refuse an http JWKS URL off loopback ("the keys that prove who a person
    is must not travel unprotected"); a redirect must not get round that. Here the allowed
    loopback URL redirects to plain http on this machine's outward address, where anyone on
    the path could have put their own key."""
    address = _off_loopback_address()
    attacker = IdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(attacker.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    outward = ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=outward.serve_forever, daemon=True)
    thread.start()
    try:
        plain = f"http://{address}:{outward.server_address[1]}/jwks.json"
        with redirecting(plain) as allowed:
            auth = Authenticator(settings.model_copy(update={"oidc_jwks_url": allowed}), ledger)
            with pytest.raises(ApiError) as caught:
                auth.person(attacker.token("pia"))  # the PMO, by a key from plain http
            assert caught.value.status in (401, 503), caught.value.message
    finally:
        outward.shutdown()
        outward.server_close()


def test_bearer_scheme_tricks(
    http: TestClient, tokens: dict[str, str], as_: dict[str, Api]
) -> None:
    anna = tokens["anna"]
    for header in (f"Token {anna}", f"Bearer{anna}", f"Bearer: {anna}", f"Basic {anna}", anna):
        refused(http.get(OWN_TASKS, headers={"Authorization": header}))
    # the scheme is case-insensitive (RFC 7235), and blanks around the token are not part of it
    for header in (f"bearer {anna}", f"BEARER {anna}", f"Bearer  {anna}"):
        assert http.get(OWN_TASKS, headers={"Authorization": header}).status_code == 200


@pytest.mark.parametrize("person", ["anna\n", "pia\n"])
def test_no_token_is_made_for_a_person_id_with_a_newline(ledger: Ledger, person: str) -> None:
    """The same slug check at the other door: ``phasegate token create --person``."""
    with pytest.raises(ValueError, match="person"):
        ledger.create_token(person, "newline")
