"""Projects started per second and gate decisions per second on the real dev server, against
a bare Temporal workflow taking the same number of updates (the floor), in the same run.

    python bench/bench_gates.py [--projects 100] [--concurrency 20] [--rounds 3]

Prints one table: medians over the rounds, and the ratio phasegate / bare of each round
(1.00 = as fast as Temporal itself allows).
Worker and client share this process; the dev server runs on a SQLite file, as `phasegate dev`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

from bare_workflow import BareWorkflow, bare_record  # beside this file
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

import governance as g
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer
from worker import build_worker, sandbox_runner

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def _bounded(n: int, concurrency: int, job: Callable[[int], Awaitable[None]]) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await job(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - t0


async def bench(projects: int, concurrency: int, rounds: int) -> None:
    model = g.builtin_models()["projektflodet"]
    base = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
    tag = uuid.uuid4().hex[:6]
    total = projects * rounds
    warm = range(total, total + 3)
    charters = [base.model_copy(update={"id": f"b{tag}-{i}"}) for i in range(warm.stop)]
    timings: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp, DevServer(Path(tmp) / "data", ui=False) as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        tq = f"bench-{tag}"
        with Ledger(f"sqlite:///{tmp}/ledger.db") as ledger:
            ledger.migrate()
            async with (
                build_worker(client, ledger, tq),
                Worker(
                    client,
                    task_queue=f"{tq}-bare",
                    workflows=[BareWorkflow],
                    activities=[bare_record],
                    workflow_runner=sandbox_runner(),
                    activity_executor=ThreadPoolExecutor(8),
                ),
            ):
                # Bare floor: start, then the same number of updates per workflow (3).
                async def bare_start(i: int) -> None:
                    h = await client.start_workflow(
                        BareWorkflow.run, 3, id=f"bare-{tag}-{i}", task_queue=f"{tq}-bare"
                    )
                    await h.query("__stack_trace")  # first workflow task done

                async def bare_updates(i: int) -> None:
                    h = client.get_workflow_handle(f"bare-{tag}-{i}")
                    for _ in range(3):
                        await h.execute_update(BareWorkflow.bump)

                async def pg_start(i: int) -> None:
                    await service.start_project(client, charters[i], model, task_queue=tq)
                    await service.status(client, charters[i].id)

                async def pg_gate(i: int) -> None:
                    pid = charters[i].id
                    await service.request_gate(client, pid, "david")
                    await service.decide_gate(client, pid, "bo", "approve")
                    await service.decide_gate(client, pid, "anna", "approve")

                # Warm both paths up (sandbox imports, connections) before timing anything.
                for i in warm:
                    await bare_start(i)
                    await bare_updates(i)
                    await pg_start(i)
                    await pg_gate(i)
                for r in range(rounds):
                    # Fresh workflows each round; the order alternates so drift cancels out.
                    def shifted(job: Callable[[int], Awaitable[None]], r: int = r) -> Any:
                        return lambda i: job(r * projects + i)

                    gc.collect()
                    t: dict[str, float] = {}
                    order = ("bare", "pg") if r % 2 == 0 else ("pg", "bare")
                    for who in order:
                        start, upd = (
                            (bare_start, bare_updates) if who == "bare" else (pg_start, pg_gate)
                        )
                        t[f"{who}_start"] = await _bounded(projects, concurrency, shifted(start))
                        t[f"{who}_upd"] = await _bounded(projects, concurrency, shifted(upd))
                    timings.append(t)
            assert all(ledger.last_seq(c.id) == 7 for c in charters)
            assert ledger.verify().ok

    updates = projects * 3
    rows = [
        ("workflows started /s", "start", projects),
        ("updates (request + 2 votes) /s", "upd", updates),
    ]
    print(
        f"dev server on SQLite file; {rounds} rounds of {projects} projects, concurrency "
        f"{concurrency}, 3 updates each (request_gate + 2 decide_gate; bare: 3 updates + "
        "local activity); medians over the rounds"
    )
    print(f"{'measure':34} {'phasegate':>10} {'bare':>10} {'ratio':>7}  ratio per round")
    for name, key, n in rows:
        ours = [n / t[f"pg_{key}"] for t in timings]
        floor = [n / t[f"bare_{key}"] for t in timings]
        ratios = [o / f for o, f in zip(ours, floor, strict=True)]
        per_round = " ".join(f"{x:.2f}" for x in ratios)
        print(
            f"{name:34} {median(ours):10.1f} {median(floor):10.1f} {median(ratios):7.2f}  "
            f"{per_round}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from phasegate._exit import run_and_exit

    run_and_exit(lambda: bench(args.projects, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
