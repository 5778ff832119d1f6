"""Hostile review rev1: `phasegate delegate` with dates at the end of the calendar."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import cli


@pytest.mark.parametrize(
    "window", [["--from", "9999-12-31", "--until", "9999-12-31"], ["--from", "9999-12-31T23:00"]]
)
def test_a_date_at_the_end_of_the_calendar_is_a_usage_error(window: list[str]) -> None:
    """The day after 9999-12-31 (--until includes its day) does not exist: a usage error
    naming the option, not a traceback."""
    args = window if "--until" in window else [*window, "--until", "9999-12-31"]
    result = cli("delegate", "new-crm", "--as", "anna", "--to", "erik", *args)
    assert result.exit_code == 2, result.output
    assert "--" in result.output and "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
