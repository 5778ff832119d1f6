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
from ledger._engine import utc
from ledger._errors import LedgerError
from ledger._schema import reports

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


def get(conn: sa.Connection, project_id: str, kind: ReportKind, number: int) -> Report | None:
    r = reports.c
    row = (
        conn.execute(
            sa.select(reports)
            .where(r.project_id == project_id, r.kind == kind, r.number == number)
            .order_by(r.id.desc())
        )
        .mappings()
        .first()
    )
    return None if row is None else _from_row(row)


def latest(conn: sa.Connection, project_id: str, kind: ReportKind) -> Report | None:
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
