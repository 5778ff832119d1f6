"""Earned value management: the standard figures from a baseline and a progress report.

Pure functions (no Temporal, no clock): the project workflow calls them on every progress
report, the CLI and the reports show what they return.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class EarnedValue(BaseModel):
    """The earned-value figures of one progress report, in the charter's currency.

    ``spi``, ``cpi`` and ``tcpi`` are None where their denominator is zero (nothing planned
    yet, nothing spent yet, or the budget spent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
