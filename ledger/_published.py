"""A registry entry as both readers give it: the SQLAlchemy ledger and the SQLite registry
reader check each row here, the same way. Imports no SQLAlchemy."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import GovernanceError, GovernanceModel, builtin_models, parse_model
from ledger._errors import LedgerError, ModelRefused
from ledger._time import utc

MODELS_TABLE = "models"
"""The registry's table."""
REGISTRY_COLUMNS = ("name", "version", "content", "sha256", "published_at", "published_by")
"""The columns a row read for ``entry_from_row`` holds; ``published_at`` as the database
gives it, unparsed (SQLAlchemy's SQLite ``DateTime`` would raise a bare ``ValueError`` on a
row altered to hold no time)."""


@dataclass(frozen=True, slots=True)
class PublishedModel:
    """One registry entry: the model, its content hash, and who published it when."""

    model: GovernanceModel
    sha256: str
    published_at: datetime
    published_by: str

    @property
    def ref(self) -> str:
        return self.model.ref


def check_publishable(model: GovernanceModel) -> None:
    """``ModelRefused`` when ``model`` bears a built-in's name (those names are reserved)."""
    if model.name in builtin_models():
        raise ModelRefused(
            f'"{model.name}" is the name of a built-in model and is reserved: '
            "publish your model under a name of its own"
        )


def entry_from_row(row: Mapping[Any, Any]) -> PublishedModel:
    """The entry a row of the registry's table holds (``REGISTRY_COLUMNS``; ``published_at``
    a datetime, or SQLite's ISO text), its content checked against its hash and its
    name@version; ``LedgerError`` when the row was altered."""
    ref = f"{row['name']}@{row['version']}"
    content: str = row["content"]
    digest = hashlib.sha256(content.encode()).hexdigest()
    if digest != row["sha256"]:
        raise LedgerError(
            f"registry entry {ref} was altered: its content hashes to {digest}, "
            f"not to the published {row['sha256']}"
        )
    try:
        model = parse_model(json.loads(content), f"registry entry {ref}")
    except (GovernanceError, ValueError) as exc:
        raise LedgerError(f"registry entry {ref} no longer loads: {exc}") from None
    if model.ref != ref:
        raise LedgerError(f"registry entry {ref} holds {model.ref}: the row was altered")
    return PublishedModel(
        model, digest, _published_at(ref, row["published_at"]), row["published_by"]
    )


def _published_at(ref: str, value: object) -> datetime:
    """``published_at`` as a UTC datetime: PostgreSQL's driver gives a datetime, SQLite's
    text is read here as SQLAlchemy's SQLite ``DateTime`` reads it (``fromisoformat``), so
    that both readers parse it alike and a row altered to hold no time is said to be one."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a time: said below
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise LedgerError(
            f"registry entry {ref} was altered: its published_at {value!r} is no time"
        )
    return utc(value)


def in_order(entries: Iterable[PublishedModel]) -> list[PublishedModel]:
    """``entries`` by name, then version (numerically: 1.2 before 1.10)."""
    return sorted(
        entries,
        key=lambda e: (e.model.name, tuple(int(p) for p in e.model.version.split("."))),
    )
