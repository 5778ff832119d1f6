"""Every page of the dashboard, in one router."""

from __future__ import annotations

from fastapi import APIRouter

from phasegate.web import _actions, _audit, _login, _portfolio, _project, _work

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _module in (_login, _portfolio, _work, _project, _actions, _audit):
    router.include_router(_module.router)
