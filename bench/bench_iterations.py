"""100 projects running iterations at once on the real dev server, against gate updates
measured in the same run.

    python bench/bench_iterations.py [--projects 100] [--concurrency 20]

Every project is started and driven to execution. Two measures, each four waves of one update
per project (a wave ends when all its updates are answered; within a wave at most
``--concurrency`` are in flight):

- **gates** (the baseline): the idea gate, submit its deliverable, request it, two approvals;
- **iterations**, with every project's iteration open at once: plan it (3 items; the first
  stand-up falls due at once), report items done by their two owners, end the timebox early.

Updates go through the faces' functions, as the CLI and the API send them (the iteration
commands first ask the project which iteration is open: one query more per update). Worker and
client share this process; the dev server runs on a SQLite file, as `phasegate dev`. Prints
updates/s for each measure and their ratio, then the wall time of the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bench_gates import bounded  # beside this file
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import governance as g
from governance.messages import WorkItem
from ledger import Ledger
from phasegate import deliverables, iterations, service
from phasegate.devserver import DevServer
from phasegate.logging import configure_logging
from worker import build_worker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PM = "david"
APPROVERS = {"idea": ["anna", "bo"], "pre_study": ["anna", "bo"], "planning": ["anna", "cecilia"]}
ITEMS = [  # the example charter counts its scope in points: each item has its own
    WorkItem(id="A1", title="Customer search", owner="erik", estimate=2, points=3),
    WorkItem(id="A2", title="Import old register", owner="david", estimate=1.5, points=2),
    WorkItem(id="A3", title="Sales report", owner="erik", estimate=0.5, points=1),
]
DONE = {"erik": ["A1", "A3"], "david": ["A2"]}
Wave = Callable[[str], Awaitable[object]]


def gate_waves(client: Client, phase: str, deliverable: str) -> list[Wave]:
    """Submit ``phase``'s one deliverable, request its gate, and approve it twice."""

    def vote(actor: str) -> Wave:
        return lambda pid: service.decide_gate(client, pid, actor, "approve", round=1)

    return [
        lambda pid: deliverables.submit_deliverable(
            client, pid, PM, deliverable, url=f"https://docs.example.org/{pid}/{phase}"
        ),
        lambda pid: service.request_gate(client, pid, PM),
        *(vote(actor) for actor in APPROVERS[phase]),
    ]


def iteration_waves(client: Client) -> list[Wave]:
    """Plan the open iteration, report its items done by their owners, end its timebox."""

    def done(owner: str) -> Wave:
        return lambda pid: iterations.report_done(client, pid, owner, DONE[owner])

    return [
        lambda pid: iterations.plan_iteration(client, pid, PM, ITEMS, goal="Customer register"),
        *(done(owner) for owner in DONE),
        lambda pid: iterations.close_execution(client, pid, PM),
    ]


async def to_execution(client: Client, pid: str, model: g.GovernanceModel) -> None:
    """Pass the pre-study and planning gates (the idea gate is timed apart)."""
    for phase in ("pre_study", "planning"):
        for name in model.phase(phase).gate.deliverables:
            url = f"https://docs.example.org/{pid}/{phase}/{len(name)}"
            await deliverables.submit_deliverable(client, pid, PM, name, url=url)
        await service.request_gate(client, pid, PM)
        for actor in APPROVERS[phase]:
            await service.decide_gate(client, pid, actor, "approve", round=1)
    await until_open(client, pid)


async def until_open(client: Client, pid: str) -> None:
    """The first iteration's workflow has started (the project starts it after the gate)."""
    for _ in range(200):
        try:
            await iterations.iteration_status(client, pid)
            st = await service.status(client, pid)
            if st.execution is not None and st.execution.open_iteration == 1:
                return
        except service.ProjectError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{pid}: iteration 1 did not open")


