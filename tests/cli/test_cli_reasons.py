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
    from datetime import UTC, datetime, timedelta

    from phasegate.cli._ops import when_due

    now = datetime(2027, 1, 10, 9, 30, tzinfo=UTC)
    assert when_due(datetime(2027, 1, 13, 8, tzinfo=UTC), now) == "in 3 days"
    assert when_due(datetime(2027, 1, 11, 12, tzinfo=UTC), now) == "in 1 day"
    assert when_due(now + timedelta(hours=5, minutes=10), now) == "in 5 hours"
    assert when_due(now + timedelta(hours=1), now) == "in 1 hour"
    assert when_due(now + timedelta(minutes=20), now) == "in 20 minutes"
    assert when_due(now, now) == "in 0 minutes"
    assert when_due(now - timedelta(minutes=1), now) == "overdue 1 minute"
    assert when_due(now - timedelta(hours=3), now) == "overdue 3 hours"
    assert when_due(datetime(2027, 1, 8, 23, tzinfo=UTC), now) == "overdue 2 days"
