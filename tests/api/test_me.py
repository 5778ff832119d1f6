"""``/api/me``: the person a token proves and whether they are PMO; 401 without a token."""

from __future__ import annotations

import pytest
from api_support import PMO, Api, IdentityProvider, error
from fastapi.testclient import TestClient

pytestmark = pytest.mark.devserver


def test_a_personal_token_answers_its_person(as_: dict[str, Api]) -> None:
    assert as_["anna"].get("/api/me").json() == {"person": "anna", "pmo": False, "via": "token"}
    assert as_[PMO].get("/api/me").json() == {"person": PMO, "pmo": True, "via": "token"}


def test_an_oidc_token_answers_its_person(http: TestClient, idp: IdentityProvider) -> None:
    response = http.get("/api/me", headers={"Authorization": f"Bearer {idp.token('bo')}"})
    assert response.json() == {"person": "bo", "pmo": False, "via": "oidc"}


def test_no_token_is_401(http: TestClient) -> None:
    status, kind, _ = error(http.get("/api/me"))
    assert (status, kind) == (401, "NotAuthenticated")
