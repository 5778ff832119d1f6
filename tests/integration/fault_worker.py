"""The real worker (``worker.build_worker``, a real ledger, a real client) that kills itself
with SIGKILL once, around the ledger commit of the first write holding an event of a given kind.

    python tests/integration/fault_worker.py --address A --ledger-url U --task-queue Q \\
        --kill-on gate_opened[,vote_cast...] --at after-commit|before-commit --marks DIR

``after-commit``: the ledger transaction has committed, the activity has not completed (so
neither has the workflow task that learns of it). ``before-commit``: every statement of the
transaction has run, its COMMIT has not. Each kind kills once: a file in ``--marks`` says it
did, so the same command started again serves on. Production code holds no hook for this: the
activities are a subclass of the real ones, passed to ``build_worker``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities import ProjectActivities
from governance.messages import ActivityName, RecordInput, RecordResult
from ledger import Ledger
from phasegate.logging import configure_logging
from worker import build_worker

log = structlog.get_logger("phasegate.fault_worker")
_armed = threading.local()
"""``fault`` = (kind, marks) on the activity's thread while it writes a batch that dies at
its COMMIT (the listener below is on every engine; only that thread is armed)."""


def _die(kind: str, marks: Path) -> None:
    (marks / f"{kind}.killed").write_text(str(os.getpid()))
    log.warning("fault.kill", kind=kind, pid=os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


class FaultActivities(ProjectActivities):
    def __init__(self, ledger: Ledger, kinds: set[str], at: str, marks: Path) -> None:
        super().__init__(ledger)
        self._kinds, self._at, self._marks = kinds, at, marks

    def _due(self, input: RecordInput) -> str | None:
        """The kind this batch must die for, if not done before."""
        for event in input.events:
            kind = str(event.kind)
            if kind in self._kinds and not (self._marks / f"{kind}.killed").exists():
                return kind
        return None

    @activity.defn(name=ActivityName.RECORD)
    def record(self, input: RecordInput) -> RecordResult:
        kind = self._due(input)
        if kind is None:
            return super().record(input)
        if self._at == "before-commit":
            _armed.fault = (kind, self._marks)
            try:
                return super().record(input)
            finally:
                _armed.fault = None
        result = super().record(input)
        _die(kind, self._marks)
        return result  # never reached


@sa.event.listens_for(sa.engine.Engine, "commit")
def _before_commit(conn: Any) -> None:
    fault = getattr(_armed, "fault", None)
    if fault is not None:
        _die(*fault)


async def main(args: argparse.Namespace) -> None:
    client = await Client.connect(args.address, data_converter=pydantic_data_converter)
    kinds = {k for k in args.kill_on.split(",") if k}
    with Ledger(args.ledger_url) as ledger:
        ledger.migrate()
        acts = FaultActivities(ledger, kinds, args.at, args.marks)
        async with build_worker(client, ledger, args.task_queue, activities=acts):
            log.info("worker.started", task_queue=args.task_queue, kill_on=sorted(kinds))
            await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--ledger-url", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--kill-on", default="", help="event kinds, comma-separated")
    parser.add_argument("--at", choices=["after-commit", "before-commit"], default="after-commit")
    parser.add_argument("--marks", type=Path, required=True)
    ns = parser.parse_args()
    ns.marks.mkdir(parents=True, exist_ok=True)
    configure_logging("json", "INFO")
    asyncio.run(main(ns))
