"""Persistence of the audit trail, the task inbox, the model registry, the API tokens and the
dashboard's sessions: hash-chained, append-only, idempotent.

The names below are imported from their modules when first used (a module ``__getattr__``,
PEP 562), not when ``ledger`` is: a command that only reads the registry of a SQLite ledger
(``RegistryFile``) starts without SQLAlchemy and Alembic."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.audit import ChainBreak
    from ledger._errors import (
        LedgerAhead,
        LedgerConflict,
        LedgerError,
        LedgerGap,
        LedgerMissing,
        LedgerSchemaError,
        ModelRefused,
    )
    from ledger._ledger import ChainHead, DueShift, Ledger, TaskChange, TaskClosure
    from ledger._outbox import Delivery, DeliveryMissing, DeliveryStatus, Notification, Outgoing
    from ledger._published import PublishedModel, check_publishable
    from ledger._registry_file import RegistryFile
    from ledger._report_check import ReportProblem, VerifyReport
    from ledger._sqlite import plain_sqlite_file, sqlite_url
    from ledger._tokens import TOKEN_PREFIX, ApiToken, TokenState
    from ledger._tokens import check_request as check_token_request
    from ledger._web_sessions import WebSession

_HOME: dict[str, tuple[str, ...]] = {
    "governance.audit": ("ChainBreak",),
    "ledger._errors": (
        "LedgerAhead",
        "LedgerConflict",
        "LedgerError",
        "LedgerGap",
        "LedgerMissing",
        "LedgerSchemaError",
        "ModelRefused",
    ),
    "ledger._ledger": ("ChainHead", "DueShift", "Ledger", "TaskChange", "TaskClosure"),
    "ledger._outbox": ("Delivery", "DeliveryMissing", "DeliveryStatus", "Notification", "Outgoing"),
    "ledger._published": ("PublishedModel", "check_publishable"),
    "ledger._registry_file": ("RegistryFile",),
    "ledger._report_check": ("ReportProblem", "VerifyReport"),
    "ledger._sqlite": ("plain_sqlite_file", "sqlite_url"),
    "ledger._tokens": ("TOKEN_PREFIX", "ApiToken", "TokenState", "check_token_request"),
    "ledger._web_sessions": ("WebSession",),
}
"""Each module of the face and the names it gives."""
_WHERE = {name: module for module, names in _HOME.items() for name in names}
_RENAMED = {"check_token_request": "check_request"}
"""A name the face gives under another name than its module's."""

__all__ = [
    "TOKEN_PREFIX",
    "ApiToken",
    "ChainBreak",
    "ChainHead",
    "Delivery",
    "DeliveryMissing",
    "DeliveryStatus",
    "DueShift",
    "Ledger",
    "LedgerAhead",
    "LedgerConflict",
    "LedgerError",
    "LedgerGap",
    "LedgerMissing",
    "LedgerSchemaError",
    "ModelRefused",
    "Notification",
    "Outgoing",
    "PublishedModel",
    "RegistryFile",
    "ReportProblem",
    "TaskChange",
    "TaskClosure",
    "TokenState",
    "VerifyReport",
    "WebSession",
    "check_publishable",
    "check_token_request",
    "plain_sqlite_file",
    "sqlite_url",
]


if not TYPE_CHECKING:  # for type checkers, the names are the ones imported above

    def __getattr__(name: str) -> Any:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
        globals()[name] = value  # found here directly from now on
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
