"""Errors raised by the ledger."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every ledger error."""


class LedgerConflict(LedgerError):
    """An event with this (project_id, seq) is already stored with different content."""


class LedgerGap(LedgerError):
    """An event's seq is not the project's last seq + 1."""


class LedgerAhead(LedgerError):
    """The chain goes on past the writer's last known event with events the writer does not
    have (a Temporal reset rewound the workflow): ``seq``/``hash`` are the chain's head."""

    def __init__(self, message: str, seq: int, hash: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.hash = hash


class ModelRefused(LedgerError):
    """The registry refuses to publish a model: a reserved name, or a published name@version
    with other content."""


class LedgerMissing(LedgerError):
    """There is no ledger at the URL: no database file, or a database without its tables."""


class LedgerSchemaError(LedgerError):
    """The ledger's schema is not one this code can use (empty, older for a reader, unknown)."""
