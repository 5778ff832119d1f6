"""How long the CLI takes to answer, against the bare interpreter's start measured in the same
run.

    python bench/bench_cli.py [--runs 10] [--projects 1000] [--address HOST:PORT] [--profile]
                              [--against CHECKOUT]

Each command runs as a fresh process (``python -c`` of the console entry), ``--runs`` rounds of
every command in turn (interleaved, so that a busy machine slows them all alike), after one
warm-up round. The median wall time of each is printed in seconds and as a ratio to the median
of ``python -c pass``, next to its goal. Byte-code caches are written to the run's temporary
folder (``PYTHONPYCACHEPREFIX``) and used from the warm-up on, so a checkout run with
``PYTHONDONTWRITEBYTECODE`` is measured as an installed package runs, not recompiling itself
every time. The code imported is the installed one (or the one ``PYTHONPATH`` names).
``--against CHECKOUT`` also runs every phasegate command with ``PYTHONPATH=CHECKOUT`` (another
worktree, e.g. main's), in the same rounds, so that two versions are compared under the same
load: its lines are marked ``[against]``.

The light commands (``--help``, ``model list``, ``model validate``) run in an empty data
directory: no ledger, no server; ``model list`` also with a ledger (``--data-dir``: the default
SQLite file, migrated, holding ``PUBLISHED`` published models, as ``phasegate dev`` and ``model
publish`` leave it), whose registry it reads. ``project list`` and ``project status`` run
against a ``phasegate dev`` started here in a temporary data directory (server and worker,
stopped and removed at the end), holding ``--projects`` projects started from a small charter,
all of them listed by visibility and recorded in the ledger before the clock starts;
``--projects 0`` skips them; ``project status`` also with ``PHASEGATE_LEDGER_URL`` set (to
that ledger), as production names its ledger. Then the same two commands over the REST API
(``PHASEGATE_API_URL`` and ``PHASEGATE_TOKEN``: a ``phasegate api`` started here on that dev
server, the token a PMO's, who sees every project), in a round of their own with its own
``python -c pass``. With ``--address`` they run against that server instead (its first listed
project for ``status``; not over the API). ``--profile`` also runs each server-facing command
once under cProfile and prints where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pstats
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "from phasegate.cli import main; main()"
"""The console script's body: what `phasegate` runs."""
PROFILED = (
    "import sys; from phasegate.cli._app import for_command_line; sys.argv[0] = 'phasegate'; "
    "for_command_line(sys.argv[1:])()"
)
"""The same under cProfile: ``main`` leaves through ``os._exit``, before cProfile writes."""
CHARTER = ROOT / "examples" / "projektflodet-charter.yaml"
GOALS = {
    "phasegate model list": 0.3,
    "phasegate model validate prince2": 0.3,
    "phasegate project status": 0.5,
    "phasegate project list": 0.8,
}
"""Issue #12 item 8: seconds (the project list with 1,000 projects)."""
PUBLISHED = 5
"""Models published in the ledger ``model list`` reads (copies of a built-in, versions 1.0...)."""
STARTS_AT_ONCE = 64
SETTLE_SECONDS = 3.0
"""The ledger's event count unchanged this long: the worker has done what the starts asked."""


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall time, CPU time (user + system) and output of one run of ``argv``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {done.returncode}\n{done.stderr.decode()[-3000:]}")
    return took, _children_cpu() - cpu, done.stdout.decode()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children waited for
    return usage.ru_utime + usage.ru_stime


AGAINST = " [against]"
"""Marks a case run with the ``--against`` checkout."""


