"""Persistence of the audit trail, the task inbox and the model registry: hash-chained,
append-only, idempotent."""

from governance.audit import ChainBreak, VerifyReport
from ledger._errors import LedgerConflict, LedgerError, LedgerGap, LedgerMissing, ModelRefused
from ledger._ledger import Ledger, TaskClosure
from ledger._registry import PublishedModel, check_publishable

__all__ = [
    "ChainBreak",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "LedgerGap",
    "LedgerMissing",
    "ModelRefused",
    "PublishedModel",
    "TaskClosure",
    "VerifyReport",
    "check_publishable",
]
