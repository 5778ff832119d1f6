"""Working days and ceremony cadences: what P1D, P2D, P1W and PT12H mean, with and without a
country's public holidays (as the holidays library lists them)."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import governance as g
from tests.governance.gov_cases import PF_MODEL

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


def at(day: date, hour: int = 9, minute: int = 15, tz: ZoneInfo = STOCKHOLM) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def days(times: list[datetime]) -> list[date]:
    return [t.date() for t in times]


def utc(t: datetime) -> datetime:
    """The instant (Python compares two times of one zone by wall clock, even across DST)."""
    return t.astimezone(UTC)


def gaps(times: list[datetime]) -> list[timedelta]:
    return [utc(b) - utc(a) for a, b in itertools.pairwise(times)]


# -- the library's data, as the tests below rely on it -----------------------------------------


def test_the_swedish_holidays_used_below_are_weekdays_and_days_off() -> None:
    # Good Friday, Easter Monday and Ascension Day 2027.
    for day in (date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 6)):
        assert day.weekday() < 5
        assert not g.working_day(day, "SE"), day
        assert g.working_day(day, None), day
    assert g.working_day(date(2027, 5, 6), "GB")  # no Ascension Day in the UK


def test_swedish_de_facto_days_off_count_and_half_days_do_not() -> None:
    # Midsummer Eve, Christmas Eve, New Year's Eve 2027 are Fridays: days off by law in Sweden
    # (the library's de_facto category); the eve of Ascension Day (off from 2pm) is worked.
    for day in (date(2027, 6, 25), date(2027, 12, 24), date(2027, 12, 31)):
        assert day.weekday() == 4
        assert not g.working_day(day, "SE"), day
    assert g.working_day(date(2027, 5, 5), "SE")


def test_weekends_are_never_working_days_and_a_datetime_counts_as_its_date() -> None:
    assert not g.working_day(date(2027, 5, 8), None)  # Saturday
    assert not g.working_day(date(2027, 5, 9), "SE")  # Sunday
    assert g.working_day(date(2027, 5, 10), "SE")  # Monday
    assert not g.working_day(at(date(2027, 5, 6)), "SE")


def test_known_country_accepts_the_library_s_two_letter_codes_only() -> None:
    for code in ("SE", "NO", "DE", "GB", "US", "CH"):
        assert g.known_country(code), code
    for code in ("XX", "QQ", "se", "Se", "SWE", "S", "", "S1", "ÅÄ"):
        assert not g.known_country(code), code


def test_working_day_in_an_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match='"XX" is not a country the holidays library knows'):
        g.working_day(date(2027, 5, 6), "XX")


# -- P1D and P2D count working days ------------------------------------------------------------


def test_three_weeks_from_a_monday_hold_fifteen_daily_standups() -> None:
    start = at(date(2027, 4, 26))
    assert start.weekday() == 0
    times = g.cadence_times(start, start + 3 * WEEK, DAY, None)
    assert len(times) == 15
    assert times[0] == start
    assert {t.weekday() for t in times} == {0, 1, 2, 3, 4}
    assert all(t.time() == time(9, 15) and t.tzinfo is STOCKHOLM for t in times)


def test_a_swedish_holiday_on_a_weekday_drops_one_standup() -> None:
    start = at(date(2027, 4, 26))  # the window holds Ascension Day, Thursday 6 May 2027
    times = g.cadence_times(start, start + 3 * WEEK, DAY, "SE")
    assert len(times) == 14
    assert date(2027, 5, 6) not in days(times)
    assert date(2027, 5, 5) in days(times) and date(2027, 5, 7) in days(times)


def test_easter_drops_two_standups_in_sweden() -> None:
    start = at(date(2027, 3, 22))  # Good Friday 26 March, Easter Monday 29 March
    times = g.cadence_times(start, start + 3 * WEEK, DAY, "SE")
    assert len(times) == 13
    assert not {date(2027, 3, 26), date(2027, 3, 29)} & set(days(times))


def test_daily_standups_keep_the_local_time_across_summer_time() -> None:
    start = at(date(2027, 3, 22))  # Stockholm moves to summer time on Sunday 28 March
    times = g.cadence_times(start, start + 2 * WEEK, DAY, None)
    assert [t.time() for t in times] == [time(9, 15)] * 10
    assert times[4].utcoffset() == timedelta(hours=1)
    assert times[5].utcoffset() == timedelta(hours=2)


def test_a_start_on_a_weekend_begins_on_the_next_working_day_at_the_start_s_time() -> None:
    start = at(date(2027, 5, 1), 10, 0)  # Saturday
    times = g.cadence_times(start, start + WEEK, DAY, None)
    assert days(times) == [date(2027, 5, 3) + k * DAY for k in range(5)]
    assert all(t.time() == time(10, 0) for t in times)


def test_a_start_late_on_a_working_day_counts_that_day() -> None:
    start = at(date(2027, 5, 3), 23, 30)
    times = g.cadence_times(start, start + DAY, DAY, None)
    assert times == [start]


def test_the_end_is_excluded() -> None:
    start = at(date(2027, 5, 3))
    assert g.cadence_times(start, start + 2 * DAY, DAY, None) == [start, start + DAY]
    assert len(g.cadence_times(start, start + 2 * DAY + timedelta(seconds=1), DAY, None)) == 3


def test_every_second_working_day_skips_weekends_and_holidays_in_its_count() -> None:
    start = at(date(2027, 4, 26))
    plain = g.cadence_times(start, start + 3 * WEEK, 2 * DAY, None)
    assert len(plain) == 8
    assert [d.day for d in days(plain)] == [26, 28, 30, 4, 6, 10, 12, 14]
    swedish = g.cadence_times(start, start + 3 * WEEK, 2 * DAY, "SE")
    # Working days: 26 27 28 29 30 | 3 4 5 7 | 10 11 12 13 14 (6 May off): every second one.
    assert [d.day for d in days(swedish)] == [26, 28, 30, 4, 7, 11, 13]


def test_every_third_working_day() -> None:
    start = at(date(2027, 4, 26))
    times = g.cadence_times(start, start + 3 * WEEK, 3 * DAY, None)
    assert [d.day for d in days(times)] == [26, 29, 4, 7, 12]


# -- weeks and sub-day cadences count calendar time --------------------------------------------


def test_weekly_counts_calendar_weeks_and_skips_no_holiday() -> None:
    start = at(date(2027, 3, 22))
    times = g.cadence_times(start, start + 3 * WEEK, WEEK, "SE")
    assert times == [start, at(date(2027, 3, 29)), at(date(2027, 4, 5))]  # 29 March: Easter Mon
    assert times[1].utcoffset() == timedelta(hours=2)  # same local time after summer time


def test_fortnightly_over_six_weeks_is_three_times() -> None:
    start = at(date(2027, 4, 26))
    times = g.cadence_times(start, start + 6 * WEEK, 2 * WEEK, "SE")
    assert days(times) == [date(2027, 4, 26), date(2027, 5, 10), date(2027, 5, 24)]


def test_weekly_from_a_saturday_stays_on_saturdays() -> None:
    start = at(date(2027, 5, 1))
    times = g.cadence_times(start, start + 2 * WEEK, WEEK, None)
    assert [t.weekday() for t in times] == [5, 5]


def test_twelve_hours_counts_elapsed_time_weekends_included() -> None:
    start = datetime(2027, 5, 7, 9, 0, tzinfo=UTC)  # Friday
    times = g.cadence_times(start, start + 3 * DAY, timedelta(hours=12), "SE")
    assert times == [start + k * timedelta(hours=12) for k in range(6)]


def test_twelve_hours_across_summer_time_is_twelve_real_hours() -> None:
    start = at(date(2027, 3, 27), 9, 0)
    times = g.cadence_times(start, start + 2 * DAY, timedelta(hours=12), None)
    assert [t.hour for t in times] == [9, 21, 10, 22]
    assert gaps(times) == [timedelta(hours=12)] * 3
    assert all(t.tzinfo is STOCKHOLM for t in times)


def test_an_end_in_another_zone_is_compared_as_an_instant() -> None:
    start = at(date(2027, 5, 3), 9, 0)  # 07:00 UTC
    end = datetime(2027, 5, 4, 7, 0, tzinfo=UTC)  # 09:00 Stockholm, the next stand-up
    assert g.cadence_times(start, end, DAY, None) == [start]


# -- bad input -----------------------------------------------------------------------------------


def test_an_empty_or_backward_window_has_no_times() -> None:
    start = at(date(2027, 5, 3))
    assert g.cadence_times(start, start, DAY, None) == []
    assert g.cadence_times(start, start - WEEK, DAY, None) == []


POSITIVE = "every: must be a positive duration"


@pytest.mark.parametrize(
    ("start", "end", "every", "message"),
    [
        (datetime(2027, 5, 3, 9), at(date(2027, 5, 10)), DAY, "start: must be timezone-aware"),
        (at(date(2027, 5, 3)), datetime(2027, 5, 10), DAY, "end: must be timezone-aware"),
        (at(date(2027, 5, 3)), at(date(2027, 5, 10)), timedelta(0), f"{POSITIVE}, got PT0S"),
        (at(date(2027, 5, 3)), at(date(2027, 5, 10)), -DAY, f"{POSITIVE}, got -P1D"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    start: datetime, end: datetime, every: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        g.cadence_times(start, end, every, None)


def test_an_unknown_country_is_refused_for_day_cadences() -> None:
    start = at(date(2027, 5, 3))
    with pytest.raises(ValueError, match='"XX" is not a country'):
        g.cadence_times(start, start + WEEK, DAY, "XX")


# -- the model -----------------------------------------------------------------------------------


def _model_with_country(country: str | None) -> g.GovernanceModel:
    data = copy.deepcopy(PF_MODEL)
    data["calendar"] = {"country": country}
    return g.parse_model(yaml.safe_dump(data, allow_unicode=True), "model.yaml")


def test_models_with_a_known_country_or_none_validate() -> None:
    assert _model_with_country("SE").calendar.country == "SE"
    assert _model_with_country("NO").calendar.country == "NO"
    assert _model_with_country(None).calendar.country is None


@pytest.mark.parametrize("code", ["XX", "QQ", "ZZ"])
def test_a_model_with_an_unknown_country_is_refused_at_calendar_country(code: str) -> None:
    with pytest.raises(g.GovernanceError) as info:
        _model_with_country(code)
    assert [str(i) for i in info.value.issues] == [
        f'calendar.country: "{code}" is not a country the holidays library knows '
        "(an ISO 3166-1 alpha-2 code, e.g. SE, NO, DE)"
    ]


def test_importing_governance_does_not_import_the_holidays_library() -> None:
    code = "import sys, governance; print('holidays' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_countries_known_are_the_library_s_own_list() -> None:
    """known_country reads the library's table of countries without importing the library:
    the same codes as list_supported_countries, which imports every country's module."""
    import holidays

    from governance import _calendar

    assert _calendar._registry_codes() == frozenset(holidays.list_supported_countries())


