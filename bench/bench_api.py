"""The REST API's answer times on a real `phasegate dev` (Temporal dev server, worker and API in
one process, as a user runs it), against a bare Temporal update round trip on the same server
in the same run.

    python bench/bench_api.py [--projects 200] [--samples 200] [--page /] [--limit 500]

A `phasegate dev` is started in a temporary data directory (its Temporal UI off, free ports),
``--projects`` projects of the example charter are started and listed by visibility, and half of
``--samples`` of them have their first gate requested (deliverables submitted first; untimed).
Then ``--samples`` rounds, each measuring one at a time, in turn (interleaved, so that a busy
machine slows them all alike):

- bare: one update of ``bare_workflow.BareWorkflow`` (a local activity, as a vote), through a
  Temporal client and a worker of this process: the floor of any decision;
- ``GET /api/projects?limit=...`` as anna, who is named in every charter (not PMO: the listing
  filters by the people in each project's memo row), and as a PMO person (no filter);
- ``GET --page`` (the dashboard's portfolio, when the app serves one: a page answering 404 is
  reported as not served and left out);
- ``POST /api/projects/{id}/gate/decide``: bo's then anna's approval of a requested gate.

Prints p50 and p95 of each in milliseconds and each one's ratio to the bare update's. Also, once,
the time the listing would take asking each project's `people` query (what a listing did before
the memo row named the people, and still does for rows kept before). Needs the test extras
(httpx).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.integration

import httpx
from bare_workflow import BareWorkflow, bare_record  # beside this file
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
CHARTER = ROOT / "examples" / "projektflodet-charter.yaml"
ENTRY = "from phasegate.cli import main; main()"
PMO = "pmo-bench"
MEMBER = "anna"
"""Named in every project of the example charter; not PMO."""
STARTS_AT_ONCE = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def phasegate_dev(data_dir: Path) -> Iterator[str]:
    """``phasegate dev`` on ``data_dir`` on free ports; the web URL it prints. Stopped on the
    way out (SIGTERM, then ``stop_dev`` for whatever is left)."""
    from phasegate.devserver import stop_dev

    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env |= {"PHASEGATE_DATA_DIR": str(data_dir), "PHASEGATE_PMO": PMO}
    log_path = data_dir / "bench-dev.log"
    argv = [sys.executable, "-c", ENTRY, "dev", "--no-ui", "--port", str(free_port())]
    argv += ["--web-port", str(free_port()), "--log-level", "warning"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, env=env, cwd=data_dir, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not (found := re.search(rb"^web: (\S+)$", log_path.read_bytes(), re.MULTILINE)):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                sys.exit(f"phasegate dev did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.1)
        yield found[1].decode()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_dev(data_dir)


async def timed(job: Callable[[], Awaitable[Any]]) -> float:
    t0 = time.perf_counter()
    await job()
    return time.perf_counter() - t0


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(http: httpx.AsyncClient, token: str) -> None:
    """Sign in to the dashboard as the token's person, as its login form does."""
    form = await http.get("/login")
    csrf = _CSRF.search(form.text)
    if csrf is None:  # no dashboard served
        return
    answer = await http.post("/login", data={"csrf": csrf.group(1), "token": token})
    if answer.status_code != 303:
        raise SystemExit(f"signing in to the dashboard: {answer.status_code} {answer.text[:200]}")


def ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        sys.exit(f"{response.request.method} {response.request.url}: {response.status_code} "
                 f"{response.text[:500]}")  # fmt: skip
    return response


