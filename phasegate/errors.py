"""The refusal the services raise (``ProjectError``) and the check of an update's input:
light (pydantic only), so that the command line reads and checks what a person typed without
loading the Temporal SDK (over the API, it never does)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

__all__ = ["ProjectError", "command_input", "pydantic_message"]


class ProjectError(Exception):
    """A request the project refused, or a project that does not exist; ``kind`` says which."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


M = TypeVar("M", bound=BaseModel)


def command_input(cls: type[M], **data: object) -> M:
    """The update's input, or ProjectError("InvalidInput") saying what is wrong with it."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {pydantic_message(err)}"
            for err in exc.errors()
        )
        raise ProjectError(f"invalid request: {problems}", "InvalidInput") from None


def pydantic_message(err: ErrorDetails) -> str:
    """What a pydantic error says, without the ``Value error, `` pydantic puts before the
    message of a ``ValueError`` raised in a validator."""
    return err["msg"].removeprefix("Value error, ")