def measure(
    cases: dict[str, list[str]],
    runs: int,
    env: dict[str, str],
    cwd: Path,
    against: Path | None = None,
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU time of each case: a warm-up round, then ``runs`` interleaved
    rounds; with ``against``, each phasegate case also with that checkout, right after it."""
    envs: dict[str, dict[str, str]] = {name: env for name in cases}
    argvs = dict(cases)
    if against is not None:
        for name, argv in cases.items():
            if name.startswith("phasegate "):
                argvs[name + AGAINST] = argv
                envs[name + AGAINST] = {**env, "PYTHONPATH": str(against.resolve())}
        argvs = {n: argvs[n] for name in cases for n in (name, name + AGAINST) if n in argvs}
    for name, argv in argvs.items():
        run_once(argv, envs[name], cwd)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            times[name].append(run_once(argv, envs[name], cwd)[:2])
    return {
        name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for name, t in times.items()
    }


def report(medians: dict[str, tuple[float, float]]) -> None:
    base = medians["python -c pass"][0]
    width = max(42, *(len(name) for name in medians))
    print(f"{'':<{width}} {'wall':>8}  {'ratio':>6} {'cpu':>8}")
    for name, (wall, cpu) in medians.items():
        goal = next(
            (g for key, g in GOALS.items() if name.startswith(key) and AGAINST not in name), None
        )
        verdict = (
            "" if goal is None else f"goal {goal:.1f} s: {'met' if wall <= goal else 'MISSED'}"
        )
        line = f"{name:<{width}} {wall:6.3f} s {wall / base:6.1f}x {cpu:6.3f} s  {verdict}"
        print(line.rstrip())


def bench_env(data_dir: Path, cache_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    env["PHASEGATE_DATA_DIR"] = str(data_dir)
    return env


def published_ledger(data_dir: Path, count: int) -> None:
    """The default ledger in ``data_dir``, migrated, holding ``count`` published models."""
    import governance as g
    from ledger import Ledger
    from phasegate.settings import sqlite_url

    base = json.loads(g.load_project(CHARTER)[1].canonical_json())
    with Ledger(sqlite_url(data_dir / "ledger.db")) as ledger:
        ledger.migrate()
        for n in range(count):
            model = g.parse_model({**base, "name": "bench", "version": f"1.{n}"})
            ledger.publish_model(model, "bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def dev_server(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """A ``phasegate dev`` (server and worker) on ``data_dir``; its address. Stopped on the way
    out, whatever happened (and whatever it left running, by ``stop_dev``)."""
    from phasegate.devserver import read_state, stop_dev

    log = (data_dir / "bench-dev.log").open("wb")
    argv = [sys.executable, "-c", ENTRY, "dev", "--no-ui", "--port", str(free_port())]
    proc = subprocess.Popen(
        [*argv, "--log-level", "warning"], env=env, cwd=data_dir, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while (state := read_state(data_dir)) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (data_dir / "bench-dev.log").read_text(errors="replace")[-2000:]
                sys.exit(f"phasegate dev did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.2)
        yield state.address
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # it stops its worker, then its server
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stop_dev(data_dir)
        log.close()


BENCH_PMO = "bench-pmo"


@contextlib.contextmanager
def api_server(data_dir: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``phasegate api`` on the dev server of ``data_dir``, with a token of a PMO (who sees
    every project); the environment of the CLI over it. Stopped on the way out."""
    import httpx

    cli = [sys.executable, "-c", ENTRY]
    made = run_once([*cli, "token", "create", "--person", BENCH_PMO], env, data_dir)[2]
    port = free_port()
    log = (data_dir / "bench-api.log").open("wb")
    proc = subprocess.Popen(
        [*cli, "api", "--port", str(port), "--log-level", "warning"],
        env={**env, "PHASEGATE_PMO": BENCH_PMO},
        cwd=data_dir,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/openapi.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"phasegate api did not start (exit {proc.poll()})")
                time.sleep(0.2)
        yield {**env, "PHASEGATE_API_URL": url, "PHASEGATE_TOKEN": made.strip()}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def populate(data_dir: Path, count: int) -> str:
    """Start ``count`` projects on the dev server of ``data_dir`` (a few at a time), and wait
    until visibility lists them all and the worker has recorded their start; the id of one."""
    import governance as g
    from governance.messages import ModelSource
    from phasegate import service
    from phasegate.settings import get_settings
    from phasegate.temporal import connect, workers_polling

    settings = get_settings(data_dir=data_dir)
    client = await connect(settings)
    began = time.monotonic()
    while not await workers_polling(client, settings.task_queue):
        await asyncio.sleep(0.2)
    charter, model = g.load_project(CHARTER)
    source = ModelSource(kind="builtin")
    gate = asyncio.Semaphore(STARTS_AT_ONCE)

    async def start(n: int) -> str:
        async with gate:
            one = charter.model_copy(update={"id": f"bench-{n:05d}"})
            return await service.start_project(
                client, one, model, task_queue=settings.task_queue, model_source=source
            )

    ids = await asyncio.gather(*(start(n) for n in range(count)))
    started = time.monotonic()
    query = "WorkflowType = 'ProjectWorkflow' AND ExecutionStatus != 'ContinuedAsNew'"
    while (listed := (await client.count_workflows(query)).count) < count:
        await asyncio.sleep(0.5)
    visible = time.monotonic()
    _wait_for_ledger(data_dir / "ledger.db")
    print(
        f"{count} projects: started in {started - began:.1f} s, all listed after "
        f"{visible - began:.1f} s ({listed} listed), ledger settled after "
        f"{time.monotonic() - began:.1f} s"
    )
    return ids[len(ids) // 2]


def _wait_for_ledger(path: Path) -> None:
    """Until the ledger's event count has not changed for ``SETTLE_SECONDS``."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < SETTLE_SECONDS:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            (now,) = db.execute("SELECT count(*) FROM audit_events").fetchone()
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.5)


NOT_IMPORTS = r"^(?!.*(importlib|<frozen|<module>|builtins.exec|__import__|_handle_fromlist))"
"""pstats restriction: leave out the import machinery, which otherwise heads every list."""


def profile(name: str, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
    """Run the command once under cProfile and print its 30 costliest calls (cumulative),
    the import machinery left out."""
    out = cwd / f"{'-'.join(name.split()[:2])}.prof"
    script = cwd / "profiled.py"
    script.write_text(PROFILED.replace("; ", "\n") + "\n")
    argv = [sys.executable, "-m", "cProfile", "-o", str(out), str(script), *args]
    subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    print(f"\n-- phasegate {name}: cProfile, cumulative, imports left out")
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(NOT_IMPORTS, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--projects", type=int, default=1000, help="0: light commands only")
    parser.add_argument("--address", help="an existing server with projects and a worker")
    parser.add_argument("--profile", action="store_true", help="cProfile the server commands")
    parser.add_argument(
        "--against", type=Path, help="another checkout to run every command with, interleaved"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        light_dir, ledger_dir, server_dir = (Path(tmp, n) for n in ("light", "ledger", "dev"))
        for folder in (light_dir, ledger_dir, server_dir):
            folder.mkdir()
        published_ledger(ledger_dir, PUBLISHED)
        env = bench_env(light_dir, Path(tmp, "pycache"))
        py = [sys.executable]
        cli = [*py, "-c", ENTRY]
        list_in_ledger = [*cli, "model", "list", "--data-dir", str(ledger_dir)]
        light = {
            "python -c pass": [*py, "-c", "pass"],
            "phasegate --help": [*cli, "--help"],
            "phasegate model list": [*cli, "model", "list"],
            f"phasegate model list (a ledger, {PUBLISHED} published)": list_in_ledger,
            "phasegate model validate prince2": [*cli, "model", "validate", "prince2"],
        }
        print(
            f"median of {args.runs} runs each; wall time, its ratio to `python -c pass` of the "
            "same run, and CPU time (user + system) of the command's process"
        )
        report(measure(light, args.runs, env, light_dir, args.against))
        if args.address is None and args.projects <= 0:
            return

        server_env = bench_env(server_dir, Path(tmp, "pycache"))
        with contextlib.ExitStack() as stack:
            if args.address is not None:
                server_env["PHASEGATE_ADDRESS"] = args.address
                listed = run_once([*cli, "project", "list", "--json"], server_env, server_dir)
                project = next((r["project_id"] for r in json.loads(listed[2])), "")
            else:
                stack.enter_context(dev_server(server_dir, server_env))
                project = asyncio.run(populate(server_dir, args.projects))
            cases = {"python -c pass": light["python -c pass"]}
            cases["phasegate project list"] = [*cli, "project", "list"]
            if project:
                cases[f"phasegate project status {project}"] = [
                    *cli, "project", "status", project
                ]  # fmt: skip
                # As production runs it: the ledger named by PHASEGATE_LEDGER_URL (here the dev
                # server's own), set in the process before the command starts.
                from phasegate.settings import sqlite_url

                url = sqlite_url(server_dir / "ledger.db")
                named = f"import os; os.environ['PHASEGATE_LEDGER_URL'] = {url!r}; {ENTRY}"
                cases[f"phasegate project status {project} (PHASEGATE_LEDGER_URL set)"] = [
                    *py, "-c", named, "project", "status", project
                ]  # fmt: skip
            rows = run_once(cases["phasegate project list"], server_env, server_dir)[2]
            print(f"project list prints {len(rows.splitlines())} rows")
            report(measure(cases, args.runs, server_env, server_dir, args.against))
            if args.address is None:
                api_env = stack.enter_context(api_server(server_dir, server_env))
                over = {
                    f"{name} (over the API)" if name.startswith("phasegate ") else name: argv
                    for name, argv in cases.items()
                }
                local = run_once(cases["phasegate project list"], server_env, server_dir)[2]
                remote = run_once(cases["phasegate project list"], api_env, server_dir)[2]
                print(f"\nover the API (project list the same as locally: {remote == local})")
                report(measure(over, args.runs, api_env, server_dir))
            if args.profile:
                for name, argv in cases.items():
                    if name.startswith("phasegate "):
                        profile(name.removeprefix("phasegate "), argv[3:], server_env, server_dir)


if __name__ == "__main__":
    from phasegate._exit import run_and_exit  # the client was used: leave without the crash

    run_and_exit(main)
