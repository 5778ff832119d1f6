"""Persistence of the audit trail, the task inbox, the model registry, the API tokens and the
dashboard's sessions: hash-chained, append-only, idempotent."""

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
from ledger._registry import PublishedModel, check_publishable
from ledger._report_check import ReportProblem, VerifyReport
from ledger._tokens import TOKEN_PREFIX, ApiToken, TokenState
from ledger._tokens import check_request as check_token_request
from ledger._web_sessions import WebSession

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
    "ReportProblem",
    "TaskChange",
    "TaskClosure",
    "TokenState",
    "VerifyReport",
    "WebSession",
    "check_publishable",
    "check_token_request",
]
