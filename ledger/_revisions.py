"""The ledger's schema revisions, known without Alembic, and what a ledger at another
revision is told: one check for the SQLAlchemy ledger and for the registry reader."""

from __future__ import annotations

from ledger._errors import LedgerMissing, LedgerSchemaError

VERSION_TABLE = "ledger_alembic_version"
"""Where Alembic records the ledger's schema revision."""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
"""Every migration in ``migrations/versions``, oldest first (a test holds this to Alembic's
history: a new migration is added here too)."""
HEAD = REVISIONS[-1]
"""This code's newest migration."""


def no_file(shown: str) -> LedgerMissing:
    return LedgerMissing(f"no ledger at {shown}: no such database file")


def no_tables(shown: str) -> LedgerMissing:
    return LedgerMissing(f"no ledger at {shown}: the database holds no ledger tables")


def check_revision(
    shown: str, current: str | None, *, head: str | None, known: bool, upgradable: bool
) -> None:
    """``LedgerSchemaError`` unless the ledger at ``shown``, at revision ``current`` (None:
    empty), is at ``head``; ``known``: ``current`` is one of this code's revisions. With
    ``upgradable`` (for a migration) an older revision passes, an unknown one does not."""
    if current == head:
        return
    where = f"the ledger at {shown}"
    if current is not None and not known:
        raise LedgerSchemaError(
            f"{where} is at migration {current!r}, which this phasegate (newest: {head!r}) "
            "does not know: a newer phasegate wrote it (upgrade phasegate), or it is not "
            "a phasegate ledger"
        )
    if upgradable:
        return
    if current is None:
        raise LedgerSchemaError(
            f"{where} is empty: nothing was ever recorded there (check --data-dir or "
            "--ledger-url; `phasegate dev` or `phasegate worker` creates the ledger)"
        )
    raise LedgerSchemaError(
        f"{where} is at migration {current!r}, older than this phasegate's {head!r}: "
        "start `phasegate worker` or `phasegate dev` once to upgrade it"
    )