async def bench(projects: int, samples: int, page: str, limit: int) -> None:
    import governance as g
    from governance.messages import ModelSource
    from ledger import Ledger
    from phasegate import service
    from phasegate.settings import Settings
    from phasegate.temporal import connect, workers_polling
    from tests.integration.conftest import submit_missing
    from worker import sandbox_runner

    deciding = (samples + 1) // 2
    if deciding > projects:
        sys.exit(f"--samples {samples} needs {deciding} projects to decide; --projects {projects}")
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data_dir = Path(tmp) / "data"
        with phasegate_dev(data_dir) as web:
            settings = Settings(data_dir=data_dir)
            client = await connect(settings)
            while not await workers_polling(client, settings.task_queue):
                await asyncio.sleep(0.2)
            with Ledger.existing(settings.effective_ledger_url()) as ledger:
                tokens = {
                    who: ledger.create_token(who, "bench")[1]
                    for who in (MEMBER, PMO, "bo", "david")
                }
            auth = {who: {"Authorization": f"Bearer {t}"} for who, t in tokens.items()}

            charter, model = g.load_project(CHARTER)
            ids = [f"bench-{tag}-{n:04d}" for n in range(projects)]
            gate = asyncio.Semaphore(STARTS_AT_ONCE)

            async def start(pid: str) -> None:
                async with gate:
                    one = charter.model_copy(update={"id": pid})
                    await service.start_project(
                        client,
                        one,
                        model,
                        task_queue=settings.task_queue,
                        model_source=ModelSource(kind="builtin"),
                    )

            began = time.monotonic()
            await asyncio.gather(*(start(pid) for pid in ids))
            query = "WorkflowType = 'ProjectWorkflow' AND ExecutionStatus != 'ContinuedAsNew'"
            while (await client.count_workflows(query)).count < projects:
                await asyncio.sleep(0.5)
            print(f"{projects} projects started and listed in {time.monotonic() - began:.1f} s")

            async with httpx.AsyncClient(base_url=web, timeout=60) as http:
                for pid in ids[:deciding]:  # untimed: the gates to decide
                    await submit_missing(client, pid)
                    ok(await http.post(
                        f"/api/projects/{pid}/gate/request",
                        json={"comment": "ready"},
                        headers=auth["david"],
                    ))  # fmt: skip
                listing = f"/api/projects?limit={limit}"
                rows = ok(await http.get(listing, headers=auth[MEMBER])).json()
                assert rows["total"] == projects, rows["total"]
                # The dashboard takes a session, not a bearer token: sign the member in (the
                # cookie rides along on every request; the API's routes ignore it).
                await sign_in(http, tokens[MEMBER])
                probe = await http.get(page, headers=auth[MEMBER])
                page_served = probe.status_code != 404
                print(f"{page}: {probe.status_code}" + ("" if page_served else ", not served"))

                async with Worker(
                    client,
                    task_queue=f"bench-bare-{tag}",
                    workflows=[BareWorkflow],
                    activities=[bare_record],
                    workflow_runner=sandbox_runner(),
                    activity_executor=ThreadPoolExecutor(4),
                ):
                    bare = [
                        await client.start_workflow(
                            BareWorkflow.run,
                            10**9,
                            id=f"bare-{tag}-{n}",
                            task_queue=f"bench-bare-{tag}",
                        )
                        for n in range(10)
                    ]
                    times = await measure(
                        http, bare, auth, ids[:deciding], samples, listing, page, page_served
                    )
                    for handle in bare:
                        await handle.terminate("bench over")

            # What the member's listing costs asking each project (rows kept before the memo
            # row named the people): the people query of all of them, 16 at a time.
            all_rows = await service.list_projects(client)
            t_ask = await timed(lambda: service.rows_naming(client, all_rows, MEMBER))

    report(times, projects, samples, limit, t_ask)


async def measure(
    http: httpx.AsyncClient,
    bare: list[Any],
    auth: dict[str, dict[str, str]],
    deciding: list[str],
    samples: int,
    listing: str,
    page: str,
    page_served: bool,
) -> dict[str, list[float]]:
    names = ["bare update", f"GET {listing} (member)", f"GET {listing} (PMO)"]
    names += [f"GET {page} (dashboard)"] if page_served else []
    names += ["POST gate/decide"]
    times: dict[str, list[float]] = {name: [] for name in names}
    votes = [(pid, voter) for pid in deciding for voter in ("bo", MEMBER)]

    async def bump(i: int) -> None:
        await bare[i % len(bare)].execute_update(BareWorkflow.bump)

    async def get(path: str, who: str) -> None:
        ok(await http.get(path, headers=auth[who]))

    async def decide(i: int) -> None:
        pid, voter = votes[i]
        body = {"decision": "approve", "comment": "fine", "round": 1}
        ok(await http.post(f"/api/projects/{pid}/gate/decide", json=body, headers=auth[voter]))

    # Warm up every path (connections, the sandbox's imports) before timing anything.
    for _ in range(3):
        await bump(0)
        await get(listing, MEMBER)
        await get(listing, PMO)
    for i in range(samples):
        jobs: list[Awaitable[None]] = [bump(i), get(listing, MEMBER), get(listing, PMO)]
        if page_served:
            jobs.append(get(page, MEMBER))
        jobs.append(decide(i))
        for name, job in zip(names, jobs, strict=True):
            t0 = time.perf_counter()
            await job  # one at a time: each coroutine runs only now
            times[name].append(time.perf_counter() - t0)
    return times


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(
    times: dict[str, list[float]], projects: int, samples: int, limit: int, t_ask: float
) -> None:
    base50 = statistics.median(times["bare update"])
    base95 = percentile(times["bare update"], 95)
    print(
        f"phasegate dev (SQLite dev server, worker and API in one process); {projects} projects; "
        f"{samples} samples of each, interleaved, one request at a time; listing limit={limit}"
    )
    print(f"{'measure':44} {'p50 ms':>8} {'p95 ms':>8} {'ratio p50':>10} {'ratio p95':>10}")
    for name, values in times.items():
        p50, p95 = statistics.median(values), percentile(values, 95)
        print(
            f"{name:44} {p50 * 1000:8.1f} {p95 * 1000:8.1f} {p50 / base50:10.1f} "
            f"{p95 / base95:10.1f}"
        )
    print(
        f"\nthe member's listing asking each project's people query instead of the memo row: "
        f"{t_ask * 1000:.0f} ms for {projects} projects (once; {t_ask / base50:.0f}x the bare "
        "update's p50)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--page", default="/", help="the dashboard's portfolio page")
    parser.add_argument("--limit", type=int, default=500, help="the listing's page size")
    args = parser.parse_args()
    from phasegate._exit import run_and_exit  # the client was used: leave without the crash

    run_and_exit(lambda: bench(args.projects, args.samples, args.page, args.limit))


if __name__ == "__main__":
    main()
