"""Tolerances and RAG: how far each aspect's forecast is from its baseline, against the
tolerance each level was given. Pure functions, tested without Temporal."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from governance._earned_value import EarnedValue

Colour = Literal["green", "amber", "red"]
Level = Literal["project", "stage", "work_package"]


class ControlFigures(BaseModel):
    """What the RAG is computed from: the last progress report's earned value and the
    figures of the aspects earned value does not cover."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    model_config = ConfigDict(frozen=True, extra="forbid")

    levels: dict[str, dict[str, AspectStatus]] = Field(
        description="level -> aspect -> status, for every tolerance the level has."
    )
    by_aspect: dict[str, Colour] = Field(description="The worst colour of each aspect.")
    worst: Colour