def test_the_library_answers_when_its_table_of_countries_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import holidays

    from governance import _calendar

    def unreadable() -> frozenset[str]:
        raise SyntaxError("a new layout of holidays/registry.py")

    monkeypatch.setattr(_calendar, "_registry_codes", unreadable)
    _calendar._country_codes.cache_clear()
    try:
        assert _calendar._country_codes() == frozenset(holidays.list_supported_countries())
        assert g.known_country("SE")
        assert not g.known_country("XX")
    finally:
        _calendar._country_codes.cache_clear()  # read from the table again by the next test


# -- properties ----------------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, STOCKHOLM, ZoneInfo("America/New_York")])
STARTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=ZONES
)
WINDOWS = st.timedeltas(min_value=timedelta(0), max_value=6 * WEEK)
COUNTRIES = st.sampled_from([None, "SE", "DE", "US", "GB"])
CADENCES = st.sampled_from(
    [DAY, 2 * DAY, 3 * DAY, 5 * DAY, WEEK, 2 * WEEK, timedelta(hours=12), timedelta(hours=36)]
)


@settings(max_examples=150, deadline=None)
@given(start=STARTS, window=WINDOWS, every=CADENCES, country=COUNTRIES)
def test_times_lie_in_the_window_sorted_in_the_start_s_zone(
    start: datetime, window: timedelta, every: timedelta, country: str | None
) -> None:
    end = start + window
    times = g.cadence_times(start, end, every, country)
    assert all(utc(start) <= utc(t) < utc(end) for t in times)
    assert all(gap > timedelta(0) for gap in gaps(times))
    assert all(t.tzinfo is start.tzinfo for t in times)
    if every % DAY == timedelta(0) and every % WEEK:
        assert all(g.working_day(t.date(), country) for t in times)
        assert all(t.timetz() == start.timetz() for t in times)


