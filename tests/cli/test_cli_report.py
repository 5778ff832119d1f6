"""``phasegate report``: a project's highlight and exception reports, read from the ledger
(filled here directly through ``Ledger.record``; no Temporal server involved)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
import sqlalchemy as sa
from cli_support import cli, snapshot

from governance import ExceptionReport, HighlightReport, render_report
from governance._reports import ReportKind as ContentKind
from governance.audit import AuditEventIn, EventKind, Report, ReportKind, digest
from ledger import Ledger
from phasegate.choices import ReportChoice
from phasegate.settings import Settings

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def event(seq: int, project_id: str = "new-crm", **fields: Any) -> AuditEventIn:
    values: dict[str, Any] = {
        "project_id": project_id,
        "seq": seq,
        "at": T0 + timedelta(days=seq),
        "kind": EventKind.report_issued,
        "from_state": "execution",
        "to_state": "execution",
        "actor": None,
        "role": None,
        "comment": None,
        "payload": {},
        "model": "prince2@2.0",
        "model_hash": "ab" * 32,
        "workflow_id": f"project-{project_id}",
        "run_id": "run-1",
    }
    values.update(fields)
    return AuditEventIn(**values)


def report(kind: ReportKind, number: int, **content: Any) -> Report:
    """A real report (content as the workflow makes it, ``content`` overriding its fields),
    with its Markdown rendered as the record activity renders it."""
    body: dict[str, Any]
    if kind == "highlight":
        start = date(2027, 1, 4) + timedelta(days=7 * (number - 1))
        body = {
            "project_id": "new-crm", "project_title": "Nytt CRM", "number": number,
            "period_start": start, "period_end": start + timedelta(days=7),
            "reason": "cadence", "state": "execution", "phase": "execution",
            "rag": {"cost": "green"}, "worst": "green", "forecast": None,
            "open_decisions": [], "changes_since_last": [],
        }  # fmt: skip
        body.update(content)
        body = HighlightReport.model_validate(body).model_dump(mode="json")
    else:
        body = {
            "title": f"Exception report {number}: Nytt CRM", "project_id": "new-crm",
            "project_title": "Nytt CRM", "exception_id": f"ex-{number}",
            "raised_at": T0 + timedelta(days=7 * number), "level": "stage",
            "to_level": "board", "to_role": "executive", "cause": [],
            "consequences": ["supplier price rise"],
            "options": [{"option": "widen_tolerance", "effect": "stage tolerance 15 %"}],
            "recommendation": {"option": "widen_tolerance", "reason": "a small overrun"},
            "lessons": [], "figures": None, "rag": {"cost": "red"},
        }  # fmt: skip
        body.update(content)
        body = ExceptionReport.model_validate(body).model_dump(mode="json")
    return Report(
        project_id="new-crm",
        kind=kind,
        number=number,
        at=T0 + timedelta(days=7 * number, hours=1 if kind == "exception" else 0),
        content=body,
        markdown=render_report(kind, body),
    )


HIGHLIGHTS = [report("highlight", 1), report("highlight", 2, changes_since_last=["på väg"])]
EXCEPTION = report("exception", 1)


@pytest.fixture
def ledger_url(data_dir: Path) -> str:
    """The data dir's ledger: two highlight reports and one exception report of new-crm,
    each issued with its event; project quiet has events and no report."""
    url = Settings(data_dir=data_dir).effective_ledger_url()
    with Ledger(url) as ledger:
        ledger.migrate()
        head = None
        for seq, r in enumerate([HIGHLIGHTS[0], EXCEPTION, HIGHLIGHTS[1]], start=1):
            payload = {"kind": r.kind, "number": r.number, "sha256": digest(r.content)}
            head = ledger.record([event(seq, payload=payload)], after=head, reports=[r])
        ledger.record([event(1, "quiet", kind=EventKind.project_started)])
    return url


def test_report_prints_the_latest_highlight_report_as_markdown(ledger_url: str) -> None:
    result = cli("report", "new-crm")
    assert result.exit_code == 0, result.output
    assert result.stdout == HIGHLIGHTS[1].markdown
    assert result.stderr == ""


def test_report_prints_the_numbered_report_of_a_kind(ledger_url: str) -> None:
    assert cli("report", "new-crm", "--number", "2").stdout == HIGHLIGHTS[1].markdown
    first = cli("report", "new-crm", "--kind", "highlight", "--number", "1")
    assert first.stdout == HIGHLIGHTS[0].markdown
    exception = cli("report", "new-crm", "--kind", "exception")
    assert exception.stdout == EXCEPTION.markdown


def test_report_as_json_is_the_reports_content(ledger_url: str) -> None:
    result = cli("report", "new-crm", "--kind", "exception", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == EXCEPTION.content
    assert result.stdout.startswith('{\n  "title": ')  # pretty-printed, in its own order
    latest = cli("report", "new-crm", "--format", "json")
    assert json.loads(latest.stdout)["changes_since_last"] == ["på väg"]
    assert "på väg" in latest.stdout  # not \u-escaped


def test_report_list_shows_every_report_by_kind_then_number(ledger_url: str) -> None:
    result = cli("report", "new-crm", "--list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "exception\t#1\t2027-01-18T10:00:00+00:00\tException report 1: Nytt CRM",
        "highlight\t#1\t2027-01-18T09:00:00+00:00\tHighlight report 1 (on its cadence)",
        "highlight\t#2\t2027-01-25T09:00:00+00:00\tHighlight report 2 (on its cadence)",
    ]
    only = cli("report", "new-crm", "--list", "--kind", "highlight").stdout.splitlines()
    assert [line.split("\t")[:2] for line in only] == [["highlight", "#1"], ["highlight", "#2"]]


def test_report_list_as_json_carries_each_reports_hash(ledger_url: str) -> None:
    rows = json.loads(cli("report", "new-crm", "--list", "--format", "json").stdout)
    assert [(r["kind"], r["number"]) for r in rows] == [
        ("exception", 1),
        ("highlight", 1),
        ("highlight", 2),
    ]
    assert rows[0]["sha256"] == digest(EXCEPTION.content)
    assert rows[0]["at"] == "2027-01-18T10:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "error: no project nope in the ledger\n"),
        (["nope", "--list"], "error: no project nope in the ledger\n"),
        (["quiet"], "error: project quiet has issued no highlight report yet\n"),
        (
            ["quiet", "--kind", "exception"],
            "error: project quiet has issued no exception report yet\n",
        ),
        (
            ["new-crm", "--number", "3"],
            "error: project new-crm has no highlight report #3: its highlight reports are "
            "#1 to #2\n",
        ),
        (
            ["new-crm", "--kind", "exception", "--format", "json", "--number", "2"],
            "error: project new-crm has no exception report #2: its exception reports are "
            "#1 to #1\n",
        ),
    ],
    ids=["unknown", "unknown-list", "none", "no-exception", "no-such-number", "json"],
)
def test_a_missing_project_or_report_is_one_line_and_exit_1(
    ledger_url: str, data_dir: Path, args: list[str], message: str
) -> None:
    before = snapshot(data_dir)
    result = cli("report", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert snapshot(data_dir) == before


def test_a_project_without_reports_lists_none(ledger_url: str) -> None:
    result = cli("report", "quiet", "--list")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "project quiet has issued no such reports yet\n"
    assert cli("report", "quiet", "--list", "--format", "json").stdout == "[]\n"


def test_list_with_a_number_is_a_usage_error(ledger_url: str) -> None:
    result = cli("report", "new-crm", "--list", "--number", "1")
    assert result.exit_code == 2
    assert result.stderr == "error: --list lists every report: give it without --number\n"


def test_report_where_there_is_no_ledger_says_so_and_creates_none(data_dir: Path) -> None:
    result = cli("report", "new-crm")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no ledger at sqlite:///")
    assert not data_dir.exists()


def test_control_characters_in_a_report_cannot_reach_the_terminal(data_dir: Path) -> None:
    url = Settings(data_dir=data_dir).effective_ledger_url()
    title = "Evil\x1b]0;owned\x07 \u202eright"
    evil = [report("highlight", 1, project_title=title), report("exception", 1, title=title)]
    with Ledger(url) as ledger:
        ledger.migrate()
        ledger.record([event(1)], reports=evil)
    for args in (
        ["new-crm"],
        ["new-crm", "--kind", "exception"],
        ["new-crm", "--list"],
        ["new-crm", "--format", "json"],
    ):
        out = cli("report", *args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, args
    assert "\\x1b]0;owned\\x07 \\u202eright" in cli("report", "new-crm").stdout
    assert "\\x1b]0;owned\\x07 \\u202eright" in cli("report", "new-crm", "--list").stdout


def test_the_report_service_does_not_import_temporal() -> None:
    code = "import sys, phasegate.reports; print('temporalio' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def _tamper(url: str, statement: str, **params: Any) -> None:
    """Change the ledger's rows behind its back."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def test_an_altered_markdown_is_not_shown_the_contents_rendering_is_with_a_warning(
    ledger_url: str,
) -> None:
    forged = "# Exception report 1: Nytt CRM\n\nAll fine, nothing to decide.\n"
    _tamper(ledger_url, "UPDATE reports SET markdown = :m WHERE kind = 'exception'", m=forged)
    result = cli("report", "new-crm", "--kind", "exception")
    assert result.exit_code == 0
    assert result.stdout == EXCEPTION.markdown
    assert result.stderr == (
        "warning: the stored Markdown of exception report #1 does not match its content; "
        "showing the content's rendering\n"
    )
    untouched = cli("report", "new-crm")
    assert (untouched.stdout, untouched.stderr) == (HIGHLIGHTS[1].markdown, "")


