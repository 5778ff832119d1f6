"""How far off a due time is, on the dashboard: calendar days as the CLI counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from phasegate.cli._ops import when_due
from phasegate.web._core import relative

NOW = datetime(2026, 11, 28, 4, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        # A deadline ten days off, a few seconds less: the page once said "in 9 days" beside
        # the date 2026-12-08, where `project status` said "in 10 days".
        (NOW + timedelta(days=10, seconds=-5), "in 10 days"),
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "in 1 day"),
        (NOW + timedelta(days=1), "in 1 day"),
        (NOW + timedelta(hours=5, minutes=3), "in 5 h"),
        (NOW + timedelta(minutes=20), "within the hour"),
        (NOW - timedelta(hours=3), "overdue"),
        (NOW - timedelta(days=2, hours=1), "overdue 2 days"),
        (datetime(2026, 11, 26, 23, 0, tzinfo=UTC), "overdue 2 days"),
        (None, "-"),
    ],
)
def test_a_due_time_is_counted_in_calendar_days(at: datetime | None, shown: str) -> None:
    assert relative(at, NOW) == shown


@pytest.mark.parametrize("days", [2, 10, 30])
def test_the_dashboard_and_the_cli_count_the_same_days(days: int) -> None:
    # Past a day off (within one, the page says "5 h" where the CLI says "5 hours").
    for slack in (timedelta(seconds=-5), timedelta(0), timedelta(hours=5)):
        at = NOW + timedelta(days=days) + slack
        assert relative(at, NOW) == when_due(at, NOW)
        assert relative(NOW - (at - NOW), NOW) == when_due(NOW - (at - NOW), NOW)
