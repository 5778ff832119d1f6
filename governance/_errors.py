"""Validation problems with the path to the bad field, and the exception that carries them."""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
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


_C1 = re.compile("[\x7f-\x9f\u2028\u2029]")


def shown(value: object) -> str:
    """A user's value as it appears in a message: strings in double quotes, every control
    character escaped (JSON escapes those below U+0020; the C1 ones too, as a terminal would
    act on them)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The model classes a field's annotation can hold: through lists, unions, Annotated."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, set, frozenset, dict):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def keys_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a mapping at ``loc`` (a path into a ``root`` document) may have."""
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        named = [m for m in models if m.__name__ == part]  # a union member's tag
        if named:
            models = named
            continue
        inner = [
            m
            for model in models
            if part in model.model_fields
            for m in _models_in(model.model_fields[part].annotation)
        ]
        if inner or not _is_union_tag(part):
            models = inner
    return sorted({key for model in models for key in model.model_fields})


_EMAIL = "value is not a valid email address: "


def _message(err: ErrorDetails, root: type[BaseModel] | None) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else "?"
        known = keys_at(root, err["loc"][:-1]) if root is not None else []
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"unknown key{hint}; unknown keys are errors so that a typo cannot drop a rule"
    if kind == "missing":
        return "is required"
    if kind == "string_type" and isinstance(err.get("input"), bool | int | float):
        return f"must be text, got {shown(err['input'])} (YAML read a number: quote it)"
    msg = err["msg"]
    if msg.startswith(_EMAIL):  # pydantic's EmailStr, through email-validator
        reason = msg[len(_EMAIL) :].rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        return f"must be an e-mail address ({reason}), got {shown(err['input'])}"
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


def issues_from_validation(
    exc: ValidationError, root: type[BaseModel] | None = None, *, secret: Collection[str] = ()
) -> list[Issue]:
    """Turn pydantic's errors into path-and-message issues, one per error. ``root``, the
    class validated, lets an unknown key's hint name a key of the mapping it was found in.
    A value under a key named in ``secret`` (a password) is never shown."""
    out: list[Issue] = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and _is_union_tag(p))]
        message = _message(err, root)
        if loc and loc[-1] in secret and "input" in err:
            message = message.replace(f"got {shown(err['input'])}", "got a value not shown")
        out.append(Issue(format_path(loc), message))
    return out


def _is_union_tag(part: str) -> bool:
    # pydantic puts the union member's name into the location ("literal['all','majority']",
    # "AtLeast", "function-after[...]"); a user never wrote those, so they leave the path.
    return (
        part[:1].isupper()
        or "[" in part
        or part.startswith(("function-", "literal", "constrained-", "int", "str", "float"))
    )
