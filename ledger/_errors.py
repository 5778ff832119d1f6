"""Errors raised by the ledger."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every ledger error."""


class LedgerConflict(LedgerError):
    """An event with this (project_id, seq) is already stored with different content."""


class LedgerGap(LedgerError):
    """An event's seq is not the project's last seq + 1."""


class ModelRefused(LedgerError):
    """The registry refuses to publish a model: a reserved name, or a published name@version
    with other content."""


class LedgerMissing(LedgerError):
    """There is no ledger at the URL: no database file, or a database without its tables."""
