"""Chaos, the long run: projects taking votes while the worker is killed with SIGKILL every
0.3 to 2.5 s (of its life once started) and restarted; then, with a stable worker, every
project decides its next gate and every chain verifies and equals what its workflow accepted.
The same client loop then runs as long again without kills, for the throughput ratio.

    python bench/chaos.py [--seconds 60] [--lanes 4] [--seed 13]

The loop and the checks are tests/integration/chaos.py (the CI test runs them for ~20 s).
Needs the test extras (pip install -e '.[test]'). Prints one table and exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from phasegate.devserver import DevServer
from tests.integration.chaos import Run, chaos


async def bench(seconds: float, lanes: int, seed: int) -> int:
    runs: dict[str, Run] = {}
    failed = ""
    with tempfile.TemporaryDirectory() as tmp, DevServer(Path(tmp) / "data", ui=False) as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        for name, kill in (("kills", True), ("no kills", False)):
            run = Run(kill=kill)
            try:
                run = await chaos(
                    client,
                    server.address,
                    Path(tmp) / name.replace(" ", "-"),
                    seconds=seconds,
                    seed=seed,
                    lanes=lanes,
                    kill=kill,
                )
            except AssertionError as exc:
                failed = f"{name}: {exc}"
            runs[name] = run
            print(f"{name}: {run.summary()}", flush=True)
    chaotic, calm = runs["kills"], runs["no kills"]
    rows = [
        ("seconds of commands", f"{chaotic.seconds:.1f}", f"{calm.seconds:.1f}"),
        ("worker kills (SIGKILL)", chaotic.kills, calm.kills),
        ("seconds a worker was polling", f"{chaotic.up:.1f}", f"{calm.up:.1f}"),
        ("commands accepted", chaotic.accepted, calm.accepted),
        ("commands sent again (no answer / expired)", chaotic.retried, calm.retried),
        ("  of which found applied by the first try", chaotic.applied_before, calm.applied_before),
        ("projects", len(chaotic.projects), len(calm.projects)),
        ("ledger events", chaotic.events, calm.events),
        ("verify, chain = accepted last_seq", _ok(chaotic), _ok(calm)),
        ("accepted commands /s", f"{chaotic.per_second:.2f}", f"{calm.per_second:.2f}"),
    ]
    print("\n| measure | with kills | without |\n|---|---|---|")
    for label, a, b in rows:
        print(f"| {label} | {a} | {b} |")
    ratio = chaotic.per_second / calm.per_second if calm.per_second else float("nan")
    print(f"\naccepted commands /s with kills / without: {ratio:.2f}")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


def _ok(run: Run) -> str:
    return "ok" if run.verified else "FAILED"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lanes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    ns = parser.parse_args()
    from phasegate._exit import run_and_exit

    run_and_exit(lambda: bench(ns.seconds, ns.lanes, ns.seed))
