"""Persistence of the audit trail, the task inbox and the model registry: hash-chained,
append-only, idempotent."""

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
from ledger._registry import PublishedModel, check_publishable
from ledger._report_check import ReportProblem, VerifyReport

__all__ = [
    "ChainBreak",
    "ChainHead",
    "DueShift",
    "Ledger",
    "LedgerAhead",
    "LedgerConflict",
    "LedgerError",
    "LedgerGap",
    "LedgerMissing",
    "LedgerSchemaError",
    "ModelRefused",
    "PublishedModel",
    "ReportProblem",
    "TaskChange",
    "TaskClosure",
    "VerifyReport",
    "check_publishable",
]
