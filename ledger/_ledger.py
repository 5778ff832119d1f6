"""The ledger: a hash-chained, append-only audit trail and the task inbox, on SQLAlchemy Core.

Sync API: activities call it from a thread pool. One `Ledger` per process is enough; it is
thread-safe (the engine pools connections).
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TextIO

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from governance import GovernanceModel
from governance.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventIn,
    ChainBreak,
    GateTaskIn,
    Report,
    ReportKind,
    Task,
    TaskStatus,
    canonical_time,
    event_hash,
)
from ledger import _outbox, _registry, _report_check, _reports, _tokens, _web_sessions
from ledger._engine import WRITE, create_engine, is_memory_sqlite, sqlite_file
from ledger._errors import (
    LedgerAhead,
    LedgerConflict,
    LedgerError,
    LedgerGap,
)
from ledger._outbox import Delivery, DeliveryStatus, Notification, Outgoing
from ledger._published import PublishedModel
from ledger._report_check import VerifyReport, Vouch
from ledger._revisions import VERSION_TABLE, check_revision, no_file, no_tables, only_revision
from ledger._schema import audit_events, ledger_meta, tasks
from ledger._time import utc as _utc
from ledger._tokens import ApiToken
from ledger._web_sessions import WebSession

__all__ = ["VERSION_TABLE", "ChainHead", "DueShift", "Ledger", "TaskChange"]

ClosedStatus = Literal["done", "cancelled", "withdrawn"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATE_LOCK_KEY = 0x70686173  # "phas": pg_advisory_xact_lock key serialising migrations
MAX_ROW_ID = 2**31 - 1
"""The largest row id of an integer primary key on every supported database (PostgreSQL's
INTEGER; SQLite's holds more)."""
_ATTEMPTS = 5  # an IntegrityError means another writer won the race: re-read and decide again
_EVENT_FIELDS = frozenset(AuditEventIn.model_fields)
_TASK_FIELDS = frozenset(GateTaskIn.model_fields)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _known_revision(script: ScriptDirectory, revision: str) -> bool:
    """``revision`` is the id of one of this code's migrations: not a symbol Alembic would
    resolve (``head``, ``0006@head``) nor a prefix of an id, which Alembic never records."""
    try:
        found = script.get_revision(revision)
    except (CommandError, RevisionError):
        return False
    return found is not None and found.revision == revision


def _event_from_row(row: sa.RowMapping) -> AuditEvent:
    data = {name: row[name] for name in AuditEvent.model_fields}
    data["at"] = _utc(data["at"])
    return AuditEvent.model_validate(data)


def _task_from_row(row: sa.RowMapping) -> Task:
    data = {name: row[name] for name in Task.model_fields}
    for name in ("due", "created_at", "closed_at"):
        data[name] = _utc(data[name])
    return Task.model_validate(data)


def _differing_fields(a: AuditEventIn, b: AuditEventIn) -> list[str]:
    da = a.model_dump(mode="json", include=set(_EVENT_FIELDS))
    db = b.model_dump(mode="json", include=set(_EVENT_FIELDS))
    da["at"], db["at"] = canonical_time(a.at), canonical_time(b.at)
    return sorted(k for k in da if json.dumps(da[k]) != json.dumps(db[k]))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a text starting with ``=``, ``+``, ``-``, ``@``,
    tab or carriage return (a formula to Excel, LibreOffice, Google Sheets) gets a leading
    ``'``, and so does one already starting with ``'``. Reversible: to recover the stored text
    (e.g. to recompute the hash chain from an export), drop the first character of every cell
    that starts with ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _export_row(event: AuditEvent) -> dict[str, Any]:
    row = event.model_dump(mode="json")
    row["at"] = canonical_time(event.at)
    return row


class Ledger:
    """The audit trail and task inbox in one SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        """``read_only``: for readers; a SQLite file is neither created nor changed."""
        self.url = url
        self._engine = create_engine(url, read_only=read_only)
        self.display_url = self._engine.url.render_as_string(hide_password=True)
        # An in-memory SQLite database is one shared connection: serialise its users.
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if is_memory_sqlite(self._engine.url) else nullcontext()
        )

    @classmethod
    def existing(cls, url: str) -> Self:
        """The ledger at ``url``, to read from; ``LedgerMissing`` when there is none there (no
        database file, or a database without a ledger's tables), ``LedgerSchemaError`` when
        it is at another migration than this code's. Creates nothing, migrates nothing, and
        reads a SQLite file in a directory it may not write to."""
        parsed = sa.make_url(url)
        shown = parsed.render_as_string()
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_file(parsed)
            if path is None or not path.is_file():
                raise no_file(shown)
        ledger = cls(url, read_only=True)
        try:
            with ledger._transaction() as conn:
                has_version = sa.inspect(conn).has_table(VERSION_TABLE)
            if not has_version:
                raise no_tables(shown)
            ledger.check_schema()
        except BaseException:
            ledger.close()
            raise
        return ledger

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[sa.Connection]:
        with self._lock, self._engine.connect() as conn:
            if write:
                conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision; idempotent, safe from many processes.
        A ledger at a migration this code does not know is refused (``LedgerSchemaError``)."""
        config = _alembic_config()
        with self._transaction(write=True) as conn:
            # SQLite: BEGIN IMMEDIATE already holds the database's write lock.
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATE_LOCK_KEY)))
            self._check_schema(conn, config, upgradable=True)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def check_schema(self) -> None:
        """For readers, which never migrate: raise ``LedgerSchemaError`` unless the ledger is
        at this code's newest migration (saying whether it is empty, older or unknown)."""
        with self._transaction() as conn:
            self._check_schema(conn, _alembic_config(), upgradable=False)

    def _check_schema(self, conn: sa.Connection, config: Config, *, upgradable: bool) -> None:
        script = ScriptDirectory.from_config(config)
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        shown = sa.make_url(self.url).render_as_string()
        # get_current_revision() would raise Alembic's CommandError for several rows
        current = only_revision(shown, context.get_current_heads())
        check_revision(
            shown,
            current,
            head=script.get_current_head(),
            known=current is not None and _known_revision(script, current),
            upgradable=upgradable,
        )

    def ledger_id(self) -> str:
        """This ledger's identity (a random hex id made when it was created). Projects pin it,
        so a worker on another ledger is refused rather than splitting their chains."""
        with self._transaction() as conn:
            value = conn.execute(
                sa.select(ledger_meta.c.value).where(ledger_meta.c.key == "ledger_id")
            ).scalar()
        if value is None:
            raise LedgerError(f"the ledger at {self.url} has no identity: run migrate")
        return str(value)

    # -- audit trail ------------------------------------------------------------------------

    def append(self, event: AuditEventIn) -> AuditEvent:
        """Store `event` as the next link of its project's chain.

        Idempotent on (project_id, seq): the same event again returns the stored one. Raises
        `LedgerConflict` if that seq holds different content, `LedgerGap` if seq is not
        last_seq + 1.
        """
        for _ in range(_ATTEMPTS):
            try:
                with self._transaction(write=True) as conn:
                    return self._append(conn, event)
            except IntegrityError:
                continue  # a concurrent writer stored this (project_id, seq) first
        raise LedgerError(
            f"could not append {event.project_id}#{event.seq}: "
            f"{_ATTEMPTS} attempts lost a race on the same seq"
        )

    def _append(self, conn: sa.Connection, event: AuditEventIn) -> AuditEvent:
        # Read the chain's end first: under READ COMMITTED each statement sees the latest
        # commits, so a row for event.seq that a racing writer commits after this read would
        # otherwise look like a gap. Rows are never deleted, so last_seq >= seq means it exists.
        head = self._head(conn, event.project_id)
        last_seq, prev_hash = head.seq, head.hash
        if event.seq <= last_seq:
            return self._already_stored(conn, event)
        if event.seq != last_seq + 1:
            raise LedgerGap(
                f"audit event {event.project_id}#{event.seq} is out of order: "
                f"expected seq {last_seq + 1} (last recorded seq is {last_seq})"
            )
        content = event.model_dump(mode="python", include=set(_EVENT_FIELDS))
        digest = event_hash(event, prev_hash)
        conn.execute(
            sa.insert(audit_events).values(
                {**content, "kind": event.kind.value, "prev_hash": prev_hash, "hash": digest}
            )
        )
        return AuditEvent.model_validate({**content, "prev_hash": prev_hash, "hash": digest})

    def _already_stored(self, conn: sa.Connection, event: AuditEventIn) -> AuditEvent:
        """The stored event at event.seq if it has the same content; else LedgerConflict."""
        t = audit_events.c
        row = (
            conn.execute(
                sa.select(audit_events).where(t.project_id == event.project_id, t.seq == event.seq)
            )
            .mappings()
            .first()
        )
        if row is None:  # only if rows were deleted behind the ledger's back
            raise LedgerError(
                f"audit event {event.project_id}#{event.seq} is missing from a stored chain; "
                "run verify"
            )
        existing = _event_from_row(row)
        if event_hash(event, existing.prev_hash) == event_hash(existing, existing.prev_hash):
            return existing
        raise LedgerConflict(
            f"audit event {event.project_id}#{event.seq} is already recorded with different "
            f"content (differs in: {', '.join(_differing_fields(event, existing))}); "
            "the ledger is append-only"
        )

    def _event_rows(
        self, conn: sa.Connection, project_id: str | None, *, iterations: bool = False
    ) -> Iterator[sa.RowMapping]:
        """The events of every chain, or of ``project_id``'s (with ``iterations``, also the
        chains of its iterations, ``<project>/it-<n>``), by chain, then seq."""
        t = audit_events.c
        query = sa.select(audit_events).order_by(t.project_id, t.seq)
        if project_id is not None:
            own = t.project_id == project_id
            if iterations:  # a project id is a slug: no LIKE wildcard in it
                own = own | t.project_id.like(f"{project_id}/it-%")
            query = query.where(own)
        yield from conn.execution_options(yield_per=500).execute(query).mappings()

    def events(self, project_id: str | None = None) -> list[AuditEvent]:
        """Stored events ordered by project, then seq."""
        with self._transaction() as conn:
            return [_event_from_row(row) for row in self._event_rows(conn, project_id)]

    def last_seq(self, project_id: str) -> int:
        """The highest seq recorded for the project; 0 when it has none."""
        t = audit_events.c
        with self._transaction() as conn:
            value = conn.execute(
                sa.select(sa.func.max(t.seq)).where(t.project_id == project_id)
            ).scalar()
        return int(value or 0)

    def unfinished_projects(self, project_id: str | None = None) -> list[str]:
        """Chains with no terminal event yet: a project's (closed or cancelled), or one of its
        iterations' (``<project>/it-<n>``, which ends with iteration_ended)."""
        t = audit_events.c
        terminal = sa.case((t.kind.in_(["closed", "cancelled", "iteration_ended"]), 1), else_=0)
        query = (
            sa.select(t.project_id)
            .group_by(t.project_id)
            .having(sa.func.sum(terminal) == 0)
            .order_by(t.project_id)
        )
        if project_id is not None:
            query = query.where(t.project_id == project_id)
        with self._transaction() as conn:
            return [str(row[0]) for row in conn.execute(query)]

    def verify(self, project_id: str | None = None, *, iterations: bool = False) -> VerifyReport:
        """Recompute every chain from the raw columns; report each chain's first broken event.
        ``projects`` counts projects, ``chains`` their chains (a project's, and one per
        iteration it ran); with ``project_id`` and ``iterations``, that project's chains.

        `events_checked` counts the events examined (a chain is not read past its first break).
        A chain cut off after its last event cannot be detected from the chain alone.

        Also checks the projects' stored reports against the ``report_issued`` events of
        their chains (see ledger/_report_check.py): ``reports_checked`` counts them,
        ``report_problems`` names each one that does not verify; ``ok`` needs both clean.
        """
        broken: list[ChainBreak] = []
        chains = checked = 0
        owners: set[str] = set()
        vouched: dict[str, list[Vouch]] = {}
        current: str | None = None
        expected_seq, prev_hash, skip = 1, GENESIS_HASH, False
        with self._transaction() as conn:
            for row in self._event_rows(conn, project_id, iterations=iterations):
                if row["project_id"] != current:
                    current, chains = row["project_id"], chains + 1
                    owners.add(current.partition("/")[0])
                    expected_seq, prev_hash, skip = 1, GENESIS_HASH, False
                if row["kind"] == "report_issued" and (v := _report_check.vouch_of(row)):
                    # Past a break too: the break fails the chain; this names the reports.
                    vouched.setdefault(row["project_id"], []).append(v)
                if skip:
                    continue
                checked += 1
                reason, digest = _check_link(row, expected_seq, prev_hash)
                if reason is not None:
                    seq = min(expected_seq, row["seq"])
                    broken.append(ChainBreak(project_id=row["project_id"], seq=seq, reason=reason))
                    skip = True
                    continue
                expected_seq, prev_hash = expected_seq + 1, digest
            reports_checked, problems = _report_check.check(
                conn, project_id, vouched, iterations=iterations
            )
        return VerifyReport(
            ok=not broken and not problems,
            projects=len(owners),
            chains=chains,
            events_checked=checked,
            broken=broken,
            reports_checked=reports_checked,
            report_problems=problems,
        )

    def export(
        self,
        out: TextIO,
        fmt: Literal["jsonl", "csv"] = "jsonl",
        project_id: str | None = None,
        *,
        iterations: bool = False,
    ) -> int:
        """Write the events to `out` (open CSV files with newline=""); return how many.

        `at` is UTC ISO-8601 with microseconds; in CSV, `payload` is one JSON text column and
        a missing value is an empty cell. CSV cells are neutralised against spreadsheet
        formulas (see `csv_cell`); the stored events and their hashes are unchanged.
        """
        count = 0
        writer: csv.DictWriter[str] | None = None
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=list(AuditEvent.model_fields))
            writer.writeheader()
        elif fmt != "jsonl":
            raise ValueError(f"unknown export format {fmt!r}: use 'jsonl' or 'csv'")
        with self._transaction() as conn:
            for raw in self._event_rows(conn, project_id, iterations=iterations):
                row = _export_row(_event_from_row(raw))
                if writer is None:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    row["payload"] = json.dumps(row["payload"], sort_keys=True, ensure_ascii=False)
                    writer.writerow({k: csv_cell(v) for k, v in row.items()})
                count += 1
        return count

    # -- model registry -------------------------------------------------------------------------

    def publish_model(
        self, model: GovernanceModel, published_by: str, *, at: datetime | None = None
    ) -> tuple[PublishedModel, bool]:
        """Publish ``model`` as name@version: ``(entry, True)`` when new, ``(the stored entry,
        False)`` when the same content is already published. ``ModelRefused`` for a built-in's
        name or a published name@version with other content."""
        at = at or datetime.now(UTC)
        for _ in range(_ATTEMPTS):
            try:
                with self._transaction(write=True) as conn:
                    return _registry.publish(conn, model, published_by, at)
            except IntegrityError:
                continue  # a concurrent publisher stored this name@version first: compare
        raise LedgerError(f"could not publish {model.ref}: {_ATTEMPTS} attempts lost a race")

    def published_model(self, name: str, version: str) -> PublishedModel | None:
        """The published name@version, or None."""
        with self._transaction() as conn:
            return _registry.get(conn, name, version)

    def published_models(self) -> list[PublishedModel]:
        """Every published model, by name and version."""
        with self._transaction() as conn:
            return _registry.published(conn)

    # -- reports ----------------------------------------------------------------------------------

    def reports(self, project_id: str, kind: ReportKind | None = None) -> list[Report]:
        """The reports the project issued (of ``kind``, or every kind), by kind, then number."""
        with self._transaction() as conn:
            return _reports.listed(conn, project_id, kind)

    def report(self, project_id: str, kind: ReportKind, number: int | None = None) -> Report | None:
        """The project's ``kind`` report ``number`` (None: its latest), or None."""
        with self._transaction() as conn:
            if number is None:
                return _reports.latest(conn, project_id, kind)
            return _reports.get(conn, project_id, kind, number)

    # -- personal API tokens ------------------------------------------------------------------

    def create_token(
        self,
        person: str,
        name: str | None = None,
        expires_at: datetime | None = None,
        *,
        now: datetime | None = None,
    ) -> tuple[str, str]:
        """A new API token of ``person`` (a person id): ``(its public id, the token)``. Only
        the token's SHA-256 is stored: show the token once, it cannot be read back.
        ValueError for a person that is no person id, a blank name or a past expiry."""
        now = now or datetime.now(UTC)
        for _ in range(_ATTEMPTS):
            try:
                with self._transaction(write=True) as conn:
                    return _tokens.create(conn, person, name, expires_at, now)
            except IntegrityError:
                continue  # the random id is taken (once in 2**48): draw another
        raise LedgerError(f"could not create a token for {person}: {_ATTEMPTS} ids taken")

    def tokens(self, person: str | None = None) -> list[ApiToken]:
        """Every API token (of ``person``), oldest first; never a secret nor its hash."""
        with self._transaction() as conn:
            return _tokens.listed(conn, person)

    def token(self, token_id: str) -> ApiToken | None:
        """The API token with this public id, or None."""
        found = _tokens.token_id_of(token_id)
        if found is None:
            return None
        with self._transaction() as conn:
            return _tokens.get(conn, found)

    def revoke_token(self, token_id: str, *, now: datetime | None = None) -> ApiToken | None:
        """Revoke a token (by its public id, or the token itself); the token as it is now
        (revoked; one revoked before keeps its first ``revoked_at``), None when there is no
        such token. The dashboard sessions opened with it end too."""
        now = now or datetime.now(UTC)
        with self._transaction(write=True) as conn:
            found = _tokens.revoke(conn, token_id, now)
            if found is not None:
                _web_sessions.end_for_token(conn, found.id, now)
            return found

    def revoke_person(self, person: str, *, now: datetime | None = None) -> int:
        """Revoke every token of ``person``, and end the dashboard sessions opened with them;
        how many tokens were not revoked yet."""
        now = now or datetime.now(UTC)
        with self._transaction(write=True) as conn:
            count = _tokens.revoke_person(conn, person, now)
            _web_sessions.end_for_person_tokens(conn, person, now)
            return count

    def person_for(self, token: str, now: datetime) -> str | None:
        """The person whose active token ``token`` is; None for a token unknown, revoked,
        expired at ``now``, or not a token at all (compared in constant time)."""
        with self._transaction() as conn:
            return _tokens.person_for(conn, token, now)

    # -- dashboard sessions (see ledger/_web_sessions.py) ------------------------------------

    def open_web_session(
        self,
        person: str,
        expires_at: datetime,
        *,
        token_id: str | None = None,
        subject: str | None = None,
        now: datetime | None = None,
    ) -> str:
        """Open a dashboard session of ``person``, signed in with the API token ``token_id``
        or as the OpenID Connect ``subject`` (exactly one), until ``expires_at``; its id (256
        random bits; only its SHA-256 is stored). Deletes the rows of sessions ended or
        expired more than a day ago. ValueError for bad input (nothing stored)."""
        with self._transaction(write=True) as conn:
            return _web_sessions.open_(
                conn, person, token_id, subject, expires_at, now or datetime.now(UTC)
            )

    def web_session(self, session_id: str, now: datetime | None = None) -> WebSession | None:
        """The dashboard session ``session_id`` if it is active: not ended, not expired, and
        its API token (if it has one) still an active token of its person; else None."""
        with self._transaction() as conn:
            return _web_sessions.active(conn, session_id, now or datetime.now(UTC))

    def end_web_session(self, session_id: str, *, now: datetime | None = None) -> bool:
        """End (sign out) the dashboard session ``session_id``; whether it was open."""
        with self._transaction(write=True) as conn:
            return _web_sessions.end(conn, session_id, now or datetime.now(UTC))

    # -- notification outbox (see ledger/_outbox.py) -------------------------------------------

    def unrouted_notifications(self, limit: int = 100) -> list[Notification]:
        """Notifications not yet turned into deliveries, oldest first."""
        with self._transaction() as conn:
            return _outbox.unrouted(conn, limit)

    def route_notification(
        self, notification_id: int, targets: list[tuple[str, str]], now: datetime
    ) -> bool:
        """Make a notification's deliveries (``(channel, target)`` pairs), once; False when
        another postman did it first."""
        with self._transaction(write=True) as conn:
            return _outbox.route(conn, notification_id, targets, now)

    def claim_deliveries(
        self, now: datetime | None, lease: timedelta, limit: int = 20
    ) -> list[Delivery]:
        """Due deliveries, held for this caller until ``now + lease``, their attempt counted.

        ``now`` None (what a postman passes): the database's clock on PostgreSQL, so that
        workers whose clocks disagree still see one another's leases (a worker running ahead
        would otherwise take a delivery another is still sending); this machine's on SQLite,
        whose postmen share one machine."""
        with self._transaction(write=True) as conn:
            if now is None:
                now = _outbox.clock(conn)
            return _outbox.claim(conn, now, lease, limit)

    def delivery_sent(self, delivery_id: int, now: datetime) -> None:
        with self._transaction(write=True) as conn:
            _outbox.delivered(conn, delivery_id, now)

    def delivery_failed(
        self,
        delivery_id: int,
        error: str,
        next_attempt_at: datetime | None,
        *,
        attempt: int | None = None,
    ) -> None:
        """A failed attempt: due again at ``next_attempt_at``, or a dead letter when None.
        ``attempt``: the claim's attempt number; a failure of an attempt that a later claim
        superseded (its lease ran out) changes nothing."""
        with self._transaction(write=True) as conn:
            _outbox.failed(conn, delivery_id, error, next_attempt_at, attempt)

    def deliveries(
        self,
        status: DeliveryStatus | None = None,
        *,
        project_id: str | None = None,
        limit: int = 1000,
    ) -> list[Delivery]:
        with self._transaction() as conn:
            return _outbox.listed(conn, status, project_id, limit)

    def retry_delivery(self, delivery_id: int, now: datetime | None = None) -> Delivery:
        """A dead letter is due again now (``DeliveryMissing`` for any other id)."""
        with self._transaction(write=True) as conn:
            return _outbox.retry(conn, delivery_id, now or datetime.now(UTC))

    def outbox_counts(self) -> dict[str, int]:
        """Deliveries by status, and notifications not routed yet (``unrouted``)."""
        with self._transaction() as conn:
            return _outbox.counts(conn)

    # -- task inbox ---------------------------------------------------------------------------

    def add_task(self, task: GateTaskIn) -> Task:
        """Create an open task; idempotent on (project_id, key): returns the existing one."""
        for _ in range(_ATTEMPTS):
            try:
                with self._transaction(write=True) as conn:
                    return self._add_task(conn, task)
            except IntegrityError:
                continue  # a concurrent writer created it first: read theirs
        raise LedgerError(f"could not add task {task.project_id}/{task.key}")

    def _add_task(self, conn: sa.Connection, task: GateTaskIn) -> Task:
        t = tasks.c
        stored = (
            conn.execute(sa.select(tasks).where(t.project_id == task.project_id, t.key == task.key))
            .mappings()
            .first()
        )
        if stored is not None:
            return _task_from_row(stored)
        content = task.model_dump(include=set(_TASK_FIELDS))
        result = conn.execute(sa.insert(tasks).values(**content, status="open"))
        (task_id,) = result.inserted_primary_key or (None,)
        return Task.model_validate({**content, "id": task_id, "status": "open"})

    def task(self, task_id: int) -> Task | None:
        """The task with this id (the inbox's row id, unique in the ledger), or None; an id
        no row can have (below 1, or past the 32-bit column PostgreSQL keeps) is none."""
        if not 1 <= task_id <= MAX_ROW_ID:
            return None
        with self._transaction() as conn:
            row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).mappings().first()
        return _task_from_row(row) if row is not None else None

    def tasks(
        self,
        assignee: str | None = None,
        project_id: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[Task]:
        """Tasks matching every given filter, oldest first."""
        t = tasks.c
        query = sa.select(tasks).order_by(t.id)
        if assignee is not None:
            query = query.where(t.assignee == assignee)
        if project_id is not None:
            query = query.where(t.project_id == project_id)
        if status is not None:
            query = query.where(t.status == status)
        with self._transaction() as conn:
            return [_task_from_row(row) for row in conn.execute(query).mappings()]

    def close_tasks(
        self,
        project_id: str,
        gate: str | None = None,
        status: ClosedStatus = "done",
        *,
        at: datetime,
        keys: Collection[str] | None = None,
    ) -> int:
        """Close a project's open tasks: those of `gate`, or those with the given `keys`
        (both: the keys within that gate). Returns how many were open; idempotent."""
        closure = TaskClosure(project_id, gate, status, at, keys)
        with self._transaction(write=True) as conn:
            return self._close_tasks(conn, closure)

    def _close_tasks(self, conn: sa.Connection, c: TaskClosure) -> int:
        if c.status not in ("done", "cancelled", "withdrawn"):
            raise ValueError(
                f"a task closes as 'done', 'cancelled' or 'withdrawn', not {c.status!r}"
            )
        if c.at.tzinfo is None:
            raise ValueError("close_tasks needs a timezone-aware `at`")
        if c.gate is None and c.keys is None and not c.all_open:
            raise ValueError("close_tasks needs a gate, task keys or all_open")
        t = tasks.c
        query = sa.update(tasks).where(t.project_id == c.project_id, t.status == "open")
        if c.gate is not None:
            query = query.where(t.gate == c.gate)
        if c.keys is not None:
            if not c.keys:
                return 0
            query = query.where(t.key.in_(list(c.keys)))
        result = conn.execute(query.values(status=c.status, closed_at=c.at.astimezone(UTC)))
        return int(result.rowcount)

    # -- a transition at once -----------------------------------------------------------------

    def record(
        self,
        events: Sequence[AuditEventIn] = (),
        changes: Sequence[TaskChange] = (),
        *,
        after: ChainHead | None = None,
        first_run_id: str | None = None,
        reports: Sequence[Report] = (),
        notifications: Sequence[Outgoing] = (),
    ) -> ChainHead:
        """Append ``events``, apply the inbox ``changes`` in order (open a task, close
        tasks, move the due dates of the open ones), store the ``reports`` they issue and put
        the ``notifications`` they send in the outbox, in ONE transaction: accepted
        transitions, their inbox changes, their reports and their notifications land
        together or not at all (a notification whose key is stored is not stored again).
        A report already stored under its (project, kind, number) with the same content is
        left as it is; other content (after a Temporal reset) is stored beside it and is
        that number's report from then on.

        ``after`` is the chain's head as the writer last saw it. When the chain already goes
        past it: the same events again (a retried write) change nothing; other events raise
        ``LedgerAhead`` if the chain up to ``after`` is the writer's own (a reset workflow;
        with ``after`` at seq 0, if the chain's first event is from ``first_run_id``, the
        writer's first run), ``LedgerConflict`` if not. Returns the chain's head at this
        write's last event.
        """
        if any(isinstance(c, DueShift) for c in changes) and not events:
            raise ValueError("shifting due dates needs the event that says why")
        for _ in range(_ATTEMPTS):
            try:
                with self._transaction(write=True) as conn:
                    return self._record(
                        conn, events, changes, after, first_run_id, reports, notifications
                    )
            except IntegrityError:
                continue  # a concurrent retry stored part of it first: go again, idempotently
        raise LedgerError(
            f"could not record {len(events)} events: {_ATTEMPTS} attempts lost a race"
        )

    def _record(
        self,
        conn: sa.Connection,
        events: Sequence[AuditEventIn],
        changes: Sequence[TaskChange],
        after: ChainHead | None,
        first_run_id: str | None,
        reports: Sequence[Report],
        notifications: Sequence[Outgoing] = (),
    ) -> ChainHead:
        head = ChainHead(0, GENESIS_HASH)
        if events:
            project = events[0].project_id
            head = self._head(conn, project)
            if after is not None and self._stored_before(conn, events, head, after, first_run_id):
                # This very write was committed before: nothing more to do. Its own head, not
                # the chain's: after a reset the chain can go on past it with the old run's.
                last = events[-1].seq
                return ChainHead(last, self._hash_at(conn, project, last))
            for event in events:
                head = ChainHead.of(self._append(conn, event))
        for change in changes:
            if isinstance(change, GateTaskIn):
                self._add_task(conn, change)
            elif isinstance(change, TaskClosure):
                self._close_tasks(conn, change)
            else:
                self._shift_due(conn, change.project_id, change.by)
        for report in reports:
            _reports.store(conn, report)
        for note in notifications:
            _outbox.store(conn, note)
        return head

    def _head(self, conn: sa.Connection, project_id: str) -> ChainHead:
        t = audit_events.c
        row = conn.execute(
            sa.select(t.seq, t.hash)
            .where(t.project_id == project_id)
            .order_by(t.seq.desc())
            .limit(1)
        ).first()
        return ChainHead(row.seq, row.hash) if row is not None else ChainHead(0, GENESIS_HASH)

    def _hash_at(self, conn: sa.Connection, project_id: str, seq: int) -> str:
        if seq == 0:
            return GENESIS_HASH
        t = audit_events.c
        value = conn.execute(
            sa.select(t.hash).where(t.project_id == project_id, t.seq == seq)
        ).scalar()
        if value is None:
            raise LedgerGap(f"audit event {project_id}#{seq} is not recorded")
        return str(value)

    def _stored_before(
        self,
        conn: sa.Connection,
        events: Sequence[AuditEventIn],
        head: ChainHead,
        after: ChainHead,
        first_run_id: str | None,
    ) -> bool:
        """True when ``events`` were all stored by an earlier, committed try of this write.
        Raises when the chain went on past ``after`` with other events."""
        project = events[0].project_id
        if head.seq <= after.seq:
            if head != after:
                raise LedgerConflict(
                    f"the chain of {project} ends at seq {head.seq}, but its writer expected "
                    f"seq {after.seq} with hash {after.hash[:12]}"
                )
            return False
        if self._hash_at(conn, project, after.seq) != after.hash:
            raise LedgerConflict(
                f"audit event {project}#{after.seq} is recorded with content its writer does "
                "not know: the chain belongs to another workflow"
            )
        try:
            for event in events:
                if event.seq > head.seq:
                    return False
                self._already_stored(conn, event)
        except LedgerConflict:
            if after.seq == 0 and not self._begun_by(conn, project, first_run_id):
                raise LedgerConflict(
                    f"project {project} already has a chain of {head.seq} events that another "
                    "workflow wrote: a project id is never reused"
                ) from None
            raise LedgerAhead(
                f"the chain of {project} goes on to seq {head.seq} past its writer's seq "
                f"{after.seq} (the workflow was reset)",
                head.seq,
                head.hash,
            ) from None
        return events[-1].seq <= head.seq

    def _begun_by(self, conn: sa.Connection, project_id: str, run_id: str | None) -> bool:
        """Whether the project's chain begins with an event of workflow run ``run_id``."""
        t = audit_events.c
        first = conn.execute(
            sa.select(t.run_id).where(t.project_id == project_id, t.seq == 1)
        ).scalar()
        return run_id is not None and first == run_id

    def _shift_due(self, conn: sa.Connection, project_id: str, by: timedelta) -> None:
        t = tasks.c
        rows = conn.execute(
            sa.select(t.id, t.due).where(
                t.project_id == project_id, t.status == "open", t.due.is_not(None)
            )
        ).all()
        for row in rows:
            due = _utc(row.due)
            assert due is not None
            conn.execute(sa.update(tasks).where(t.id == row.id).values(due=due + by))


@dataclass(frozen=True, slots=True)
class DueShift:
    """Move the due dates of a project's open tasks (clocks stop while a project is held)."""

    project_id: str
    by: timedelta


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A project's last recorded event: its seq and hash (0 and the genesis hash if none)."""

    seq: int
    hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> ChainHead:
        return cls(event.seq, event.hash)


@dataclass(frozen=True, slots=True)
class TaskClosure:
    """Close a project's open tasks: those of ``gate``, or those with ``keys`` (both: the
    keys within that gate)."""

    project_id: str
    gate: str | None
    status: ClosedStatus
    at: datetime
    keys: Collection[str] | None = None
    all_open: bool = False
    """Every open task of the project (with neither gate nor keys)."""


TaskChange = GateTaskIn | TaskClosure | DueShift
"""One change of the inbox, applied in order with the others of its write."""


def _check_link(row: sa.RowMapping, expected_seq: int, prev_hash: str) -> tuple[str | None, str]:
    """Why this row breaks the chain (None if it does not), and its recomputed hash."""
    seq = row["seq"]
    if seq != expected_seq:
        return f"event seq {expected_seq} is missing (the next stored event is seq {seq})", ""
    try:
        content = {name: row[name] for name in _EVENT_FIELDS}
        content["at"] = _utc(content["at"])
        event = AuditEventIn.model_validate(content)
    except ValidationError as exc:
        return f"stored event is not a valid audit event: {exc.errors()[0]['msg']}", ""
    if row["prev_hash"] != prev_hash:
        return (
            f"prev_hash does not match the hash of seq {seq - 1}: "
            "an event was edited, removed or reordered",
            "",
        )
    digest = event_hash(event, prev_hash)
    if row["hash"] != digest:
        return "hash does not match the event's content: the event was edited or forged", ""
    return None, digest
