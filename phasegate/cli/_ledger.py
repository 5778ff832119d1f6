"""The ledger from a command: to read (creates nothing, migrates nothing) or to write (created
and migrated if need be). A database error is one line naming the ledger, and exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from phasegate.cli._common import fail
from phasegate.models import Registry
from phasegate.settings import Settings

if TYPE_CHECKING:
    from ledger import Ledger

# SQLAlchemy and the ledger are imported only once a ledger is there to open: `model list`
# with no ledger (the usual first run) starts without them.


def shown_url(s: Settings) -> str:
    """The ledger's URL as printed: its password hidden."""
    if s.ledger_url is None:  # the default SQLite file: no password to hide
        return s.effective_ledger_url()
    import sqlalchemy as sa

    return sa.make_url(s.effective_ledger_url()).render_as_string()


def ledger_failure(s: Settings, exc: Exception) -> Exception:
    from ledger import LedgerError

    if isinstance(exc, LedgerError):
        return fail(f"ledger {shown_url(s)}: {exc}")
    return fail(f"ledger {shown_url(s)}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


@contextmanager
def reading(s: Settings) -> Iterator[Ledger | None]:
    """The ledger of ``s`` to read from; None when there is none there."""
    if s.ledger_url is None and not (s.data_dir / "ledger.db").is_file():
        # What ``Ledger.existing`` would find, without importing SQLAlchemy to find it.
        yield None
        return
    from sqlalchemy.exc import SQLAlchemyError

    from ledger import Ledger, LedgerError, LedgerMissing

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
    from sqlalchemy.exc import SQLAlchemyError

    from ledger import Ledger, LedgerError

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
