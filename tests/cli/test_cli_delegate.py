"""``phasegate delegate``: its dates are read before anything is sent; a bad one is a usage
error naming the option, and no server is asked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from phasegate.cli._delegate import parse_when
from tests.cli.cli_support import cli


def test_a_date_is_a_whole_local_day_and_a_time_is_taken_as_written() -> None:
    start = parse_when("--from", "2027-03-01")
    end = parse_when("--until", "2027-03-05", end_of_day=True)
    assert start.tzinfo is not None and (start.hour, start.minute) == (0, 0)
    assert end - start == timedelta(days=5)  # the last day is included
    at = parse_when("--from", "2027-03-01T08:30+01:00")
    assert at == datetime.fromisoformat("2027-03-01T07:30+00:00")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "soon", "--until", "2027-03-05"], ["--from", "neither a date"]),
        (["--from", "2027-03-01", "--until", "2027-02-30"], ["--until", "neither a date"]),
        (["--from", "2027-03-01T08:00", "--until", "2027-03-05"], ["--from", "time zone"]),
    ],
)
def test_a_bad_date_is_a_usage_error_naming_the_option(args: list[str], words: list[str]) -> None:
    result = cli("delegate", "new-crm", "--as", "anna", "--to", "erik", *args)
    assert result.exit_code == 2, result.output
    assert all(w in result.output for w in words), result.output
