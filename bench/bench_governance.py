"""The pure calculations' speed goals, each against a baseline measured in the same run (the
tests check what they compute, never how fast):

- a charter of 30,000 people with one duplicate id, against the same charter without it (the
  duplicate check once compared each person with all before it: 60,000 people took 8 s);
- the velocity forecast over 30 iterations, against one over 3 (its Monte Carlo resampling
  must not grow with the history);
- a velocity so small the work is never done, against the 3-iteration forecast (it must stop
  at the horizon, not simulate 1,000 iterations).

    python bench/bench_governance.py [--repeat 5]

Prints the median seconds of each measure and its ratio to its baseline.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

import yaml

import governance as g

EXAMPLE = Path(__file__).parents[1] / "examples" / "projektflodet-charter.yaml"
AS_OF = datetime(2027, 3, 1, tzinfo=UTC)


def timed(call: Callable[[], object], repeat: int) -> float:
    call()  # warm-up: imports and caches
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        runs.append(time.perf_counter() - began)
    return median(runs)


def charter(people: int, duplicate: bool) -> Callable[[], object]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["people"] += [{"id": f"p{i}", "name": "P", "roles": ["teamledare"]} for i in range(people)]
    if duplicate:
        data["people"].append({"id": "anna", "name": "Anna again", "roles": ["bestallare"]})

    def parse() -> object:
        try:
            return g.parse_charter(copy.deepcopy(data))
        except g.GovernanceError as exc:
            return exc

    return parse


def forecast(velocities: list[float], remaining: float) -> Callable[[], object]:
    return lambda: g.forecast(
        velocities, remaining, as_of=AS_OF, iteration_length=timedelta(weeks=2), unit="points"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    few = forecast([10.0, 12.0, 8.0], 45)
    rows = [
        (
            "charter, 30,000 people, one duplicate",
            timed(charter(30_000, True), args.repeat),
            "the same without it",
            timed(charter(30_000, False), args.repeat),
        ),
        (
            "forecast over 30 iterations",
            timed(forecast([float(5 + (7 * i) % 11) for i in range(30)], 300), args.repeat),
            "over 3",
            timed(few, args.repeat),
        ),
        (
            "forecast never done (velocity 0.001)",
            timed(forecast([0.001, 0.002, 0.001], 1_000), args.repeat),
            "over 3",
            timed(few, args.repeat),
        ),
    ]
    print(f"{'measure':40} {'median s':>10}   {'baseline':22} {'median s':>10} {'ratio':>7}")
    for name, seconds, base_name, base in rows:
        print(f"{name:40} {seconds:10.4f}   {base_name:22} {base:10.4f} {seconds / base:7.2f}")


if __name__ == "__main__":
    main()