async def waves(pids: list[str], concurrency: int, steps: list[Wave]) -> list[float]:
    """Each step for every project (at most ``concurrency`` at once); seconds per wave."""
    return [
        await bounded(len(pids), concurrency, lambda i, step=step: step(pids[i])) for step in steps
    ]


async def bench(projects: int, concurrency: int) -> None:
    configure_logging(level="WARNING")  # only warnings and errors
    model = g.builtin_models()["projektflodet"]
    base = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
    tag = uuid.uuid4().hex[:6]
    warm = 2
    charters = [base.model_copy(update={"id": f"i{tag}-{i}"}) for i in range(projects + warm)]
    pids = [c.id for c in charters]
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, DevServer(Path(tmp) / "data", ui=False) as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        tq = f"bench-{tag}"
        with Ledger(f"sqlite:///{tmp}/ledger.db") as ledger:
            ledger.migrate()
            async with build_worker(client, ledger, tq):
                t0 = time.perf_counter()
                started = await bounded(
                    len(charters),
                    concurrency,
                    lambda i: service.start_project(client, charters[i], model, task_queue=tq),
                )
                idea = gate_waves(client, "idea", model.phase("idea").gate.deliverables[0])
                # Warm every path up (sandbox imports, connections) before timing anything.
                for pid in pids[:warm]:
                    for step in idea:
                        await step(pid)
                    await to_execution(client, pid, model)
                    for step in iteration_waves(client):
                        await step(pid)
                timed = pids[warm:]
                gate_s = await waves(timed, concurrency, idea)
                t1 = time.perf_counter()
                await bounded(
                    len(timed), concurrency, lambda i: to_execution(client, timed[i], model)
                )
                reach = time.perf_counter() - t1
                iter_s = await waves(timed, concurrency, iteration_waves(client))
                # Everything accepted is in the ledger; every iteration reached its demo.
                for pid in pids:
                    st = await service.status(client, pid)
                    await service.until_recorded(client, pid, st, timedelta(seconds=60))
                    _, it = await iterations.iteration_status(client, pid)
                    assert it is not None and it.state == "demo" and it.completed_items == 3, pid
                    target = iterations.iteration(pid, it.number)
                    await service.until_recorded(client, target, it, timedelta(seconds=60))
                    assert ledger.last_seq(f"{pid}/it-1") == it.last_seq, pid
                drive = time.perf_counter() - t0
            report = ledger.verify()
            assert report.ok, report.broken
            events = report.events_checked
    wall = time.perf_counter() - t_all
    n = len(timed)
    gates_rate = [n / s for s in gate_s]
    iter_rate = [n / s for s in iter_s]
    gate_total = 4 * n / sum(gate_s)
    iter_total = 4 * n / sum(iter_s)
    print(
        f"dev server on SQLite file; {n} projects (+{warm} warm-up), concurrency {concurrency}; "
        f"four waves of {n} updates per measure"
    )
    print(f"{'measure':50} {'updates':>7} {'s':>6} {'/s':>7}  per wave /s")
    print(
        f"{'gates: submit, request, approve, approve':50} {4 * n:7d} {sum(gate_s):6.2f} "
        f"{gate_total:7.1f}  " + " ".join(f"{r:.1f}" for r in gates_rate)
    )
    print(
        f"{'iterations open at once: plan, done, done, close':50} {4 * n:7d} {sum(iter_s):6.2f} "
        f"{iter_total:7.1f}  " + " ".join(f"{r:.1f}" for r in iter_rate)
    )
    print(f"ratio iterations / gates: {iter_total / gate_total:.2f}")
    print(
        f"{len(pids)} projects started in {started:.1f} s; pre-study and planning gates passed "
        f"in {reach:.1f} s ({11 * n} updates); ledger: {events} events, verified"
    )
    print(f"{n} projects with iterations at once: {drive:.1f} s driving, {wall:.1f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    from phasegate._exit import run_and_exit

    run_and_exit(lambda: bench(args.projects, args.concurrency))


if __name__ == "__main__":
    main()