@settings(max_examples=100, deadline=None)
@given(start=STARTS, window=WINDOWS, n=st.integers(1, 6), country=COUNTRIES)
def test_daily_is_every_working_day_and_n_days_every_nth_of_them(
    start: datetime, window: timedelta, n: int, country: str | None
) -> None:
    end = start + window
    daily = g.cadence_times(start, end, DAY, country)
    expected = [
        d
        for k in range(window.days + 2)
        if g.working_day(d := start.date() + k * DAY, country)
        and utc(datetime.combine(d, start.timetz())) < utc(end)
    ]
    assert days(daily) == expected
    assert g.cadence_times(start, end, n * DAY, country) == daily[::n]


@settings(max_examples=100, deadline=None)
@given(start=STARTS, window=WINDOWS, every=st.sampled_from([timedelta(hours=12), WEEK, 2 * WEEK]))
def test_calendar_cadences_start_at_start_and_never_skip(
    start: datetime, window: timedelta, every: timedelta
) -> None:
    end = start + window
    times = g.cadence_times(start, end, every, "SE")
    if utc(end) > utc(start):
        assert times[0] == start
    if every < DAY:  # elapsed time: exactly every apart, and as many as fit before the end
        assert gaps(times) == [every] * (len(times) - 1)
        assert len(times) == -(-(utc(end) - utc(start)) // every)
