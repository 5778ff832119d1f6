"""A simulated year: one Projektflödet project from start to closure under time skipping.

    python bench/bench_year.py [--continue-as-new-after 8]

Drives the project exactly as tests/workflows/test_year.py does (tests/workflows/year.py):
the gates before execution, 17 iterations of two or three weeks with every stand-up as a timer,
the execution and closure gates, and the benefits review six months later. Worker, client and
the time-skipping test server on this machine, the ledger a SQLite file. Prints where the wall
time went and, last, ``simulated year: <N> iterations, <S> s wall, <E> ledger events``:
N finished iterations, S seconds from the project's start to its close (the server's start
and the worker's excluded, printed apart), E events in the project's chain and its
iterations' chains.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the driver lives with the tests

import governance as g  # noqa: E402
from governance.audit import EventKind  # noqa: E402
from phasegate.logging import configure_logging  # noqa: E402
from tests.workflows.conftest import harness_on, time_skipping  # noqa: E402
from tests.workflows.scenario import Iteration, Scenario  # noqa: E402
from tests.workflows.year import Timing, simulate_year  # noqa: E402


async def bench(continue_as_new_after: int) -> None:
    configure_logging(level="WARNING")  # only warnings and errors
    model = g.builtin_models()["projektflodet"]
    charter = g.load_charter(ROOT / "examples" / "projektflodet-charter.yaml")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        async with time_skipping() as env, harness_on(env, Path(tmp) / "ledger.db") as h:
            setup = time.perf_counter() - t0
            scenario = Scenario(h)
            try:
                timing = Timing()
                t1 = time.perf_counter()
                p = await scenario.start(
                    charter, model, continue_as_new_after=continue_as_new_after
                )
                year = await simulate_year(p, timing=timing)
                wall = time.perf_counter() - t1
                runs = len(await p.run_histories())
            finally:
                await scenario.close()
            project = p.assert_sound_ledger()
            chains = [Iteration(p, f.number).assert_sound_chain() for f in year.iterations]
    events = len(project) + sum(len(c) for c in chains)
    standups = sum(1 for c in chains for e in c if e.kind == EventKind.standup)
    days = (year.reviewed_at - year.started_at).days
    print(f"time-skipping test server and worker started in {setup:.2f} s (not counted)")
    print(
        f"project {p.pid}: {days} days of server time, {(year.closed_at - year.started_at).days}"
        f" to closure; {runs} runs (continue-as-new after {continue_as_new_after} updates)"
    )
    print(
        f"iterations: {len(year.done)} finished + {len(year.iterations) - len(year.done)} "
        f"closed by the execution gate; {standups} stand-ups fired as timers"
    )
    print("velocity (points):", " ".join(f"{f.completed_effort:g}" for f in year.done))
    print(f"ledger: {len(project)} project events + {events - len(project)} in iteration chains")
    print(f"{'wall time by step':24} {'s':>7} {'calls':>6} {'ms/call':>8}")
    for what, spent in sorted(timing.spent.items(), key=lambda kv: -kv[1]):
        calls = timing.count[what]
        print(f"  {what:22} {spent:7.2f} {calls:6d} {1000 * spent / calls:8.1f}")
    print(f"simulated year: {len(year.done)} iterations, {wall:.1f} s wall, {events} ledger events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--continue-as-new-after", type=int, default=8)
    args = parser.parse_args()
    from phasegate._exit import run_and_exit

    run_and_exit(lambda: bench(args.continue_as_new_after))


if __name__ == "__main__":
    main()
