"""Reports the projects issued (table ``reports``): immutable rows holding the content
(JSON), its Markdown rendering and the content's SHA-256, numbered per project and kind.

Written by ``Ledger.record`` in the transaction of the events that issue them; a retried write
of the same content is a no-op. Other content under a stored number comes only from a workflow
a Temporal reset rewound: like the superseded events, the superseded report stays, and the
later one is the report of that number (each is vouched for by its own ``report_issued``
event). Reading a row checks its content against the stored hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import ValidationError

from governance.audit import Report, ReportKind, digest
from ledger._errors import LedgerError
from ledger._schema import audit_events, reports
from ledger._time import utc

__all__ = ["get", "latest", "listed", "store"]


def _ref(project_id: str, kind: str, number: int) -> str:
    return f"{kind} report #{number} of {project_id}"


def store(conn: sa.Connection, report: Report) -> None:
    """Insert ``report``; nothing when that number is stored with the same content (its
    stored ``at`` and Markdown stay)."""
    sha256 = digest(report.content)
    r = reports.c
    stored = conn.execute(
        sa.select(r.id).where(
            r.project_id == report.project_id,
            r.kind == report.kind,
            r.number == report.number,
            r.sha256 == sha256,
        )
    ).scalar()
    if stored is not None:
        return
    conn.execute(
        sa.insert(reports).values(
            project_id=report.project_id,
            kind=report.kind,
            number=report.number,
            at=report.at,
            content=report.content,
            markdown=report.markdown,
            sha256=sha256,
        )
    )


def listed(conn: sa.Connection, project_id: str, kind: ReportKind | None) -> list[Report]:
    """The project's reports (of ``kind``, or all), by kind, then number."""
    r = reports.c
    query = sa.select(reports).where(r.project_id == project_id).order_by(r.kind, r.number, r.id)
    if kind is not None:
        query = query.where(r.kind == kind)
    return [_from_row(row) for row in conn.execute(query).mappings()]


def current(conn: sa.Connection, project_id: str) -> dict[tuple[str, int], str] | None:
    """(kind, number) -> the sha256 of that number's report now: the one its latest
    ``report_issued`` event vouches for, leaving out events a Temporal reset superseded (a
    report the reset run has not issued again is no report of the project's now). None when
    the chain vouches for no report at all (reports stored without their events)."""
    e = audit_events.c
    rows = conn.execute(
        sa.select(e.seq, e.kind, e.payload)
        .where(e.project_id == project_id, e.kind.in_(("report_issued", "history_reset")))
        .order_by(e.seq)
    ).all()
    superseded: list[tuple[int, int]] = []
    for row in rows:
        if row.kind == "history_reset":
            p = row.payload
            first, last = p.get("superseded_from"), p.get("superseded_to")
            if isinstance(first, int) and isinstance(last, int):
                superseded.append((first, last))
    out: dict[tuple[str, int], str] = {}
    vouching = False
    for row in rows:
        if row.kind != "report_issued":
            continue
        p = row.payload
        kind, number, sha = p.get("kind"), p.get("number"), p.get("sha256")
        if not (isinstance(kind, str) and isinstance(number, int) and isinstance(sha, str)):
            continue  # not a report's event: the chain check says so
        vouching = True
        if not any(a <= row.seq <= b for a, b in superseded):
            out[(kind, number)] = sha
    return out if vouching else None


def get(conn: sa.Connection, project_id: str, kind: ReportKind, number: int) -> Report | None:
    """Report ``number`` of ``kind``: the one the chain vouches for now."""
    r = reports.c
    query = sa.select(reports).where(r.project_id == project_id, r.kind == kind, r.number == number)
    now = current(conn, project_id)
    if now is not None:
        sha = now.get((kind, number))
        if sha is None:
            return None
        query = query.where(r.sha256 == sha)
    row = conn.execute(query.order_by(r.id.desc())).mappings().first()
    return None if row is None else _from_row(row)


def latest(conn: sa.Connection, project_id: str, kind: ReportKind) -> Report | None:
    """The latest ``kind`` report the chain vouches for now."""
    now = current(conn, project_id)
    if now is not None:
        numbers = [n for (k, n) in now if k == kind]
        return get(conn, project_id, kind, max(numbers)) if numbers else None
    r = reports.c
    row = (
        conn.execute(
            sa.select(reports)
            .where(r.project_id == project_id, r.kind == kind)
            .order_by(r.number.desc(), r.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else _from_row(row)


def _from_row(row: sa.RowMapping) -> Report:
    ref = _ref(row["project_id"], row["kind"], row["number"])
    content = row["content"]
    if not isinstance(content, dict) or digest(content) != row["sha256"]:
        raise LedgerError(
            f"{ref} was altered after it was recorded: its content does not hash to the "
            f"recorded sha256 {row['sha256']}"
        )
    data = {name: row[name] for name in Report.model_fields}
    data["at"] = utc(data["at"])
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        raise LedgerError(f"{ref} is not a valid report: {exc.errors()[0]['msg']}") from None
