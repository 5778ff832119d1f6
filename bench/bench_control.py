"""100 projects under management by exception on the real dev server, against gate updates
measured in the same run.

    python bench/bench_control.py [--projects 100] [--concurrency 20]

Every project is started from examples/prince2-under-way.yaml (its baseline started on
2026-09-01, so a progress report as of today is valid). Two measures, each waves of one update
per project (a wave ends when all its updates are answered; within a wave at most
``--concurrency`` are in flight):

- **gates** (the baseline), five waves: the starting-up gate, submit its two deliverables,
  request it, the senior user's advice and the executive's approval;
- **control**, six waves: a progress report on plan (green; the first highlight report), one
  that breaks the stage's cost tolerance (it raises an exception and issues an exception report
  and a highlight report: the heaviest step), a minor change by the project manager (approved
  as asked), a formal change request, the senior user's advice on it and the executive's
  approval (which re-baselines).

Updates go through the faces' functions, as the CLI and the API send them. Then the status
query of a project with no change against one with 50 decided minor changes (median of 20
queries each). Worker and client share this process; the dev server runs on a SQLite file, as
`phasegate dev`. Prints updates/s of each measure and their ratio, the two query times and
their ratio, and the wall time of the whole run; the last line sums it up.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

from bench_gates import bounded  # beside this file
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import governance as g
from ledger import Ledger
from phasegate import control, deliverables, service
from phasegate.devserver import DevServer
from phasegate.logging import configure_logging
from worker import build_worker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PM = "dev"
GATE_APPROVERS = ["ben", "ada"]  # the senior user advises, then the executive decides
CHANGE_APPROVERS = ["ben", "ada"]  # the formal change rule is the same
OVERRUN = 1.076  # actual cost over earned value: 7.6 % over at completion, stage tolerance 5 %
MINOR_CHANGES = 50
QUERIES = 20
Wave = Callable[[str], Awaitable[object]]


def gate_waves(client: Client, names: list[str]) -> list[Wave]:
    """Submit the starting-up gate's deliverables, request the gate, advise on it and
    approve it."""

    def submit(name: str) -> Wave:
        return lambda pid: deliverables.submit_deliverable(
            client, pid, PM, name, url=f"https://docs.example.org/{pid}/{len(name)}"
        )

    def vote(actor: str) -> Wave:
        return lambda pid: service.decide_gate(client, pid, actor, "approve", round=1)

    return [
        *(submit(name) for name in names),
        lambda pid: service.request_gate(client, pid, PM),
        *(vote(actor) for actor in GATE_APPROVERS),
    ]


def on_plan(charter: g.Charter) -> tuple[datetime, float, float]:
    """Today (UTC, as the workflow counts it), the scope earned on plan by then (rounded up)
    and what it cost (its earned value: CPI 1)."""
    now = datetime.now(UTC)
    base = charter.baseline
    budget, total = float(base.budget), float(base.scope.amount)
    scope = math.ceil(total * g.planned_value(base, now.date()) / budget)
    return now, scope, budget * scope / total


def control_waves(client: Client, charter: g.Charter) -> list[Wave]:
    """Report on plan, report a cost overrun, a minor change, a formal one, the advice on it
    and its approval."""
    now, scope, cost = on_plan(charter)
    day = now.date()
    green = control.progress_report(PM, as_of=day, actual_cost=cost, earned_scope=scope)
    red = control.progress_report(
        PM,
        as_of=day,
        actual_cost=round(cost * OVERRUN, 2),
        earned_scope=scope,
        comment="Parallel runs cost more than planned",
    )
    minor = control.change_request(
        PM, "Extra payslip field", cost_impact=8000, time_impact=timedelta(days=2)
    )
    formal = control.change_request(
        PM,
        "Second bank connection",
        cost_impact=60000,
        time_impact=timedelta(weeks=2),
        scope_impact=10,
        reason="The bank splits its file formats",
    )

    def vote(actor: str) -> Wave:
        return lambda pid: control.decide_change(client, pid, actor, "CR-2", "approve")

    return [
        lambda pid: control.report_progress(client, pid, green),
        lambda pid: control.report_progress(client, pid, red),
        lambda pid: control.request_change(client, pid, minor),
        lambda pid: control.request_change(client, pid, formal),
        *(vote(actor) for actor in CHANGE_APPROVERS),
    ]


async def waves(pids: list[str], concurrency: int, steps: list[Wave]) -> list[float]:
    """Each step for every project (at most ``concurrency`` at once); seconds per wave."""

    def each(step: Wave) -> Callable[[int], Awaitable[None]]:
        async def one(i: int) -> None:
            await step(pids[i])

        return one

    return [await bounded(len(pids), concurrency, each(step)) for step in steps]


async def checked(client: Client, ledger: Ledger, pid: str, controlled: bool) -> None:
    """Everything accepted is in the ledger; a controlled project went through it all."""
    st = await service.status(client, pid)
    st = await service.until_recorded(client, pid, st, timedelta(seconds=60))
    assert st.recorded_seq == st.last_seq == ledger.last_seq(pid), pid
    if not controlled:
        return
    c = st.control
    assert c is not None and c.baseline_version == 2 and c.progress == 2, pid
    assert c.exception is not None and c.exception.levels == ["stage"], pid
    assert [(x.id, x.classification, x.state) for x in c.changes] == [
        ("CR-1", "minor", "approved"),
        ("CR-2", "formal", "approved"),
    ], pid
    assert len(ledger.reports(pid, "exception")) == 1, pid
    assert len(ledger.reports(pid, "highlight")) == 2, pid


async def query_time(client: Client, pids: list[str]) -> list[float]:
    """Median seconds of a status query of each project, asked in turn ``QUERIES`` times."""
    times: list[list[float]] = [[] for _ in pids]
    for _ in range(QUERIES):
        for spent, pid in zip(times, pids, strict=True):
            t0 = time.perf_counter()
            await service.status_of(client, service.project(pid))
            spent.append(time.perf_counter() - t0)
    return [median(spent) for spent in times]


async def bench(projects: int, concurrency: int) -> None:
    configure_logging(level="WARNING")  # only warnings and errors
    model = g.builtin_models()["prince2"]
    base = g.load_charter(EXAMPLES / "prince2-under-way.yaml")
    tag = uuid.uuid4().hex[:6]
    warm = 2
    charters = [base.model_copy(update={"id": f"c{tag}-{i}"}) for i in range(projects + warm)]
    quiet, busy = (base.model_copy(update={"id": f"c{tag}-{name}"}) for name in ("q0", "q50"))
    pids = [c.id for c in charters]
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, DevServer(Path(tmp) / "data", ui=False) as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        tq = f"bench-{tag}"
        with Ledger(f"sqlite:///{tmp}/ledger.db") as ledger:
            ledger.migrate()
            async with build_worker(client, ledger, tq):
                t0 = time.perf_counter()
                every = [*charters, quiet, busy]

                async def start(i: int) -> None:
                    await service.start_project(client, every[i], model, task_queue=tq)

                started = await bounded(len(every), concurrency, start)
                gate = gate_waves(client, model.phase("starting_up").gate.deliverables)
                ctl = control_waves(client, base)
                # Warm every path up (sandbox imports, connections) before timing anything.
                for pid in pids[:warm]:
                    for step in [*gate, *ctl]:
                        await step(pid)
                timed = pids[warm:]
                gate_s = await waves(timed, concurrency, gate)
                ctl_s = await waves(timed, concurrency, ctl)
                drive = time.perf_counter() - t0
                # Status queries: no change against 50 decided minor changes (100 EUR each,
                # well within the change budget).
                for i in range(MINOR_CHANGES):
                    small = control.change_request(PM, f"Small fix {i + 1}", cost_impact=100)
                    change, _ = await control.request_change(client, busy.id, small)
                    assert change.classification == "minor" and change.state == "approved"
                q_quiet, q_busy = await query_time(client, [quiet.id, busy.id])
                for pid in pids:
                    await checked(client, ledger, pid, controlled=True)
                for pid in (quiet.id, busy.id):
                    await checked(client, ledger, pid, controlled=False)
            report = ledger.verify()
            assert report.ok, report.broken
            events = report.events_checked
    wall = time.perf_counter() - t_all
    n = len(timed)
    gate_total = len(gate) * n / sum(gate_s)
    ctl_total = len(ctl) * n / sum(ctl_s)
    gate_rate = " ".join(f"{n / s:.1f}" for s in gate_s)
    ctl_rate = " ".join(f"{n / s:.1f}" for s in ctl_s)
    ratio = ctl_total / gate_total
    print(
        f"dev server on SQLite file; {n} projects (+{warm} warm-up), concurrency {concurrency}; "
        f"waves of {n} updates"
    )
    print(f"{'measure':64} {'updates':>7} {'s':>6} {'/s':>7}  per wave /s")
    print(
        f"{'gates: submit, submit, request, advise, approve':64} {len(gate) * n:7d} "
        f"{sum(gate_s):6.2f} {gate_total:7.1f}  {gate_rate}"
    )
    print(
        f"{'control: green, red (exception), minor, formal, advise, approve':64} {len(ctl) * n:7d} "
        f"{sum(ctl_s):6.2f} {ctl_total:7.1f}  {ctl_rate}"
    )
    print(f"ratio control / gates: {ratio:.2f} (the red report alone: {n / ctl_s[1]:.1f} /s)")
    print(
        f"status query, median of {QUERIES}: {q_quiet * 1000:.1f} ms with no change, "
        f"{q_busy * 1000:.1f} ms with {MINOR_CHANGES} decided minor changes "
        f"(ratio {q_busy / q_quiet:.2f})"
    )
    print(
        f"{len(pids) + 2} projects started in {started:.1f} s; ledger: {events} events, "
        f"verified; {drive:.1f} s driving, {wall:.1f} s wall"
    )
    print(
        f"summary: {n} projects, gates {gate_total:.1f} /s, control {ctl_total:.1f} /s "
        f"(ratio {ratio:.2f}); status with {MINOR_CHANGES} changes {q_busy / q_quiet:.2f}x; "
        f"{wall:.0f} s wall"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    from phasegate._exit import run_and_exit

    run_and_exit(lambda: bench(args.projects, args.concurrency))


if __name__ == "__main__":
    main()
