"""How long the CLI takes to answer, against the bare interpreter's start measured in the same
run.

    python bench/bench_cli.py [--runs 10] [--address HOST:PORT]

Each command runs ``--runs`` times as a fresh process (``python -c`` of the console entry),
in an empty data directory that is also the working directory: no ledger, no dev server, and
the code imported is the installed one (or the one ``PYTHONPATH`` names, to compare two
checkouts). The median wall time of each is printed in seconds and as a ratio to the median of
``python -c pass``. With ``--address`` (a Temporal server with projects and a worker, e.g.
``phasegate dev``'s), ``project list`` (and with ``--project ID``, ``project status ID``) are
measured too; without one they are skipped, as they need a server.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

ENTRY = "from phasegate.cli import main; main()"
"""The console script's body: what `phasegate` runs."""


def median_seconds(argv: Sequence[str], runs: int, env: dict[str, str], cwd: str) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)}: exit {done.returncode}\n{done.stderr.decode()}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--address", help="a Temporal server with projects, for project *")
    parser.add_argument("--project", default="", help="the project for `project status`")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEGATE_")}
        env["PHASEGATE_DATA_DIR"] = data_dir
        py = [sys.executable]
        cases: list[tuple[str, list[str]]] = [
            ("python -c pass", [*py, "-c", "pass"]),
            ("phasegate --help", [*py, "-c", ENTRY, "--help"]),
            ("phasegate model list", [*py, "-c", ENTRY, "model", "list"]),
            (
                "phasegate model validate prince2",
                [*py, "-c", ENTRY, "model", "validate", "prince2"],
            ),
        ]
        if args.address:
            env["PHASEGATE_ADDRESS"] = args.address
            cases.append(("phasegate project list", [*py, "-c", ENTRY, "project", "list"]))
            if args.project:
                cases.append(
                    (
                        f"phasegate project status {args.project}",
                        [*py, "-c", ENTRY, "project", "status", args.project],
                    )
                )
        base = None
        print(f"median of {args.runs} runs each")
        for name, argv in cases:
            seconds = median_seconds(argv, args.runs, env, data_dir)
            base = base or seconds
            print(f"{name:<40} {seconds:6.3f} s  {seconds / base:5.1f}x the bare start")
        if not args.address:
            print("project status / project list: skipped (they need --address of a server)")


if __name__ == "__main__":
    main()
