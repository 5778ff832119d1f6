"""How fast the dashboard answers, against the same run's bare Temporal calls.

    python bench/bench_web.py [--projects 200] [--runs 30] [--votes 20]

Starts a ``phasegate dev`` (server and worker) in a temporary data directory with
``--projects`` projects of the example charter (bench_cli's ``populate``), serves the app
(API and dashboard) with uvicorn in a thread of this process, signs in over HTTP and measures,
interleaved round by round:

- the portfolio page ``/`` for the PMO (sees every project: one listing, a status query per
  project) and for anna (in every charter, not PMO: a membership query per project too),
  against the bare visibility listing (``service.list_projects``) the page begins with;
- a project page, against one bare status query;
- a vote through the dashboard's form (``POST /projects/ID/decide``, bo approving a requested
  gate; the page answers with "my work" re-rendered), against a bare ``service.decide_gate``
  on another project.

Prints p50 and p95 in milliseconds and each p50 as a ratio to its bare counterpart's p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import bench_env, dev_server, free_port, populate

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def sign_in(base: str, token: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base, timeout=120)
    page = await http.get("/login")
    csrf = _CSRF.search(page.text)
    assert csrf is not None
    answer = await http.post("/login", data={"csrf": csrf.group(1), "token": token})
    assert answer.status_code == 303, answer.text
    return http


async def main(projects: int, runs: int, votes: int, data_dir: Path) -> None:
    from ledger import Ledger
    from phasegate import deliverables, service
    from phasegate.api import create_app
    from phasegate.logging import configure_logging
    from phasegate.settings import get_settings
    from phasegate.temporal import connect

    some = await populate(data_dir, projects)
    settings = get_settings(
        data_dir=data_dir, pmo=("pia",), session_secret="bench-" + "x" * 40, log_level="WARNING"
    )
    configure_logging("json", "WARNING")
    client = await connect(settings)
    with Ledger(settings.effective_ledger_url()) as ledger:
        tokens = {p: ledger.create_token(p, "bench")[1] for p in ("pia", "anna", "bo")}
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        pmo = await sign_in(base, tokens["pia"])
        anna = await sign_in(base, tokens["anna"])
        bo = await sign_in(base, tokens["bo"])
        # Gates to vote on: 2 x votes projects with their first gate requested.
        voting = [f"bench-{n:05d}" for n in range(min(projects, 2 * votes))]
        for pid in voting:
            await deliverables.submit_deliverable(
                client, pid, "david", "Idébeskrivning", url=f"https://docs.example.org/{pid}"
            )
            await service.request_gate(client, pid, "david")
        web_votes, bare_votes = voting[0::2], voting[1::2]
        cases: dict[str, list[float]] = {
            k: []
            for k in (
                "bare list_projects",
                "portfolio / (PMO)",
                "portfolio / (anna)",
                "bare status query",
                "project page",
                "bare decide_gate",
                "web vote (form)",
            )
        }

        async def get_ok(http: httpx.AsyncClient, path: str) -> None:
            answer = await http.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        async def web_vote(pid: str) -> None:
            page = await bo.get("/work")
            csrf = _CSRF.search(page.text)
            assert csrf is not None
            start = time.perf_counter()
            answer = await bo.post(
                f"/projects/{pid}/decide",
                data={"csrf": csrf.group(1), "decision": "approve", "back": "work"},
            )
            cases["web vote (form)"].append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200 and "is recorded" in answer.text, answer.text[-500:]

        for warm in (True, False):
            for r in range(1 if warm else runs):
                rows = {
                    "bare list_projects": lambda: service.list_projects(client),
                    "portfolio / (PMO)": lambda: get_ok(pmo, "/"),
                    "portfolio / (anna)": lambda: get_ok(anna, "/"),
                    "bare status query": lambda: service.status(client, some),
                    "project page": lambda: get_ok(anna, f"/projects/{some}"),
                }
                for name, call in rows.items():
                    took = await timed(call)
                    if not warm:
                        cases[name].append(took)
                if not warm and r < len(web_votes):
                    await web_vote(web_votes[r])
                    pid = bare_votes[r]
                    cases["bare decide_gate"].append(
                        await timed(
                            lambda pid=pid: service.decide_gate(client, pid, "bo", "approve")
                        )  # type: ignore[misc]
                    )
        print(f"\n{projects} projects, {runs} rounds (votes: {len(cases['web vote (form)'])})")
        print(f"{'':<24} {'p50 ms':>8} {'p95 ms':>8} {'ratio p50':>10}")
        floors = {
            "portfolio / (PMO)": "bare list_projects",
            "portfolio / (anna)": "bare list_projects",
            "project page": "bare status query",
            "web vote (form)": "bare decide_gate",
        }
        for name, values in cases.items():
            if not values:
                continue
            med = statistics.median(values)
            floor = floors.get(name)
            ratio = f"{med / statistics.median(cases[floor]):9.1f}x" if floor else ""
            print(f"{name:<24} {med:8.1f} {p(values, 0.95):8.1f} {ratio:>10}")
        for http in (pmo, anna, bo):
            await http.aclose()
    finally:
        server.should_exit = True
        thread.join(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--votes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        env = bench_env(data, Path(tmp) / "pycache")
        with dev_server(data, env):
            asyncio.run(main(args.projects, args.runs, args.votes, data))
    sys.stdout.flush()
    os._exit(0)  # the Temporal client's threads can crash a normal exit (DESIGN.md)
