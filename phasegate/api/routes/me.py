"""``/api/me``: who the token proves, for a client that acts as that person (the CLI over the
API checks ``--as`` against it)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from phasegate.api._deps import CurrentUser
from phasegate.api._errors import ErrorResponse

router = APIRouter(prefix="/api", tags=["me"], responses=ErrorResponse)


class Me(BaseModel):
    id: str
    """The person id (as the charters write it): the actor of every request."""
    pmo: bool
    """Whether the person sees every project (``PHASEGATE_PMO``)."""


@router.get("/me", response_model=Me)
async def me(user: CurrentUser) -> Me:
    """The authenticated person: their id and whether they hold the PMO's read access."""
    return Me(id=user.id, pmo=user.pmo)
