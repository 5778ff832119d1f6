"""The ledger from a command: to read (creates nothing, migrates nothing) or to write (created
and migrated if need be). A database error is one line naming the ledger, and exit 1."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TypeVar

from phasegate.cli._common import fail
from phasegate.models import Registry
from phasegate.settings import Settings

if TYPE_CHECKING:
    from ledger import Ledger

# SQLAlchemy and the ledger are imported only once a ledger is there to open: `model list`
# with no ledger (the usual first run) starts without them, and so does reading the registry
# of a SQLite ledger (`registry`: sqlite3 alone).


class _Closing(Protocol):
    def close(self) -> None: ...


_Opened = TypeVar("_Opened", bound=_Closing)


def shown_url(s: Settings) -> str:
    """The ledger's URL as printed: its password hidden."""
    if s.ledger_url is None:  # the default SQLite file: no password to hide
        return s.effective_ledger_url()
    from ledger import plain_sqlite_file, sqlite_url

    if (path := plain_sqlite_file(s.ledger_url)) is not None:  # as SQLAlchemy renders it
        return sqlite_url(str(path))
    import sqlalchemy as sa

    return sa.make_url(s.effective_ledger_url()).render_as_string()


def ledger_failure(s: Settings, exc: Exception) -> Exception:
    from ledger import LedgerError

    if isinstance(exc, LedgerError):
        return fail(f"ledger {shown_url(s)}: {exc}")
    name, line = exc.__class__.__name__, (str(exc).splitlines() or [""])[0]
    if isinstance(exc, sqlite3.Error):  # read without SQLAlchemy: said as SQLAlchemy says it
        return fail(f"ledger {shown_url(s)}: {name}: (sqlite3.{name}) {line}")
    return fail(f"ledger {shown_url(s)}: {name}: {line}")


@contextmanager
def _opened(
    s: Settings, open_at: Callable[[str], _Opened], errors: tuple[type[Exception], ...]
) -> Iterator[_Opened | None]:
    """What ``open_at`` opens at the ledger URL of ``s``, closed on the way out; None when
    there is no ledger there (``LedgerMissing``). ``errors``, from opening it or from the
    body, are one line naming the ledger (``ledger_failure``)."""
    from ledger import LedgerMissing

    try:
        opened: _Opened | None = open_at(s.effective_ledger_url())
    except LedgerMissing:
        opened = None
    except errors as exc:
        raise ledger_failure(s, exc) from None
    try:
        yield opened
    except errors as exc:
        raise ledger_failure(s, exc) from None
    finally:
        if opened is not None:
            opened.close()


@contextmanager
def reading(s: Settings) -> Iterator[Ledger | None]:
    """The ledger of ``s`` to read from; None when there is none there."""
    if s.ledger_url is None and not (s.data_dir / "ledger.db").is_file():
        # What ``Ledger.existing`` would find, without importing SQLAlchemy to find it.
        yield None
        return
    from sqlalchemy.exc import SQLAlchemyError

    from ledger import Ledger, LedgerError

    with _opened(s, Ledger.existing, (SQLAlchemyError, LedgerError)) as ledger:
        yield ledger


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
    """The models published in the ledger of ``s`` (none when there is no ledger), for the
    commands that only read them: a SQLite file's registry is read with sqlite3 alone
    (``RegistryFile``, ~0.3 s less to start than SQLAlchemy and Alembic), any other
    ledger's through ``Ledger``."""
    from ledger import LedgerError, RegistryFile, plain_sqlite_file

    if plain_sqlite_file(s.effective_ledger_url()) is None:
        with reading(s) as ledger:
            yield Registry(ledger, shown_url(s))
        return
    with _opened(s, RegistryFile.existing, (sqlite3.Error, LedgerError)) as found:
        yield Registry(found, shown_url(s))
