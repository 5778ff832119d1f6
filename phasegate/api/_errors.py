"""Errors as the API answers them: ``{"error": {"type", "message"}}`` with a fitting status.

A refusal from a project (a ``ProjectError``: the workflow validator's, or the service's) keeps
its kind as ``type`` and its message unchanged, so a client reads what the CLI would print.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import LedgerError
from phasegate.errors import pydantic_message
from phasegate.service import UNANSWERED, ProjectError

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorResponse",
    "UnansweredResponse",
    "install",
    "status_of_kind",
]

log = structlog.get_logger("phasegate.api")


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers."""

    error: ErrorDetail


ErrorResponse: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 502, 503)
}
"""The error responses of every route, for the OpenAPI document."""
UnansweredResponse: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ErrorBody,
        "description": "Accepted and applied, but no worker answered after that (type "
        "`Unanswered`): do not send it again; the status shows it once a worker runs.",
    }
}
"""What a command may answer besides its status and the errors."""


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request."""

    def __init__(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = headers


_STATUS = {
    "InvalidInput": 422,
    "NotAuthorised": 403,
    "SelfApproval": 403,
    "UnknownActor": 403,
    "NoStanding": 403,
    "NotDelegated": 403,
    "OutsideDelegation": 403,
    "NoWorker": 503,
    "LedgerUnavailable": 503,
    "ServerError": 502,
    "QueryFailed": 502,
    "Failed": 502,
}


def status_of_kind(kind: str) -> int:
    """The HTTP status of a refusal of this kind: a request against the rules of the project
    as it stands now (a duplicate vote, a gate not open, a project on hold) is a conflict."""
    if kind in _STATUS:
        return _STATUS[kind]
    if kind.startswith("Invalid"):
        return 422
    if kind.startswith("Unknown"):
        return 404
    return 409


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(type=kind, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(loc[1:] if loc[:1] in (["body"], ["query"], ["path"]) else loc)
        message = pydantic_message(err)
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.kind, exc.message, exc.headers)


async def _project_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProjectError)
    if exc.kind == UNANSWERED:  # applied; only the answer is missing: not a failure
        return error_response(202, exc.kind, str(exc))
    return error_response(status_of_kind(exc.kind), exc.kind, str(exc))


async def _ledger_error(_: Request, exc: Exception) -> JSONResponse:
    log.error("api.ledger_error", error=str(exc))
    return error_response(503, "LedgerUnavailable", f"the ledger failed: {exc}")


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "InvalidInput", f"invalid request: {_validation_message(exc)}")


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, kind, str(exc.detail), headers)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("api.unexpected_error")
    return error_response(500, "InternalError", "the server failed to answer; see its log")


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the one JSON shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ProjectError, _project_error)
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
