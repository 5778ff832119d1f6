"""A registry entry as both readers give it: the SQLAlchemy ledger and the SQLite registry
reader check each row here, the same way. Imports no SQLAlchemy."""

from __future__ import annotations

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
    """The entry a row of the registry's table holds (``published_at`` a naive UTC datetime,
    as SQLite gives it back), its content checked against its hash and its name@version;
    ``LedgerError`` when the row was altered."""
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
    return PublishedModel(model, digest, utc(row["published_at"]), row["published_by"])


def in_order(entries: Iterable[PublishedModel]) -> list[PublishedModel]:
    """``entries`` by name, then version (numerically: 1.2 before 1.10)."""
    return sorted(
        entries,
        key=lambda e: (e.model.name, tuple(int(p) for p in e.model.version.split("."))),
    )
