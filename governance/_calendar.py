"""Working days and ceremony cadences: pure functions over the ``holidays`` library's data."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def known_country(code: str) -> bool:
    """Whether the ``holidays`` library knows public holidays for ``code`` (ISO 3166-1)."""
    raise NotImplementedError  # written by the governance helper


def working_day(day: date, country: str | None) -> bool:
    """Monday to Friday, and not a public holiday of ``country`` (when one is given)."""
    raise NotImplementedError  # written by the governance helper


def cadence_times(
    start: datetime, end: datetime, every: timedelta, country: str | None
) -> list[datetime]:
    """When a ceremony held ``every`` falls in [start, end)."""
    raise NotImplementedError  # written by the governance helper
