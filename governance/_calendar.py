"""Working days and ceremony cadences: pure functions over the ``holidays`` library's data.

What counts as a day off: Saturday, Sunday, and the holidays the ``holidays`` library lists for
the country in its ``public`` category, plus its ``de_facto`` category where the country has
one ("treated as public holidays by law": for Sweden Midsommarafton, Julafton and Nyårsafton,
which the Annual Leave Act counts as Sundays). Half days ("from 2pm", the ``bank`` category)
and optional observances are working days. Sundays count as days off as weekends, whatever the
library's ``include_sundays`` setting. Regional holidays (subdivisions) are not counted.

The answers come from the installed library's tables, so every worker that replays a workflow
must run the same ``holidays`` release (a release that corrects a holiday changes the answer).

Inside Temporal's workflow sandbox: ``known_country`` (and so model validation) runs as is
(its list of countries is read before a worker's first workflow task, ``load_lookups``; read
first inside the sandbox, which opens no file, it comes from the library itself);
building a holiday table calls ``locale`` (the library's translations), which the sandbox
refuses. A workflow never builds one: an activity hands it the days off
(``days_off_between``) and ``cadence_times(..., days_off=...)`` counts with those.
Tables are cached per (country, year).

``holidays`` is imported on first use, not when ``governance`` is imported.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from governance._types import format_duration

_DAY = timedelta(days=1)
_WEEK = timedelta(weeks=1)


def known_country(code: str) -> bool:
    """Whether the ``holidays`` library knows public holidays for ``code``: an upper-case
    two-letter code (ISO 3166-1 alpha-2, plus the library's aliases such as UK for GB).

    Reads the library's list of countries without building a holiday table, so it also runs
    inside Temporal's workflow sandbox (a model is validated there when a workflow's input is
    decoded), where building one is refused (the library's translations call ``locale``)."""
    if len(code) != 2 or not code.isascii() or not code.isalpha() or not code.isupper():
        return False
    return code in _country_codes()


@functools.cache
def _country_codes() -> frozenset[str]:
    """The codes ``holidays.list_supported_countries()`` has as keys (a test holds the two
    equal), read from the table of countries in the library's ``registry.py`` without
    importing the library: importing it costs ~40 ms, which a command that only reads a
    model would spend on this one check, and ``list_supported_countries`` imports all ~250
    country modules besides (~120 ms) to list their subdivisions, not asked for here. Should
    that table not be found as a literal, the library is asked."""
    try:
        return _registry_codes()
    except Exception:  # any surprise in the file (a new layout): ask the library instead
        from holidays.registry import EntityLoader

        return frozenset(EntityLoader.get_country_codes(include_aliases=True))


def _registry_codes() -> frozenset[str]:
    """The codes of ``COUNTRIES: RegistryDict = {...}`` in ``holidays/registry.py``, as
    ``EntityLoader`` lists them: an entry is (class name, code, aliases...), and a code has
    two or three letters."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("holidays is not installed as a package")
    source = Path(spec.submodule_search_locations[0], "registry.py").read_bytes()
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.AnnAssign)
            and ast.unparse(node.target) == "COUNTRIES"
            and node.value is not None
        ):
            table = ast.literal_eval(node.value)
            return frozenset(
                code for entry in table.values() for code in entry[1:] if 2 <= len(code) <= 3
            )
    raise LookupError("no COUNTRIES table in holidays/registry.py")


@functools.lru_cache(maxsize=512)
def _days_off(country: str, year: int) -> frozenset[date]:
    """The holidays of ``country`` in ``year`` that are days off (see the module's text)."""
    import holidays
    from holidays.constants import DE_FACTO, PUBLIC

    if not known_country(country):
        raise ValueError(f'"{country}" is not a country the holidays library knows')
    supported = getattr(holidays, country).supported_categories  # the country's class
    categories = (PUBLIC, DE_FACTO) if DE_FACTO in supported else (PUBLIC,)
    return frozenset(holidays.country_holidays(country, years=year, categories=categories))


def working_day(day: date, country: str | None) -> bool:
    """Monday to Friday, and not a public holiday of ``country`` (when one is given).

    Public holidays as the ``holidays`` library lists them (category ``public``), plus its
    ``de_facto`` days off where a country has them (Sweden: Midsummer Eve, Christmas Eve and
    New Year's Eve). An unknown country raises ValueError (models refuse one on validation).
    """
    if isinstance(day, datetime):
        day = day.date()
    if day.weekday() >= 5:
        return False
    return country is None or day not in _days_off(country, day.year)


def days_off_between(country: str | None, first: date, last: date) -> list[date]:
    """The public holidays of ``country`` that fall on a weekday in [first, last], sorted:
    what a workflow is handed (by an activity) instead of reading the library's tables."""
    if country is None:
        return []
    out = {
        day
        for year in range(first.year, last.year + 1)
        for day in _days_off(country, year)
        if first <= day <= last and day.weekday() < 5
    }
    return sorted(out)


def cadence_times(
    start: datetime,
    end: datetime,
    every: timedelta,
    country: str | None,
    *,
    days_off: Collection[date] | None = None,
) -> list[datetime]:
    """When a ceremony held ``every`` falls in [start, end), in ``start``'s time zone, sorted.

    - Whole days that are not whole weeks (P1D, P2D, P3D) count *working* days: P1D is every
      working day at ``start``'s local time of day, starting on ``start``'s own day when that
      is a working day (else on the next one); P2D is every second working day, and so on.
    - Whole weeks (P1W, P2W) count calendar days from ``start``, at ``start``'s local time of
      day: ``start``, ``start`` + 1 week, ... Such a ceremony is never skipped, not even on a
      holiday (a weekly ceremony is held that week all the same; the team moves it).
    - Anything else (PT12H, P1DT12H) counts elapsed time: ``start + k * every`` while before
      ``end``.

    Both ends must be timezone-aware (a naive time has no working day). Empty when
    ``end <= start``. ``days_off``, when given, are the holidays to use instead of looking
    ``country`` up: a workflow gets them from ``days_off_between`` through an activity, so
    its replay never reads the library's tables (which a library upgrade may change).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start: must be timezone-aware")
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError("end: must be timezone-aware")
    if every <= timedelta(0):
        raise ValueError(f"every: must be a positive duration, got {format_duration(every)}")
    # Instants are compared in UTC: Python compares two datetimes of one zone by wall clock,
    # which is wrong in the hour that repeats when summer time ends.
    end_utc = end.astimezone(UTC)
    if end_utc <= start.astimezone(UTC):
        return []
    if every % _DAY:
        return _elapsed(start, end_utc, every)
    if every % _WEEK == timedelta(0):
        return _calendar_days(start, end_utc, every.days)
    if days_off is not None:
        off = frozenset(days_off)
        return _working_days(start, end_utc, every.days, lambda d: d.weekday() < 5 and d not in off)
    return _working_days(start, end_utc, every.days, lambda d: working_day(d, country))


def _at(day: date, start: datetime) -> datetime:
    """``day`` at ``start``'s local time of day (the offset of that day's date, across DST)."""
    return datetime.combine(day, start.timetz())


def _elapsed(start: datetime, end_utc: datetime, every: timedelta) -> list[datetime]:
    origin = start.astimezone(UTC)  # elapsed time: add in UTC, show in start's zone
    count = -(-(end_utc - origin) // every)  # ceil: how many k satisfy start + k * every < end
    return [start, *((origin + k * every).astimezone(start.tzinfo) for k in range(1, count))]


def _calendar_days(start: datetime, end_utc: datetime, step: int) -> list[datetime]:
    out: list[datetime] = []
    day = start.date()
    while (moment := _at(day, start)).astimezone(UTC) < end_utc:
        out.append(moment)
        day += timedelta(days=step)
    return out


def _working_days(
    start: datetime, end_utc: datetime, step: int, works: Callable[[date], bool]
) -> list[datetime]:
    out: list[datetime] = []
    day, nth = start.date(), 0
    while (moment := _at(day, start)).astimezone(UTC) < end_utc:
        if works(day):
            if nth % step == 0:
                out.append(moment)
            nth += 1
        day += _DAY
    return out
