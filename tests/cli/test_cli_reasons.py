"""A reason for every no (issue 12, item 4): reject, rework, hold and cancel need --comment,
refused before anything is sent (exit 2); approve and resume do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, snapshot

NO_SERVER = "error: no phasegate dev server runs for data dir"


@pytest.mark.parametrize(
    "args",
    [
        ["gate", "decide", "new-crm", "--as", "anna", "--decision", "reject"],
        ["gate", "decide", "new-crm", "--as", "anna", "--decision", "rework"],
        ["gate", "decide", "new-crm", "--as", "anna", "--decision", "rework", "--comment", " "],
        ["hold", "new-crm", "--as", "anna"],
        ["cancel", "new-crm", "--as", "anna"],
    ],
)
def test_a_no_without_a_reason_is_refused_before_anything_is_sent(
    tmp_path: Path, args: list[str]
) -> None:
    before = snapshot(tmp_path)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "needs --comment" in result.stderr and NO_SERVER not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["gate", "decide", "new-crm", "--as", "anna", "--decision", "approve"],
        [
            "gate",
            "decide",
            "new-crm",
            "--as",
            "anna",
            "--decision",
            "reject",
            "--comment",
            "No case",
        ],
        ["resume", "new-crm", "--as", "anna"],
        ["hold", "new-crm", "--as", "anna", "--comment", "Budget review"],
    ],
)
def test_with_a_reason_or_without_a_no_the_command_goes_on(args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 1 and NO_SERVER in result.stderr, result.output


def test_tasks_say_when_they_are_due() -> None:
    from datetime import date

    from phasegate.cli._ops import when_due

    today = date(2027, 1, 10)
    assert when_due(date(2027, 1, 13), today) == "in 3 days"
    assert when_due(date(2027, 1, 11), today) == "in 1 day"
    assert when_due(today, today) == "today"
    assert when_due(date(2027, 1, 8), today) == "overdue 2 days"
