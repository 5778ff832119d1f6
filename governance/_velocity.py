"""Velocity, burn-up and the completion forecast of an iterative phase: pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Forecast(BaseModel):
    """When the phase's remaining scope is done, at the mean velocity and a pessimistic one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: datetime
    unit: Literal["points", "items"]
    remaining: float
    based_on: int
    """How many finished iterations the velocities come from."""
    mean_velocity: float
    mean_iterations_left: int | None
    mean_date: datetime | None
    """None when no velocity was ever made: no finish is in sight."""
    pessimistic_velocity: float
    pessimistic_iterations_left: int | None
    pessimistic_date: datetime | None
    method: str
    """How the pessimistic figure is made, in words (shown with it)."""


def forecast(
    velocities: Sequence[float],
    remaining: float,
    *,
    as_of: datetime,
    iteration_length: timedelta,
    unit: Literal["points", "items"],
) -> Forecast | None:
    """The forecast from the velocities of finished iterations (None without any)."""
    raise NotImplementedError  # written by the governance helper
