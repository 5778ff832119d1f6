"""Tolerances and RAG: how far each aspect's forecast is from its baseline, against the
tolerance each level was given. Pure functions, tested without Temporal."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from governance._charter import Charter
from governance._earned_value import EarnedValue
from governance._model import ASPECTS, GovernanceModel, Tolerances

Colour = Literal["green", "amber", "red"]
Level = Literal["project", "stage", "work_package"]


class ControlFigures(BaseModel):
    """What the RAG is computed from: the last progress report's earned value and the
    figures of the aspects earned value does not cover."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    earned_value: EarnedValue
    velocity_end: date | None = Field(
        None, description="The velocity forecast's (mean) end, where iterations ran."
    )
    total_scope: float = Field(description="The baseline's scope, in the charter's unit.")
    added_scope: float = Field(
        0.0, description="Scope added without an approved change (iterations' additions)."
    )
    quality_scope: float = Field(0.0, description="Scope failing its quality criteria.")
    risk_exposure: float = Field(0.0, description="Sum of probability x impact of open risks.")
    benefits_forecast: float | None = Field(
        None, description="Expected benefits, percent of the business case's (100: as planned)."
    )


class AspectStatus(BaseModel):
    """One aspect at one level: the forecast deviation against the tolerance."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    aspect: str
    level: str
    colour: Colour
    deviation: float | None = Field(
        description="The adverse forecast deviation, in days (time) or percent (the others); "
        "None when nothing is reported for the aspect."
    )
    tolerance: float = Field(description="The tolerance, in days (time) or percent.")
    used: float | None = Field(description="deviation / tolerance (1.0: all of it used).")


class RagReport(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    levels: dict[str, dict[str, AspectStatus]] = Field(
        description="level -> aspect -> status, for every tolerance the level has."
    )
    by_aspect: dict[str, Colour] = Field(description="The worst colour of each aspect.")
    worst: Colour


EVALUATED: tuple[Level, ...] = ("project", "stage")
"""The project-wide levels RAG is computed for; a work package is evaluated on its own
baseline (``WorkPackage.baseline``) against ``package_tolerances``."""
_ORDER: dict[Colour, int] = {"green": 0, "amber": 1, "red": 2}
PRECISION = 9
"""Decimals deviations and shares used are rounded to: float noise (10.000000000000002 %)
must not turn a forecast exactly at its tolerance red."""


def _level_tolerances(
    model: GovernanceModel, charter: Charter, level: Level, widened: Tolerances | None
) -> Tolerances | None:
    """One level's tolerances: the model's, overridden aspect by aspect by the charter's,
    then by ``widened`` (None when the model gives the level none)."""
    given: Tolerances | None = getattr(model.tolerances, level)
    if given is None:
        return None
    values = dict(given.items())
    for override in (getattr(charter.tolerances, level), widened):
        if override is not None:
            values.update(override.items())
    return Tolerances.model_validate(values)


def effective_tolerances(
    model: GovernanceModel, charter: Charter, widened: Mapping[str, Tolerances]
) -> dict[str, Tolerances]:
    """The tolerances each evaluated level works within: the model's, overridden aspect by
    aspect by the charter's, then by any the level above widened (an exception decision)."""
    out: dict[str, Tolerances] = {}
    for level in EVALUATED:
        given = _level_tolerances(model, charter, level, widened.get(level))
        if given is not None:
            out[level] = given
    return out


def package_tolerances(
    model: GovernanceModel, charter: Charter, widened: Tolerances | None
) -> Tolerances | None:
    """The tolerances a work package works within: the model's work_package level,
    overridden aspect by aspect by the charter's, then by ``widened`` (that work package's,
    from an exception decision). None when the model has no work_package tolerances."""
    return _level_tolerances(model, charter, "work_package", widened)


def _share(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole`` (any part of nothing is infinitely much)."""
    if whole:
        return part * 100 / whole
    return math.inf if part > 0 else 0.0


def deviation(aspect: str, figures: ControlFigures) -> float | None:
    """The adverse forecast deviation of ``aspect``: days late (time) or percent (the others),
    never negative; None when nothing forecasts it (no SPI or velocity end yet; no benefits
    forecast reported)."""
    ev = figures.earned_value
    value: float
    if aspect == "time":
        ends = [end for end in (ev.forecast_end, figures.velocity_end) if end is not None]
        if not ends:
            return None
        value = (max(ends) - ev.planned_end).days
    elif aspect == "cost":
        value = _share(ev.eac - ev.bac, ev.bac)
    elif aspect == "scope":
        value = _share(figures.added_scope, figures.total_scope)
    elif aspect == "quality":
        value = _share(figures.quality_scope, figures.total_scope)
    elif aspect == "risk":
        value = _share(figures.risk_exposure, ev.bac)
    elif aspect == "benefits":
        if figures.benefits_forecast is None:
            return None
        value = 100 - figures.benefits_forecast
    else:
        raise ValueError(f"unknown aspect {aspect!r}; aspects: {', '.join(ASPECTS)}")
    return max(round(value, PRECISION), 0.0)


def _limit(value: float | timedelta) -> float:
    """A tolerance as a number: days for time, percent for the others."""
    return value.total_seconds() / 86400 if isinstance(value, timedelta) else float(value)


def aspect_status(
    aspect: str, level: str, tolerance: float, amber_at: float, figures: ControlFigures
) -> AspectStatus:
    """One aspect at one level: red when the forecast deviation exceeds the tolerance
    (exactly at it is not red), amber once ``amber_at`` percent of it is used, else green."""
    dev = deviation(aspect, figures)
    used: float | None = None
    colour: Colour = "green"
    if dev is not None:
        used = round(dev / tolerance, PRECISION) if tolerance else (math.inf if dev else 0.0)
        if dev > tolerance:
            colour = "red"
        elif used >= round(amber_at / 100, PRECISION):
            colour = "amber"
    return AspectStatus(
        aspect=aspect, level=level, colour=colour, deviation=dev, tolerance=tolerance, used=used
    )


def worst_colour(colours: Iterable[Colour]) -> Colour:
    return max(colours, key=_ORDER.__getitem__, default="green")


def rag(
    tolerances: Mapping[str, Tolerances], amber_at: float, figures: ControlFigures
) -> RagReport:
    """The RAG of every aspect each level has a tolerance for, the worst colour of each aspect
    over the levels, and the worst of all (green when nothing is evaluated)."""
    levels = {
        level: {
            aspect: aspect_status(aspect, level, _limit(value), amber_at, figures)
            for aspect, value in given.items()
        }
        for level, given in tolerances.items()
    }
    by_aspect: dict[str, Colour] = {}
    for statuses in levels.values():
        for aspect, st in statuses.items():
            by_aspect[aspect] = worst_colour([by_aspect.get(aspect, "green"), st.colour])
    ordered = {a: by_aspect[a] for a in ASPECTS if a in by_aspect}
    return RagReport(levels=levels, by_aspect=ordered, worst=worst_colour(ordered.values()))
