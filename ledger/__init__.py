"""Persistence of the audit trail and the task inbox: hash-chained, append-only, idempotent."""

from governance.audit import ChainBreak, VerifyReport
from ledger._errors import LedgerAhead, LedgerConflict, LedgerError, LedgerGap
from ledger._ledger import ChainHead, DueShift, Ledger, TaskChange, TaskClosure

__all__ = [
    "ChainBreak",
    "ChainHead",
    "DueShift",
    "Ledger",
    "LedgerAhead",
    "LedgerConflict",
    "LedgerError",
    "LedgerGap",
    "TaskChange",
    "TaskClosure",
    "VerifyReport",
]
