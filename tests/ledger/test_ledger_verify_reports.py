"""verify() checks the stored reports against the report_issued events of their chain: content,
recorded hash, reports missing or unvouched, and the Markdown against its content's rendering."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledger_support import T0, EventFactory, RawSql

from governance import ExceptionReport, HighlightReport, render_report
from governance.audit import AuditEventIn, EventKind, Report, ReportKind, digest
from ledger import Ledger, ReportProblem

PROJECT = "payroll-cutover"


def content(kind: ReportKind, number: int, note: str = "on track") -> dict[str, Any]:
    """Real content of a ``kind`` report, as the workflow makes it (renderable)."""
    if kind == "highlight":
        start = date(2027, 1, 4) + timedelta(days=14 * (number - 1))
        return HighlightReport(
            project_id=PROJECT, project_title="Payroll cutover", number=number,
            period_start=start, period_end=start + timedelta(days=14), reason="cadence",
            state="execution", phase="execution", rag={"cost": "green"}, worst="green",
            forecast=None, open_decisions=[], changes_since_last=[note],
        ).model_dump(mode="json")  # fmt: skip
    return ExceptionReport(
        title="Exception: cost forecast outside the stage tolerance", project_id=PROJECT,
        project_title="Payroll cutover", exception_id=f"ex-{number}",
        raised_at=datetime(2027, 2, 1, tzinfo=UTC), level="stage", to_level="board",
        to_role="executive", cause=[], consequences=[note],
        options=[{"option": "widen_tolerance", "effect": "stage tolerance 15 %"}],
        recommendation={"option": "widen_tolerance", "reason": "a small overrun"},
        lessons=[], figures=None, rag={"cost": "red"},
    ).model_dump(mode="json")  # fmt: skip


def report(kind: ReportKind, number: int, note: str = "on track") -> Report:
    body = content(kind, number, note)
    return Report(
        project_id=PROJECT,
        kind=kind,
        number=number,
        at=T0 + timedelta(days=number),
        content=body,
        markdown=render_report(kind, body),
    )


def issued(make_event: EventFactory, seq: int, r: Report) -> AuditEventIn:
    return make_event(
        PROJECT,
        seq,
        kind=EventKind.report_issued,
        payload={"kind": r.kind, "number": r.number, "sha256": digest(r.content)},
    )


def _issue(ledger: Ledger, make_event: EventFactory, *written: Report) -> None:
    """Project PROJECT: a first event, then one report_issued event per report (seq 2, ...)."""
    ledger.record([make_event(PROJECT, 1)])
    for seq, r in enumerate(written, start=2):
        ledger.record([issued(make_event, seq, r)], reports=[r])


def _lines(problems: list[ReportProblem]) -> list[str]:
    return [p.line for p in problems]


def test_a_clean_ledger_with_reports_verifies_ok(ledger: Ledger, make_event: EventFactory) -> None:
    _issue(ledger, make_event, report("highlight", 1), report("exception", 1))
    result = ledger.verify(PROJECT, iterations=True)
    assert result.ok and result.broken == [] and result.report_problems == []
    assert (result.events_checked, result.reports_checked) == (3, 2)
    assert ledger.verify().ok and ledger.verify().reports_checked == 2


def test_two_reports_of_one_number_after_a_reset_each_with_its_event_verify_ok(
    ledger: Ledger, make_event: EventFactory
) -> None:
    _issue(ledger, make_event, report("exception", 1), report("exception", 1, "re-planned"))
    result = ledger.verify(PROJECT)
    assert result.ok and result.reports_checked == 2


def test_verify_names_a_report_whose_content_was_altered(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1), report("exception", 1))
    forged = content("exception", 1, "nothing to see")
    raw_sql("UPDATE reports SET content = :c WHERE kind = 'exception'", c=json.dumps(forged))
    result = ledger.verify(PROJECT)
    assert not result.ok and result.broken == []  # the chain itself is intact
    assert _lines(result.report_problems) == [
        f"exception report #1 of {PROJECT}: its content does not hash to the sha256 its "
        "report_issued event (seq 3) vouches for: the content was altered after it was recorded"
    ]
    assert result.report_problems[0].seq == 3


def test_verify_names_altered_content_even_with_its_recorded_hash_altered_to_match(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1))
    forged = content("highlight", 1, "nothing to see")
    raw_sql("UPDATE reports SET content = :c, sha256 = :h", c=json.dumps(forged), h=digest(forged))
    (problem,) = ledger.verify().report_problems
    assert (problem.kind, problem.number, problem.seq) == ("highlight", 1, 2)
    assert "its content does not hash to the sha256 its report_issued event (seq 2)" in problem.line


def test_verify_names_a_report_whose_recorded_hash_was_altered(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1))
    raw_sql("UPDATE reports SET sha256 = :h", h="0" * 64)
    (problem,) = ledger.verify(PROJECT).report_problems
    assert "its recorded sha256 was altered (to 000000000000…)" in problem.reason


def test_verify_names_a_report_its_chain_vouches_for_that_is_not_stored(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1), report("highlight", 2))
    raw_sql("DELETE FROM reports WHERE number = 2")
    result = ledger.verify(PROJECT)
    assert not result.ok and result.reports_checked == 1
    (line,) = _lines(result.report_problems)
    assert line.startswith(
        f"highlight report #2 of {PROJECT}: missing: its report_issued event (seq 3) vouches "
        "for it (sha256 "
    )
    assert line.endswith("but the ledger stores no such report")


def test_verify_names_a_stored_report_no_event_vouches_for(
    ledger: Ledger, make_event: EventFactory
) -> None:
    _issue(ledger, make_event, report("highlight", 1))
    planted = report("exception", 1, "planted")
    ledger.record(reports=[planted])  # behind the chain's back: no report_issued event
    result = ledger.verify(PROJECT, iterations=True)
    assert not result.ok
    (problem,) = result.report_problems
    assert (problem.kind, problem.number, problem.seq) == ("exception", 1, None)
    assert problem.line == (
        f"exception report #1 of {PROJECT}: no report_issued event of its chain vouches for "
        f"it (its recorded sha256 {digest(planted.content)[:12]}…): it was stored behind the "
        "ledger's back"
    )
    assert not ledger.verify().ok  # the whole ledger's verification too


def test_verify_names_a_report_whose_markdown_was_altered(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1), report("exception", 1))
    raw_sql("UPDATE reports SET markdown = :m WHERE kind = 'exception'", m="# All fine\n")
    result = ledger.verify(PROJECT)
    assert not result.ok
    (line,) = _lines(result.report_problems)
    assert line.startswith(
        f"exception report #1 of {PROJECT}: its stored Markdown is not the rendering of its "
        "content: it was edited after it was recorded, or a phasegate that renders reports "
        "differently stored it"
    )


def test_report_problems_of_other_projects_are_not_in_a_projects_verification(
    ledger: Ledger, make_event: EventFactory
) -> None:
    _issue(ledger, make_event, report("highlight", 1))
    other = report("highlight", 1).model_copy(update={"project_id": "other"})
    ledger.record(reports=[other])
    assert ledger.verify(PROJECT).ok
    assert [p.project_id for p in ledger.verify().report_problems] == ["other"]


def test_verify_as_json_carries_the_report_problems(
    ledger: Ledger, make_event: EventFactory, raw_sql: RawSql
) -> None:
    _issue(ledger, make_event, report("highlight", 1))
    raw_sql("DELETE FROM reports")
    data = ledger.verify().model_dump(mode="json")
    assert data["ok"] is False and data["reports_checked"] == 0
    assert [(p["kind"], p["number"], p["seq"]) for p in data["report_problems"]] == [
        ("highlight", 1, 2)
    ]
