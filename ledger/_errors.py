"""Errors raised by the ledger."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every ledger error."""


class LedgerConflict(LedgerError):
    """An event with this (project_id, seq) is already stored with different content."""


class LedgerGap(LedgerError):
    """An event's seq is not the project's last seq + 1."""


class LedgerSchemaError(LedgerError):
    """The ledger's schema is not one this code can use (empty, older for a reader, unknown)."""
