"""Earned value management: the standard figures from a baseline and a progress report.

Pure functions (no Temporal, no clock): the project workflow calls them on every progress
report, the CLI and the reports show what they return.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from governance._charter import Baseline

DAY_PRECISION = 6
"""Decimals of a day a forecast duration is rounded to before it is rounded up to whole
days: float noise in SPI (0.9999999999 for "on plan") must never add a day."""


class EarnedValue(BaseModel):
    """The earned-value figures of one progress report, in the charter's currency.

    ``spi``, ``cpi`` and ``tcpi`` are None where their denominator is zero (nothing planned
    yet, nothing spent yet, or the budget spent)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    as_of: date
    bac: float = Field(description="Budget at completion: the baseline's budget.")
    pv: float = Field(description="Planned value: the budget planned to be spent by as_of.")
    ev: float = Field(description="Earned value: BAC x earned scope / total scope.")
    ac: float = Field(description="Actual cost by as_of.")
    sv: float = Field(description="Schedule variance: EV - PV.")
    cv: float = Field(description="Cost variance: EV - AC.")
    spi: float | None = Field(description="Schedule performance index: EV / PV.")
    cpi: float | None = Field(description="Cost performance index: EV / AC.")
    eac: float = Field(
        description="Estimate at completion, BAC / CPI (AC + BAC - EV while CPI is unknown "
        "or zero)."
    )
    eac_atypical: float = Field(description="EAC if the rest goes to plan: AC + (BAC - EV).")
    etc: float = Field(description="Estimate to complete: EAC - AC.")
    vac: float = Field(description="Variance at completion: BAC - EAC.")
    tcpi: float | None = Field(
        description="To-complete performance index against BAC: (BAC - EV) / (BAC - AC)."
    )
    percent_complete: float = Field(description="EV / BAC x 100.")
    percent_planned: float = Field(description="PV / BAC x 100.")
    planned_end: date
    forecast_end: date | None = Field(
        description="start + planned duration / SPI; None while SPI is unknown or zero."
    )


def _curve(baseline: Baseline) -> list[tuple[int, float]]:
    """The planned-value curve as (days after start, cumulative amount), from (0, 0)."""
    bac = float(baseline.budget)
    days = (baseline.planned_end - baseline.start).days
    points = [((p.date - baseline.start).days, float(p.amount)) for p in baseline.planned_value]
    if not points:
        return [(0, 0.0), (days, bac)]
    if points[0][0] > 0:
        points.insert(0, (0, 0.0))
    last_day, last_amount = points[-1]
    if last_day < days and last_amount < bac:
        points.append((days, bac))
    return points


def planned_value(baseline: Baseline, on: date) -> float:
    """PV: the budget planned to be spent by ``on``, counted in whole days from the start.

    The budget spread linearly from ``start`` (0) to ``planned_end`` (BAC); with a
    ``planned_value`` curve, piecewise-linear through (start, 0), its points, and
    (planned_end, BAC) when the curve stops short of both. Nothing before the start; flat
    after the curve's last point (BAC after planned_end when there is no curve).
    """
    day = (on - baseline.start).days
    points = _curve(baseline)
    if day <= points[0][0]:
        return points[0][1] if day == points[0][0] else 0.0
    for (d0, a0), (d1, a1) in itertools.pairwise(points):
        if day <= d1:
            return a0 + (a1 - a0) * (day - d0) / (d1 - d0)
    return points[-1][1]


def forecast_end(baseline: Baseline, spi: float | None) -> date | None:
    """When the project ends at its schedule performance so far: start + planned duration /
    SPI, rounded up to whole days (date.max if that lies beyond the calendar); None while SPI
    is unknown or zero. SPI = 1 gives the planned end exactly."""
    if spi is None or spi <= 0:
        return None
    planned = (baseline.planned_end - baseline.start).days
    days = round(planned / spi, DAY_PRECISION)  # inf for a vanishing SPI
    if days > (date.max - baseline.start).days:
        return date.max
    return baseline.start + timedelta(days=math.ceil(days))


def _ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None where it is undefined or beyond a float (a vanishing
    denominator such as an actual cost of 1e-320): every figure stays a finite number."""
    if denominator == 0:
        return None
    try:
        value = numerator / denominator
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def earned_value(
    baseline: Baseline, as_of: date, actual_cost: float, earned_scope: float
) -> EarnedValue:
    """The earned-value figures of a progress report against ``baseline`` (see the README's
    "Control formulas"): EV = BAC x earned scope / total scope, AC = ``actual_cost``.

    ``ValueError`` for a negative or non-finite figure (the workflow refuses those first).
    """
    for name, value in (("actual_cost", actual_cost), ("earned_scope", earned_scope)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    bac = float(baseline.budget)
    pv = planned_value(baseline, as_of)
    ev = bac * earned_scope / baseline.scope.amount
    ac = float(actual_cost)
    spi = _ratio(ev, pv)
    cpi = _ratio(ev, ac)
    eac_atypical = ac + (bac - ev)
    eac = bac / cpi if cpi is not None and cpi > 0 else eac_atypical
    return EarnedValue(
        as_of=as_of,
        bac=bac,
        pv=pv,
        ev=ev,
        ac=ac,
        sv=ev - pv,
        cv=ev - ac,
        spi=spi,
        cpi=cpi,
        eac=eac,
        eac_atypical=eac_atypical,
        etc=eac - ac,
        vac=bac - eac,
        tcpi=_ratio(bac - ev, bac - ac),
        percent_complete=ev / bac * 100 if bac else 0.0,
        percent_planned=pv / bac * 100 if bac else 0.0,
        planned_end=baseline.planned_end,
        forecast_end=forecast_end(baseline, spi),
    )
