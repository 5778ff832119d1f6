"""The ledger's schema revisions, known without Alembic, and what a ledger at another
revision is told: one check for the SQLAlchemy ledger and for the registry reader."""

from __future__ import annotations

from collections.abc import Sequence

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


def only_revision(shown: str, recorded: Sequence[str]) -> str | None:
    """The one revision Alembic recorded for the ledger at ``shown`` (None: none, an empty
    ledger); ``LedgerSchemaError`` when its version table holds several (Alembic records one
    for a ledger whose history never branches: a copied or altered table)."""
    if len(recorded) > 1:
        raise LedgerSchemaError(
            f"the ledger at {shown} records several migrations in {VERSION_TABLE} "
            f"({', '.join(sorted(map(str, recorded)))}): it is not a phasegate ledger, "
            "or that table was altered"
        )
    return recorded[0] if recorded else None


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
