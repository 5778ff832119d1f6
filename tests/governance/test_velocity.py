"""The completion forecast from velocity: the mean date by hand, the pessimistic (Monte Carlo
85th percentile, or the slowest iteration with fewer than 3) by its properties."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import governance as g
from governance._velocity import HORIZON, resample

AS_OF = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
FORTNIGHT = timedelta(weeks=2)


def fc(velocities: list[float], remaining: float, **kw: object) -> g.Forecast:
    args: dict[str, object] = {"as_of": AS_OF, "iteration_length": FORTNIGHT, "unit": "points"}
    args.update(kw)
    result = g.forecast(velocities, remaining, **args)  # type: ignore[arg-type]
    assert result is not None
    return result


# -- by hand -------------------------------------------------------------------------------------


def test_no_finished_iteration_gives_no_forecast() -> None:
    assert g.forecast([], 45, as_of=AS_OF, iteration_length=FORTNIGHT, unit="points") is None


def test_mean_of_ten_twelve_eight_with_45_left_is_five_iterations() -> None:
    f = fc([10, 12, 8], 45)
    assert f.mean_velocity == 10
    assert f.mean_iterations_left == 5  # 45 / 10 = 4.5, rounded up to whole iterations
    assert f.mean_date == AS_OF + 5 * FORTNIGHT == datetime(2027, 7, 12, 9, 0, tzinfo=UTC)
    assert f.based_on == 3
    assert f.remaining == 45
    assert f.unit == "points"
    assert f.as_of == AS_OF
    # Resampled: at least ceil(45 / 12) = 4 iterations (all best), at most ceil(45 / 8) = 6.
    assert f.pessimistic_iterations_left is not None
    assert 5 <= f.pessimistic_iterations_left <= 6
    assert f.pessimistic_date == AS_OF + f.pessimistic_iterations_left * FORTNIGHT
    # The pace 85% of futures reach over those iterations: enough to finish, within the past.
    assert 45 / f.pessimistic_iterations_left <= f.pessimistic_velocity <= 12
    assert "85th percentile of 2000 Monte Carlo resamples of the 3 past velocities" in f.method


def test_an_exact_multiple_needs_no_extra_iteration() -> None:
    f = fc([10, 10, 10], 30)
    assert (f.mean_iterations_left, f.pessimistic_iterations_left) == (3, 3)


def test_decimal_velocities_that_sum_a_hair_short_still_finish() -> None:
    # 0.1 + 0.2 != 0.3 in floats; three iterations of 0.1 do finish 0.3 of scope.
    f = fc([0.1, 0.1, 0.1], 0.3)
    assert f.mean_iterations_left == 3
    assert f.pessimistic_iterations_left == 3
    f = fc([0.1, 0.2, 0.3], 0.6)
    assert f.mean_velocity == pytest.approx(0.2)
    assert f.mean_iterations_left == 3


def test_one_iteration_falls_back_to_the_slowest_which_is_itself() -> None:
    f = fc([7], 20, unit="items")
    assert (f.mean_iterations_left, f.pessimistic_iterations_left) == (3, 3)
    assert f.pessimistic_velocity == 7
    assert f.method == (
        "slowest past iteration (7 items per iteration): fewer than 3 finished iterations "
        "to resample"
    )


def test_two_iterations_take_the_slowest_for_the_pessimistic_date() -> None:
    f = fc([12, 4], 20, iteration_length=timedelta(weeks=3))
    assert f.mean_velocity == 8
    assert f.mean_iterations_left == 3
    assert f.pessimistic_velocity == 4
    assert f.pessimistic_iterations_left == 5
    assert f.pessimistic_date == AS_OF + 15 * timedelta(weeks=1)


def test_nothing_remaining_is_done_now() -> None:
    for remaining in (0, -3):
        f = fc([10, 12, 8], remaining)
        assert f.mean_iterations_left == f.pessimistic_iterations_left == 0
        assert f.mean_date == f.pessimistic_date == AS_OF
        assert f.pessimistic_velocity == 8  # nothing to imply: the slowest past one
    f = fc([0, 0], 0)  # even with no velocity at all
    assert f.mean_date == f.pessimistic_date == AS_OF


def test_zero_velocity_is_no_finish_in_sight() -> None:
    f = fc([0, 0, 0], 10)
    assert f.mean_velocity == 0
    assert f.mean_iterations_left is None and f.mean_date is None
    assert f.pessimistic_iterations_left is None and f.pessimistic_date is None
    assert "not in sight" in f.method


def test_a_slowest_iteration_of_zero_puts_only_the_pessimistic_date_out_of_sight() -> None:
    f = fc([6, 0], 12)
    assert f.mean_iterations_left == 4
    assert f.pessimistic_iterations_left is None and f.pessimistic_date is None
    assert f.method.endswith("; not in sight: more than 1000 iterations at that pace")


def test_a_few_empty_iterations_among_good_ones_still_finish() -> None:
    f = fc([10, 0, 10, 10], 30)
    assert f.mean_iterations_left == 4  # 30 / 7.5
    assert f.pessimistic_iterations_left is not None
    assert 4 <= f.pessimistic_iterations_left <= 8


def test_a_tiny_velocity_stops_at_the_horizon() -> None:
    # Decided without simulating 1000 iterations (bench/bench_governance.py times it).
    f = fc([0.001, 0.002, 0.001], 1_000)
    assert f.mean_iterations_left is None and f.mean_date is None
    assert f.pessimistic_iterations_left is None and f.pessimistic_date is None
    assert "not in sight" in f.method


def test_the_horizon_is_inclusive() -> None:
    assert fc([1, 1, 1], HORIZON).mean_iterations_left == HORIZON
    assert fc([1, 1, 1], HORIZON).pessimistic_iterations_left == HORIZON
    assert fc([1, 1, 1], HORIZON + 0.5).mean_iterations_left is None


def test_a_spread_out_team_gets_a_later_pessimistic_date_than_a_steady_one() -> None:
    steady = fc([10, 10, 10, 10, 10], 100)
    spread = fc([18, 2, 10, 18, 2], 100)  # same mean, one bad iteration in every few
    assert steady.mean_date == spread.mean_date == AS_OF + 10 * FORTNIGHT
    assert steady.pessimistic_iterations_left == 10
    assert spread.pessimistic_iterations_left is not None
    assert spread.pessimistic_iterations_left > 10


def test_the_percentile_is_the_85th() -> None:
    # Velocity 0 or 10, evenly: finishing 10 takes k iterations with chance 1 - 0.5**k,
    # first at least 85% at k = 3 (87.5%); at the 50th percentile it would be 1.
    assert resample([0, 10, 0, 10], 10) == (3, 10 / 3)  # 85% have at least one 10 in 3
    assert resample([0, 10, 0, 10], 10, percentile=50).iterations == 1


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("velocities", "remaining", "length", "message"),
    [
        ([10, -1, 8], 45, FORTNIGHT, r"velocities\[1\]: must be a finite number >= 0, got -1"),
        ([10, math.nan], 45, FORTNIGHT, r"velocities\[1\]: must be a finite number >= 0, got nan"),
        ([math.inf], 45, FORTNIGHT, r"velocities\[0\]: must be a finite number >= 0, got inf"),
        ([10], math.nan, FORTNIGHT, "remaining: must be a finite number, got nan"),
        ([10], 45, timedelta(0), "iteration_length: must be positive"),
    ],
)
def test_bad_input_is_refused_by_name(
    velocities: list[float], remaining: float, length: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        g.forecast(velocities, remaining, as_of=AS_OF, iteration_length=length, unit="points")


# -- determinism and speed ----------------------------------------------------------------------


def test_the_same_inputs_give_the_same_forecast() -> None:
    velocities = [13, 7, 9, 21, 4, 11, 15]
    first = fc(velocities, 140)
    assert all(fc(list(velocities), 140) == first for _ in range(5))
    # Independent of what ran before (no shared generator): a forecast in between changes nothing.
    fc([3, 30, 1, 17], 999)
    assert fc(velocities, 140) == first


def test_the_answer_is_pinned_across_processes_and_orders() -> None:
    # A workflow replays this forecast: a change of the draws (seed, generator, pool order)
    # changes past answers. If this figure must change, running projects need a patch marker.
    velocities = [13, 7, 9, 21, 4, 11, 15]
    assert resample(velocities, 140) == (14, 10.071428571428571)
    assert resample(sorted(velocities, reverse=True), 140) == (14, 10.071428571428571)
    code = (
        "from governance._velocity import resample; "
        "print(tuple(resample([13, 7, 9, 21, 4, 11, 15], 140)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "(14, 10.071428571428571)"


def test_the_forecast_round_trips_as_json() -> None:
    f = fc([10, 12, 8], 45)
    assert g.Forecast.model_validate_json(f.model_dump_json()) == f


# -- properties ----------------------------------------------------------------------------------

# Whole and half points: exact in floats, like most real scope units.
POINTS = st.integers(0, 80).map(lambda n: n / 2)
VELOCITIES = st.lists(POINTS, min_size=1, max_size=30)
REMAINING = st.integers(-10, 600).map(lambda n: n / 2)


@settings(max_examples=150, deadline=None)
@given(velocities=VELOCITIES, remaining=REMAINING)
def test_the_pessimistic_date_is_never_before_the_best_iteration_every_time(
    velocities: list[float], remaining: float
) -> None:
    f = fc(velocities, remaining)
    best = max(velocities)
    if remaining <= 0:
        assert f.pessimistic_iterations_left == 0
    elif best == 0:
        assert f.pessimistic_iterations_left is None
    elif f.pessimistic_iterations_left is not None:
        assert f.pessimistic_iterations_left >= math.ceil(remaining / best)
        assert f.pessimistic_date is not None
        assert f.pessimistic_date >= AS_OF + math.ceil(remaining / best) * FORTNIGHT
    if f.pessimistic_iterations_left is not None and remaining > 0:  # nor after the worst
        assert min(velocities) == 0 or f.pessimistic_iterations_left <= math.ceil(
            remaining / min(velocities)
        )


@settings(max_examples=100, deadline=None)
@given(velocities=VELOCITIES, remaining=REMAINING, more=st.integers(0, 200).map(lambda n: n / 2))
def test_more_remaining_scope_never_finishes_earlier(
    velocities: list[float], remaining: float, more: float
) -> None:
    less, larger = fc(velocities, remaining), fc(velocities, remaining + more)
    for attr in ("mean_iterations_left", "pessimistic_iterations_left"):
        a, b = getattr(less, attr), getattr(larger, attr)
        assert a is not None or b is None, attr  # out of sight stays out of sight
        if a is not None and b is not None:
            assert a <= b, attr


@settings(max_examples=100, deadline=None)
@given(
    v=st.floats(0.1, 50, allow_nan=False),
    n=st.integers(1, 12),
    remaining=st.floats(0.01, 5_000, allow_nan=False),
)
def test_equal_velocities_give_both_methods_ceil_of_remaining_over_v(
    v: float, n: int, remaining: float
) -> None:
    f = fc([v] * n, remaining)
    expected = math.ceil(remaining / v)  # or one less, when the quotient is a hair over
    if expected > HORIZON + 1:
        assert f.mean_iterations_left is f.pessimistic_iterations_left is None
        return
    if expected <= HORIZON:
        assert f.mean_iterations_left is not None
        assert expected - 1 <= f.mean_iterations_left <= expected
    assert f.pessimistic_iterations_left == f.mean_iterations_left
    assert f.pessimistic_velocity == v


@settings(max_examples=100, deadline=None)
@given(v=st.integers(1, 40), n=st.integers(1, 12), remaining=st.integers(1, 2_000))
def test_equal_whole_velocities_give_exactly_ceil_of_remaining_over_v(
    v: int, n: int, remaining: int
) -> None:
    f = fc([v] * n, remaining)
    expected = -(-remaining // v)
    if expected > HORIZON:
        assert f.mean_iterations_left is f.pessimistic_iterations_left is None
        return
    assert f.mean_iterations_left == f.pessimistic_iterations_left == expected
    assert f.mean_date == f.pessimistic_date == AS_OF + expected * FORTNIGHT


@settings(max_examples=100, deadline=None)
@given(velocities=VELOCITIES, remaining=REMAINING)
def test_dates_follow_the_iterations_left(velocities: list[float], remaining: float) -> None:
    f = fc(velocities, remaining)
    assert f.mean_velocity == pytest.approx(sum(velocities) / len(velocities))
    for left, when in (
        (f.mean_iterations_left, f.mean_date),
        (f.pessimistic_iterations_left, f.pessimistic_date),
    ):
        assert (left is None) == (when is None)
        if left is not None:
            assert 0 <= left <= HORIZON
            assert when == AS_OF + left * FORTNIGHT
