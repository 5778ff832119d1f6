"""``/api/me``: who the bearer token proves, and whether that person has the PMO's
portfolio-wide read access (a client, such as the CLI in API mode, asks this first)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from phasegate.api._deps import CurrentUser
from phasegate.api._errors import ErrorResponse

router = APIRouter(prefix="/api", tags=["me"], responses=ErrorResponse)


class Me(BaseModel):
    """The authenticated person."""

    person: str
    """The person id of the charters: the actor of everything this token does."""
    pmo: bool
    """Whether the person sees every project (the PMO setting, or an OIDC PMO group)."""
    via: Literal["token", "oidc"]
    """How the person proved it: a personal API token or an OpenID Connect token."""


@router.get("/me", response_model=Me)
async def me(user: CurrentUser) -> Me:
    """The person the bearer token proves, whether they are PMO, and how they proved it."""
    return Me(person=user.id, pmo=user.pmo, via=user.via)