def test_a_number_both_kinds_have_without_kind_is_refused_with_exit_2(
    ledger_url: str, data_dir: Path
) -> None:
    before = snapshot(data_dir)
    result = cli("report", "new-crm", "--number", "1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: project new-crm has a highlight report #1 and an exception report #1: give "
        "--kind highlight or --kind exception\n"
    )
    assert snapshot(data_dir) == before


def test_a_number_only_an_exception_report_has_is_named_without_kind(ledger_url: str) -> None:
    third = report("exception", 3)
    payload = {"kind": "exception", "number": 3, "sha256": digest(third.content)}
    with Ledger(ledger_url) as ledger:
        ledger.record([event(4, payload=payload)], reports=[third])
    result = cli("report", "new-crm", "--number", "3")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: project new-crm has no highlight report #3, but has an exception report #3: "
        "give --kind exception\n"
    )
    assert cli("report", "new-crm", "--number", "3", "--kind", "exception").stdout == (
        third.markdown
    )


def test_audit_verify_checks_the_reports(ledger_url: str) -> None:
    ok = cli("audit", "verify", "--project", "new-crm", "--address", "127.0.0.1:1")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith(
        "ok: 3 events in 1 project(s) verified (1 chain(s)), and 3 report(s)\n"
    )


def test_audit_verify_exits_1_naming_an_altered_report(ledger_url: str) -> None:
    forged = {**EXCEPTION.content, "consequences": ["none at all"]}
    _tamper(
        ledger_url,
        "UPDATE reports SET content = :c WHERE kind = 'exception'",
        c=json.dumps(forged),
    )
    _tamper(ledger_url, "UPDATE reports SET markdown = :m WHERE number = 2", m="# fine\n")
    result = cli("audit", "verify", "--project", "new-crm", "--address", "127.0.0.1:1")
    assert result.exit_code == 1
    broken = [line for line in result.stdout.splitlines() if line.startswith("broken:")]
    assert broken == [
        "broken: exception report #1 of new-crm: its content does not hash to the sha256 its "
        "report_issued event (seq 2) vouches for: the content was altered after it was recorded",
        "broken: highlight report #2 of new-crm: its stored Markdown is not the rendering of "
        "its content: it was edited after it was recorded, or a phasegate that renders reports "
        "differently stored it (`phasegate report` shows the content's rendering)",
    ]
    as_json = cli("audit", "verify", "--json", "--address", "127.0.0.1:1")
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and data["ok"] is False and data["broken"] == []
    assert [(p["kind"], p["number"], p["seq"]) for p in data["report_problems"]] == [
        ("exception", 1, 2),
        ("highlight", 2, None),
    ]


def test_the_report_kinds_the_command_line_takes_are_governance_s() -> None:
    assert get_args(ReportChoice) == get_args(ReportKind) == get_args(ContentKind)
