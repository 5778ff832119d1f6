"""Projects started per second and gate decisions per second on the real dev server, against
a bare Temporal workflow taking the same number of updates (the floor), in the same run.

    python bench/bench_gates.py [--projects 100] [--concurrency 20] [--rounds 3]

Prints one table: medians over the rounds, and the ratio phasegate / bare of each round
(1.00 = as fast as Temporal itself allows).
Worker and client share this process; the dev server runs on a SQLite file, as `phasegate dev`.
A gate is requested once its deliverables are in: each project's Idébeskrivning is submitted
between the two timed parts, untimed, so the updates timed stay request + 2 votes against 3.
Needs the test extras (pip install -e '.[test]') for that helper.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration

from bare_workflow import (  # beside this file
    BareAwaitedWorkflow,
    BareOutboxWorkflow,
    BareWorkflow,
    bare_record,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

import governance as g
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer
from tests.integration.conftest import submit_missing
from worker import build_worker, sandbox_runner

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


async def bounded(n: int, concurrency: int, job: Callable[[int], Awaitable[None]]) -> float:
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
                    workflows=[BareWorkflow, BareAwaitedWorkflow, BareOutboxWorkflow],
                    activities=[bare_record],
                    workflow_runner=sandbox_runner(),
                    activity_executor=ThreadPoolExecutor(8),
                ),
            ):
                # Bare floors: start, then the same number of updates per workflow (3).
                # "bare" runs a local activity per update (phasegate's design before the
                # outbox); "awaited" and "outbox" are the two designs weighed for the ledger
                # write (an update awaiting a regular activity; an outbox and a writer).
                def floor(kind: str, wf: Any) -> tuple[Any, Any]:
                    async def start(i: int) -> None:
                        h = await client.start_workflow(
                            wf.run, 3, id=f"{kind}-{tag}-{i}", task_queue=f"{tq}-bare"
                        )
                        await h.query("__stack_trace")  # first workflow task done

                    async def updates(i: int) -> None:
                        h = client.get_workflow_handle(f"{kind}-{tag}-{i}")
                        for _ in range(3):
                            await h.execute_update(wf.bump)

                    return start, updates

                jobs = {
                    "bare": floor("bare", BareWorkflow),
                    "awaited": floor("awaited", BareAwaitedWorkflow),
                    "outbox": floor("outbox", BareOutboxWorkflow),
                }

                async def pg_start(i: int) -> None:
                    await service.start_project(client, charters[i], model, task_queue=tq)
                    await service.status(client, charters[i].id)

                async def pg_deliverables(i: int) -> None:
                    await submit_missing(client, charters[i].id)

                async def pg_gate(i: int) -> None:
                    pid = charters[i].id
                    await service.request_gate(client, pid, "david")
                    await service.decide_gate(client, pid, "bo", "approve", round=1)
                    await service.decide_gate(client, pid, "anna", "approve", round=1)

                jobs["pg"] = (pg_start, pg_gate)
                untimed = {"pg": pg_deliverables}  # between the start and the updates
                # Warm every path up (sandbox imports, connections) before timing anything.
                for i in warm:
                    for who, (start, upd) in jobs.items():
                        await start(i)
                        if who in untimed:
                            await untimed[who](i)
                        await upd(i)
                for r in range(rounds):
                    # Fresh workflows each round; the order alternates so drift cancels out.
                    def shifted(job: Callable[[int], Awaitable[None]], r: int = r) -> Any:
                        return lambda i: job(r * projects + i)

                    gc.collect()
                    t: dict[str, float] = {}
                    names = list(jobs)
                    order = names if r % 2 == 0 else names[::-1]
                    for who in order:
                        start, upd = jobs[who]
                        t[f"{who}_start"] = await bounded(projects, concurrency, shifted(start))
                        if who in untimed:
                            await bounded(projects, concurrency, shifted(untimed[who]))
                        t[f"{who}_upd"] = await bounded(projects, concurrency, shifted(upd))
                    timings.append(t)
                # Every accepted event is in the ledger before the worker stops.
                for c in charters:
                    st = await service.status(client, c.id)
                    await service.until_recorded(client, c.id, st, timedelta(seconds=60))
            assert all(ledger.last_seq(c.id) == 8 for c in charters)
            assert ledger.verify().ok

    updates = projects * 3
    rows = [
        ("workflows started /s", "start", projects),
        ("updates (request + 2 votes) /s", "upd", updates),
    ]
    print(
        f"dev server on SQLite file; {rounds} rounds of {projects} projects, concurrency "
        f"{concurrency}, 3 updates each (request_gate + 2 decide_gate, after an untimed "
        "submit_deliverable; bare: 3 updates + local activity); medians over the rounds"
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
    print("\ndesigns weighed for the ledger write, updates /s against bare (local activity):")
    for who, what in (
        ("awaited", "each update awaits a regular activity"),
        ("outbox", "outbox + writer task, regular activity"),
    ):
        ratios = [t["bare_upd"] / t[f"{who}_upd"] for t in timings]
        rate = median(updates / t[f"{who}_upd"] for t in timings)
        print(f"  {what:44} {rate:8.1f} /s  ratio {median(ratios):.2f}")


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
