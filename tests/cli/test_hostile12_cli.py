"""Hostile review of issue #12: `project list`'s table and memo rows, `project status`'s lines.
Tests that fail prove a finding; the others are attacks that held up."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from phasegate import service
from phasegate.cli._project import print_portfolio

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def project_row(**changes: object) -> service.ProjectRow:
    base: dict[str, object] = {
        "project_id": "crm-2026-0042",
        "phase": "execution",
        "model": "projektflodet@1.0",
        "awaiting": "gate:execution_gate",
        "status": "running",
        "title": "Nytt CRM-system for the whole sales organisation",
        "managers": ("david",),
        "deadline": NOW - timedelta(days=120),
        "rag": "amber",
    }
    return service.ProjectRow(**{**base, **changes})  # type: ignore[arg-type]


def table(rows: list[service.ProjectRow], capsys: pytest.CaptureFixture[str]) -> list[str]:
    print_portfolio(rows, NOW)
    return capsys.readouterr().out.splitlines()


# -- findings -----------------------------------------------------------------------------------


def test_a_memo_row_whose_times_have_no_offset_does_not_break_the_overdue_filter() -> None:
    """row_of_memo took any ISO text; one without an offset made a naive datetime, and
    `project list --overdue` died comparing it with now (TypeError, a traceback). The
    workflow writes every time with its offset: one without is not trusted, as any other
    malformed field of the row."""
    fields = service.row_of_memo({"title": "x", "deadline": "2026-01-01T00:00:00"})
    row = project_row(**fields)
    assert row.deadline is None and not row.overdue(NOW)


@pytest.mark.parametrize("columns", [80, 100])
def test_on_a_terminal_the_due_and_the_project_id_stay_whole(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """print_portfolio says the due date keeps its room; its floor (14) is below what
    `overdue 120 days` needs (16), and the project id (the handle for every next command)
    may be cut to 8."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: a terminal
    monkeypatch.setenv("COLUMNS", str(columns))
    [_, _, line] = table([project_row()], capsys)
    assert len(line) <= columns
    assert "overdue 120 days" in line, line
    assert line.startswith("crm-2026-0042 "), line


# -- attacks that held up -----------------------------------------------------------------------


def test_titles_with_controls_and_bidi_are_escaped_and_wide_ones_whole_when_piped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [
        project_row(project_id="a", title="Evil \u202eabc\x1b[31m red", managers=("d\u2066x",)),
        project_row(project_id="b", title="会議室予約システムの刷新"),
    ]
    lines = table(rows, capsys)
    text = "\n".join(lines)
    assert "\u202e" not in text and "\x1b" not in text and "\u2066" not in text
    assert "\\u202e" in text and "\\x1b" in text
    assert "会議室予約システムの刷新" in text


def test_malformed_memo_rows_give_no_fields_rather_than_fail() -> None:
    for raw in (None, [], "row", {"deadline": 3, "managers": "david", "title": ["x"]}):
        fields = service.row_of_memo(raw)
        project_row(**fields).overdue(NOW)  # whatever it says, it says it
    assert service.row_of_memo({"deadline": "2026-13-40T00:00:00+00:00"})["deadline"] is None


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_on_a_narrow_terminal_the_model_keeps_its_version_and_cuts_its_name(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`projektflodet@1.0` was cut to `projektflodet@…`, the version lost: the name gives way
    instead (`projektf…@1.0`); a published model's source goes before its name@version."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: a terminal
    monkeypatch.setenv("COLUMNS", str(columns))
    published = project_row(
        project_id="b", model="acme@2.10", model_source="published", model_hash="ab" * 32
    )
    [_, _, builtin, mine] = table([project_row(), published], capsys)
    assert re.search(r"   pr\w*…@1\.0   ", builtin), builtin
    assert re.search(r"   (?:a\w*…@2\.10|acme@2\.10(?: \(publ\w*)?…)   ", mine), mine
