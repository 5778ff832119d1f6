"""Validation problems with the path to the bad field, and the exception that carries them."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = Sequence[str | int]


def format_path(loc: Loc) -> str:
    """``("phases", 2, "gate", "sla")`` -> ``phases[2].gate.sla``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with a model or charter: where, and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class GovernanceError(Exception):
    """A governance model or charter is invalid; ``issues`` says where and why.

    Not a ``ValueError`` on purpose: raised from a model validator it passes through pydantic
    unchanged, so cross-reference problems keep their own paths.
    """

    def __init__(self, issues: Iterable[Issue], source: str | None = None) -> None:
        self.issues: list[Issue] = list(issues)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{head}{len(self.issues)} problem(s)\n{lines}")


def shown(value: object) -> str:
    """A user's value as it appears in a message: strings in double quotes."""
    return json.dumps(value, ensure_ascii=False, default=str)


_KNOWN_KEYS: set[str] = set()


def register_keys(names: Iterable[str]) -> None:
    """Field names of the model classes, used to suggest the key a typo meant."""
    _KNOWN_KEYS.update(names)


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else "?"
        close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1, cutoff=0.75)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"unknown key{hint}; unknown keys are errors so that a typo cannot drop a rule"
    if kind == "missing":
        return "is required"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind in {"model_type", "dict_type"}:
        msg = "must be a mapping of keys to values"
    elif kind == "list_type":
        msg = "must be a list"
    elif (
        "input" in err
        and kind != "value_error"
        and not msg.endswith('"')
        and ", got " not in msg  # our own messages already show the value
        and (isinstance(err["input"], str | int | float | bool) or err["input"] is None)
    ):
        msg = f"{msg}, got {shown(err['input'])}"
    return msg


def issues_from_validation(exc: ValidationError) -> list[Issue]:
    """Turn pydantic's errors into path-and-message issues, one per error."""
    out: list[Issue] = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and _is_union_tag(p))]
        out.append(Issue(format_path(loc), _message(err)))
    return out


def _is_union_tag(part: str) -> bool:
    # pydantic puts the union member's name into the location ("literal['all','majority']",
    # "AtLeast", "function-after[...]"); a user never wrote those, so they leave the path.
    return (
        part[:1].isupper()
        or "[" in part
        or part.startswith(("function-", "literal", "constrained-", "int", "str", "float"))
    )
