"""Persistence of the audit trail and the task inbox: hash-chained, append-only, idempotent."""

from governance.audit import ChainBreak, VerifyReport
from ledger._errors import LedgerConflict, LedgerError, LedgerGap, LedgerSchemaError
from ledger._ledger import Ledger, TaskClosure

__all__ = [
    "ChainBreak",
    "Ledger",
    "LedgerConflict",
    "LedgerError",
    "LedgerGap",
    "LedgerSchemaError",
    "TaskClosure",
    "VerifyReport",
]
