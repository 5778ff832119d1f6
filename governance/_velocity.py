"""Velocity, burn-up and the completion forecast of an iterative phase: pure functions.

Two dates, from the scope completed in each finished iteration (its velocity):

- **mean**: the remaining scope at the arithmetic mean velocity, in whole iterations
  (``ceil(remaining / mean)``).
- **pessimistic**: with 3 or more finished iterations, a Monte Carlo resample of the past:
  2000 simulated futures each draw a past velocity (with replacement) for every coming
  iteration until the remaining scope is done; the pessimistic figure is the 85th percentile of
  the iterations those futures needed, i.e. a date that 85 % of them meet. It keeps the spread of
  the real iterations (a team with one bad iteration in five gets a later date than a steady one
  with the same mean) without assuming any distribution. With fewer than 3 iterations there is
  too little to resample, and the slowest iteration's velocity is assumed for all that remain.

The random generator is seeded from the velocities alone, so the same history always gives the
same answer (the forecast runs inside a workflow and must come out the same on replay), and a
larger remaining scope never gives an earlier date. A finish more than ``HORIZON`` iterations
away is "not in sight": its iterations and date are None.
"""

from __future__ import annotations

import hashlib
import math
import operator
import random
import struct
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

HORIZON = 1000
"""Iterations beyond which a finish is not in sight (38 years of two-week iterations)."""
SIMULATIONS = 2000
"""Futures the Monte Carlo resample simulates."""
PERCENTILE = 85
"""The share of simulated futures that meet the pessimistic date, in percent."""
MIN_RESAMPLED = 3
"""Finished iterations needed before the past is resampled (fewer: the slowest one is used)."""
_REL_TOL = 1e-9
"""Float sums of decimal velocities (0.1 + 0.2) land a hair short; this much counts as done."""


class Forecast(BaseModel):
    """When the phase's remaining scope is done, at the mean velocity and a pessimistic one."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

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
    """The pace the pessimistic date plans for, per iteration. Fewer than 3 iterations: the
    slowest one. Resampled: the average pace over the pessimistic iterations that 85 % of the
    simulated futures reach or beat (the 15th percentile of the past velocities themselves when
    nothing remains or no finish is in sight)."""
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
    """The forecast from the velocities of finished iterations (None without any).

    ``velocities`` are the scope completed per finished iteration, oldest first, in the
    charter's scope unit; ``remaining`` is the scope still to do (0 or less: done). Raises
    ValueError naming the bad argument for a negative or non-finite velocity, a non-finite
    remaining, or a non-positive iteration length.
    """
    for i, v in enumerate(velocities):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"velocities[{i}]: must be a finite number >= 0, got {v!r}")
    if not math.isfinite(remaining):
        raise ValueError(f"remaining: must be a finite number, got {remaining!r}")
    if iteration_length <= timedelta(0):
        raise ValueError(f"iteration_length: must be positive, got {iteration_length}")
    if not velocities:
        return None
    values = [float(v) for v in velocities]
    mean = math.fsum(values) / len(values)
    slowest = min(values)

    def when(iterations: int | None) -> datetime | None:
        return None if iterations is None else as_of + iterations * iteration_length

    mean_left = _iterations_at(mean, remaining)
    if len(values) < MIN_RESAMPLED:
        pess_left = _iterations_at(slowest, remaining)
        pess_velocity = slowest
        method = (
            f"slowest past iteration ({slowest:g} {unit} per iteration): fewer than "
            f"{MIN_RESAMPLED} finished iterations to resample"
        )
    else:
        pess_left, pess_velocity = resample(values, remaining)
        method = (
            f"{PERCENTILE}th percentile of {SIMULATIONS} Monte Carlo resamples of the "
            f"{len(values)} past velocities: {PERCENTILE}% of simulated futures finish by then"
        )
    if pess_left is None:
        method += f"; not in sight: more than {HORIZON} iterations at that pace"
    return Forecast(
        as_of=as_of,
        unit=unit,
        remaining=remaining,
        based_on=len(values),
        mean_velocity=mean,
        mean_iterations_left=mean_left,
        mean_date=when(mean_left),
        pessimistic_velocity=pess_velocity,
        pessimistic_iterations_left=pess_left,
        pessimistic_date=when(pess_left),
        method=method,
    )


def _done(remaining: float) -> float:
    """The completed scope that counts as ``remaining`` done (a float hair short is done)."""
    return remaining - _REL_TOL * max(1.0, abs(remaining))


def _iterations_at(velocity: float, remaining: float) -> int | None:
    """Whole iterations to finish ``remaining`` at a steady ``velocity`` (None: not in sight)."""
    if remaining <= 0:
        return 0
    if velocity <= 0 or remaining / velocity > HORIZON + 1:
        return None
    iterations = max(1, math.ceil(_done(remaining) / velocity))
    return iterations if iterations <= HORIZON else None


def _seed(velocities: Sequence[float]) -> int:
    """A seed from the velocities alone (their exact bits), stable across processes."""
    packed = struct.pack(f"<{len(velocities)}d", *velocities)
    return int.from_bytes(hashlib.sha256(packed).digest()[:8], "big")


class Resampled(NamedTuple):
    iterations: int | None
    """Iterations that the percentile of futures needs (None: more than ``HORIZON``)."""
    velocity: float
    """The average pace over those iterations that the percentile of futures reaches."""


def resample(
    velocities: Sequence[float],
    remaining: float,
    *,
    simulations: int = SIMULATIONS,
    percentile: int = PERCENTILE,
) -> Resampled:
    """What ``percentile`` % of ``simulations`` resampled futures need to finish ``remaining``.

    Every future draws one past velocity (with replacement) per iteration. The draws depend
    on the velocities alone (their order aside), not on ``remaining``: the same history always
    gives the same answer, and more remaining scope never an earlier finish. All futures step
    one iteration at a time, and the loop stops as soon as enough of them are done, at the
    latest after ``HORIZON`` iterations.
    """
    pool = sorted(float(v) for v in velocities)  # the order of the past does not matter
    rank = len(pool) - _share(len(pool), percentile)  # ascending: percentile % at or above
    quiet = Resampled(None, pool[rank])  # no simulation: the percentile of a single draw
    top = pool[-1]
    if remaining <= 0:
        return quiet._replace(iterations=0)
    if top <= 0 or remaining / top > HORIZON + 1:
        return quiet  # not even the best iteration every time would finish in the horizon
    if pool[0] == top:  # nothing to resample: every future is the same
        return Resampled(_iterations_at(top, remaining), top)
    rng = random.Random(_seed(pool))
    needed = _share(simulations, percentile)
    target = _done(remaining)
    sums = [0.0] * simulations
    for iteration in range(1, HORIZON + 1):
        sums = list(map(operator.add, sums, rng.choices(pool, k=simulations)))
        if sum(map(target.__le__, sums)) >= needed:
            return Resampled(iteration, sorted(sums)[simulations - needed] / iteration)
    return quiet


def _share(count: int, percentile: int) -> int:
    """How many of ``count`` make up ``percentile`` %, rounded up."""
    return -(-count * percentile // 100)
