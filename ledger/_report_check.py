"""``Ledger.verify`` over the reports: each project's stored reports against the
``report_issued`` events of its chain.

The chain vouches for a report's content: its ``report_issued`` event carries the kind, the
number and the SHA-256 of the content. So, per project: every such event has a stored report
of that kind and number whose content hashes to the event's sha256 (and to the row's), and
every stored report is vouched for by such an event. A number holds two reports after a
Temporal reset (see ledger/_reports.py): each has its own event, so matching is by (kind,
number, sha256), never by number alone.

The Markdown is not vouched for by anything: the workflow issues the event before the report
is rendered (by the record activity), so the only check there is re-rendering the content
with this phasegate's ``render_report``. A stored Markdown that differs is reported as a
problem (and ``phasegate report`` shows the content's rendering instead). Why fail rather
than warn: the Markdown is what people read, and an edited one passing unnoticed is the hole
this closes; the other cause, a phasegate that renders reports differently from the one that
stored them, is a release event, and the problem's text names it, so a PMO who sees it right
after an upgrade knows what it is. A warning would be ignored in both cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from governance import audit, render_report
from governance.audit import digest
from ledger._schema import reports

__all__ = ["ReportProblem", "VerifyReport", "Vouch", "check", "vouch_of"]


class ReportProblem(BaseModel):
    """A stored report that does not verify, or one its chain vouches for that is not stored."""

    model_config = ConfigDict(frozen=True)

    project_id: str
    kind: str
    number: int
    seq: int | None = Field(description="Its report_issued event's seq; None if it has none.")
    reason: str

    @property
    def line(self) -> str:
        return f"{self.kind} report #{self.number} of {self.project_id}: {self.reason}"


class VerifyReport(audit.VerifyReport):
    """``governance.audit.VerifyReport`` with the reports' check: ``ok`` only when every chain
    and every report verifies."""

    reports_checked: int = Field(0, description="Stored reports examined.")
    report_problems: list[ReportProblem] = Field(default_factory=list)
    """Every report problem, by project, kind and number."""


@dataclass(frozen=True, slots=True)
class Vouch:
    """What a ``report_issued`` event vouches for."""

    seq: int
    kind: str
    number: int
    sha256: str


def vouch_of(row: sa.RowMapping) -> Vouch | None:
    """The report a stored ``report_issued`` event vouches for; None when its payload names
    none (only an edited event's, which the chain's check reports)."""
    p = row["payload"]
    if not isinstance(p, dict):
        return None
    kind, number, sha256 = p.get("kind"), p.get("number"), p.get("sha256")
    if isinstance(kind, str) and type(number) is int and isinstance(sha256, str):
        return Vouch(row["seq"], kind, number, sha256)
    return None


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    kind: str
    number: int
    sha256: str
    actual: str | None  # the content's hash (None: the content is no JSON object)
    content: Any
    markdown: str


def check(
    conn: sa.Connection,
    project_id: str | None,
    vouched: Mapping[str, Sequence[Vouch]],
    *,
    iterations: bool = False,
) -> tuple[int, list[ReportProblem]]:
    """Check the stored reports (of ``project_id``, with ``iterations`` also those of its
    iterations' chains; or all) against ``vouched`` (per chain, what its report_issued events
    vouch for): how many were examined, and the problems, by project, kind and number."""
    r = reports.c
    query = sa.select(reports).order_by(r.project_id, r.kind, r.number, r.id)
    if project_id is not None:
        own = r.project_id == project_id
        if iterations:  # as Ledger._event_rows: a project id is a slug, no LIKE wildcard
            own = own | r.project_id.like(f"{project_id}/it-%")
        query = query.where(own)
    stream = conn.execution_options(yield_per=200).execute(query).mappings()
    problems: list[ReportProblem] = []
    checked = 0
    seen: set[str] = set()
    for project, group in itertools.groupby(stream, key=lambda row: str(row["project_id"])):
        rows = list(_rows(group))
        checked += len(rows)
        seen.add(project)
        problems += _check_project(project, rows, vouched.get(project, ()))
    for project in sorted(vouched.keys() - seen):
        problems += _check_project(project, [], vouched[project])
    problems.sort(key=lambda p: (p.project_id, p.kind, p.number, p.seq or 0))
    return checked, problems


def _rows(group: Iterable[sa.RowMapping]) -> Iterator[_Row]:
    for row in group:
        content = row["content"]
        actual = digest(content) if isinstance(content, dict) else None
        yield _Row(
            row["id"], row["kind"], row["number"], row["sha256"], actual, content, row["markdown"]
        )


def _check_project(
    project: str, rows: Sequence[_Row], vouches: Sequence[Vouch]
) -> list[ReportProblem]:
    problems: list[ReportProblem] = []

    def problem(kind: str, number: int, seq: int | None, reason: str) -> None:
        problems.append(
            ReportProblem(project_id=project, kind=kind, number=number, seq=seq, reason=reason)
        )

    vouched: set[int] = set()  # the rows an event vouches for
    named: set[int] = set()  # the rows an event's problem names (no more said of them)
    unmatched: list[Vouch] = []
    for v in vouches:
        match = next((row for row in _at(rows, v) if row.actual == v.sha256 == row.sha256), None)
        if match is None:
            unmatched.append(v)
        else:
            vouched.add(match.id)
    for v in unmatched:
        left = [row for row in _at(rows, v) if row.id not in vouched | named]
        event = f"its report_issued event (seq {v.seq})"
        if not left:
            problem(
                v.kind,
                v.number,
                v.seq,
                f"missing: {event} vouches for it (sha256 {v.sha256[:12]}…), but the "
                "ledger stores no such report",
            )
            continue
        # The row the event stands for: the one that kept the event's hash, else any.
        row = next((x for x in left if v.sha256 in (x.actual, x.sha256)), left[0])
        named.add(row.id)
        if row.actual == v.sha256:
            problem(
                v.kind,
                v.number,
                v.seq,
                f"its recorded sha256 was altered (to {row.sha256[:12]}…): its content "
                f"hashes to what {event} vouches for, its row says otherwise",
            )
        else:
            problem(
                v.kind,
                v.number,
                v.seq,
                f"its content does not hash to the sha256 {event} vouches for: the "
                "content was altered after it was recorded",
            )
    for row in rows:
        if row.id in named:
            continue
        if row.id not in vouched:
            altered = "" if row.actual == row.sha256 else ", and its content does not hash to it"
            problem(
                row.kind,
                row.number,
                None,
                f"no report_issued event of its chain vouches for it (its recorded sha256 "
                f"{row.sha256[:12]}…{altered}): it was stored behind the ledger's back",
            )
        elif (why := _markdown_problem(row)) is not None:
            problem(row.kind, row.number, None, why)
    return problems


def _at(rows: Sequence[_Row], v: Vouch) -> Iterator[_Row]:
    return (row for row in rows if (row.kind, row.number) == (v.kind, v.number))


def _markdown_problem(row: _Row) -> str | None:
    """Why the row's Markdown is not its content's rendering (see the module's docstring)."""
    try:
        rendered = render_report(row.kind, row.content)  # type: ignore[arg-type]
    except ValueError as exc:  # pydantic's ValidationError is one
        return f"its content cannot be rendered as a {row.kind} report: {str(exc).splitlines()[0]}"
    if rendered == row.markdown:
        return None
    return (
        "its stored Markdown is not the rendering of its content: it was edited after it "
        "was recorded, or a phasegate that renders reports differently stored it "
        "(`phasegate report` shows the content's rendering)"
    )
