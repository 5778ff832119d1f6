"""Reports a project issued (highlight and exception reports), from the faces: read from the
ledger's store, never from Temporal, so a report can be read with the server down.

No Temporal here (nor anything that imports it): reading a report needs the ledger only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from governance import render_report
from governance.audit import Report, ReportKind, digest
from ledger import Ledger

__all__ = [
    "AmbiguousReport",
    "NoReport",
    "content_json",
    "find",
    "listed",
    "markdown",
    "summary",
]


class NoReport(LookupError):
    """The project is not in the ledger, or has not issued the report asked for."""


class AmbiguousReport(LookupError):
    """A number asked for without a kind, which both kinds of the project's reports have."""


def _unknown(ledger: Ledger, project_id: str) -> bool:
    return ledger.last_seq(project_id) == 0 and not ledger.reports(project_id)


def find(
    ledger: Ledger,
    project_id: str,
    kind: ReportKind | None = None,
    number: int | None = None,
) -> Report:
    """The project's ``kind`` report ``number`` (None: its latest); ``NoReport`` saying what
    there is instead when there is no such report.

    Without ``kind``: a highlight report, but a ``number`` both kinds have is
    ``AmbiguousReport``, and one only an exception report has is named in the ``NoReport``.
    """
    if kind is None and number is not None:
        highlight = ledger.report(project_id, "highlight", number)
        exception = ledger.report(project_id, "exception", number)
        if highlight is not None and exception is not None:
            raise AmbiguousReport(
                f"project {project_id} has a highlight report #{number} and an exception "
                f"report #{number}: give --kind highlight or --kind exception"
            )
        if highlight is not None:
            return highlight
        if exception is not None:
            raise NoReport(
                f"project {project_id} has no highlight report #{number}, but has an "
                f"exception report #{number}: give --kind exception"
            )
    kind = kind or "highlight"
    found = ledger.report(project_id, kind, number)
    if found is not None:
        return found
    if _unknown(ledger, project_id):
        raise NoReport(f"no project {project_id} in the ledger")
    latest = ledger.report(project_id, kind) if number is not None else None
    if latest is None:
        raise NoReport(f"project {project_id} has issued no {kind} report yet")
    raise NoReport(
        f"project {project_id} has no {kind} report #{number}: its {kind} reports are "
        f"#1 to #{latest.number}"
    )


def markdown(report: Report) -> tuple[str, str | None]:
    """The report as Markdown to show, and a warning or None.

    The content is what the ledger's chain vouches for; the stored Markdown is not vouched for
    by anything. So the stored Markdown is shown only when it is the rendering of the content
    (``render_report``); otherwise the content's rendering, with a warning (the Markdown was
    edited, or a phasegate that renders differently stored it: ``audit verify`` names it).
    """
    try:
        rendered = render_report(report.kind, report.content)
    except ValueError as exc:  # pydantic's ValidationError is one
        first = str(exc).splitlines()[0]
        return report.markdown, (
            f"this phasegate cannot render the content of {report.kind} report "
            f"#{report.number} ({first}); showing the stored Markdown, unchecked"
        )
    if rendered == report.markdown:
        return report.markdown, None
    return rendered, (
        f"the stored Markdown of {report.kind} report #{report.number} does not match its "
        "content; showing the content's rendering"
    )


def listed(ledger: Ledger, project_id: str) -> list[Report]:
    """Every report the project issued, by kind, then number (may be none); ``NoReport``
    for a project the ledger does not know."""
    reports = ledger.reports(project_id)
    if not reports and _unknown(ledger, project_id):
        raise NoReport(f"no project {project_id} in the ledger")
    return reports


def summary(report: Report) -> dict[str, Any]:
    """One line of a listing: kind, number, when, the content's hash and title (if any)."""
    title = report.content.get("title")
    if title is None and report.kind == "highlight":
        reason = {"cadence": "on its cadence", "rag_change": "RAG changed"}.get(
            str(report.content.get("reason")), ""
        )
        title = f"Highlight report {report.number}" + (f" ({reason})" if reason else "")
    return {
        "kind": report.kind,
        "number": report.number,
        "at": _iso(report.at),
        "sha256": digest(report.content),
        "title": title if isinstance(title, str) else None,
    }


def content_json(report: Report) -> str:
    """The report's content as pretty-printed JSON (in its own key order, non-ASCII kept)."""
    return json.dumps(report.content, indent=2, ensure_ascii=False)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
