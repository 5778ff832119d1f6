"""The ledger from a command: to read (creates nothing, migrates nothing) or to write (created
and migrated if need be). A database error is one line naming the ledger, and exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ledger import Ledger, LedgerError, LedgerMissing
from phasegate.cli._common import fail
from phasegate.models import Registry
from phasegate.settings import Settings


def shown_url(s: Settings) -> str:
    """The ledger's URL as printed: its password hidden."""
    return sa.make_url(s.effective_ledger_url()).render_as_string()


def ledger_failure(s: Settings, exc: Exception) -> Exception:
    if isinstance(exc, LedgerError):
        return fail(f"ledger {shown_url(s)}: {exc}")
    return fail(f"ledger {shown_url(s)}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


@contextmanager
def reading(s: Settings) -> Iterator[Ledger | None]:
    """The ledger of ``s`` to read from; None when there is none there."""
    try:
        ledger: Ledger | None = Ledger.existing(s.effective_ledger_url())
    except LedgerMissing:
        ledger = None
    except (SQLAlchemyError, LedgerError) as exc:
        raise ledger_failure(s, exc) from None
    try:
        yield ledger
    except (SQLAlchemyError, LedgerError) as exc:
        raise ledger_failure(s, exc) from None
    finally:
        if ledger is not None:
            ledger.close()


@contextmanager
def existing(s: Settings) -> Iterator[Ledger]:
    """The ledger of ``s`` to read from; exit 1 saying so when there is none there."""
    with reading(s) as ledger:
        if ledger is None:
            raise fail(
                f"no ledger at {shown_url(s)}: check --ledger-url / --data-dir "
                "(`phasegate dev` and `phasegate worker` create it)"
            )
        yield ledger


@contextmanager
def writing(s: Settings) -> Iterator[Ledger]:
    """The ledger of ``s``, created and migrated if need be."""
    try:
        with Ledger(s.effective_ledger_url()) as ledger:
            ledger.migrate()
            yield ledger
    except (SQLAlchemyError, LedgerError) as exc:
        raise ledger_failure(s, exc) from None


@contextmanager
def registry(s: Settings) -> Iterator[Registry]:
    """The models published in the ledger of ``s`` (none when there is no ledger)."""
    with reading(s) as ledger:
        yield Registry(ledger, shown_url(s))
