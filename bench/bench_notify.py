"""Notifications: deliveries per second to a local webhook receiver, and the delay they add to a
gate decision, each against a baseline measured in the same run.

    python bench/bench_notify.py [--notifications 2000] [--projects 10] [--rounds 3]

1. Throughput: ``--notifications`` notifications put in the outbox (through the ledger's
   record, as projects do), then one postman routes, signs and POSTs them to a webhook
   receiver on loopback (http.server, a thread per request) and marks each delivered. The
   baseline is the floor: the same number of bare POSTs of the same bodies with httpx, as
   concurrent as the postman (its batch), no ledger.
2. Gate decisions on the real dev server: per round, ``--projects`` projects each have
   their idea gate requested and decided (3 updates, timed one by one), once on a worker
   without the outbox (notifications only logged: "off"), once on a worker that stores them
   and runs a postman delivering them to the receiver meanwhile ("on"). Rounds alternate
   off/on; medians per update, and the ratio on/off.
Needs the test extras (pip install -e '.[test]'): the receiver and the deliverable helper.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.*

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import governance as g
from activities import Postman
from governance.audit import AuditEventIn, EventKind
from governance.messages import NotifyInput, NotifyPerson
from governance.notifications import (
    NotifyConfig,
    body_bytes,
    parse_notify_config,
    sign,
    webhook_body,
)
from ledger import Ledger, Outgoing
from phasegate import service
from phasegate.devserver import DevServer
from tests.integration.conftest import submit_missing
from tests.notify.receivers import SECRET, Receiver, webhook_receiver
from worker import build_worker

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def config(receiver: Receiver) -> NotifyConfig:
    return parse_notify_config(
        f"""
version: 1
channels:
  hook: {{type: webhook, url: "{receiver.url}", secret: "{SECRET}"}}
routes:
  - channels: [hook]
delivery: {{poll_seconds: 0.05}}
""",
        {},
    )


def fill(ledger: Ledger, n: int) -> list[Outgoing]:
    """``n`` notifications in the outbox, 100 events and notifications a transaction."""
    people = [NotifyPerson(id="anna", name="Anna", email="anna@example.org", roles=["x"])]
    stored: list[Outgoing] = []
    for start in range(1, n + 1, 100):
        events, notes = [], []
        for seq in range(start, min(start + 100, n + 1)):
            events.append(
                AuditEventIn(
                    project_id="bench",
                    seq=seq,
                    at=T0 + timedelta(seconds=seq),
                    kind=EventKind.gate_opened,
                    payload={},
                    model="projektflodet@1.0",
                    model_hash="ab" * 32,
                    workflow_id="project-bench",
                    run_id="run",
                )
            )
            note = NotifyInput(
                project_id="bench",
                kind="gate_opened",
                recipients=["anna"],
                subject=f"Gate {seq} awaits your decision",
                payload={"deadline": (T0 + timedelta(days=10)).isoformat()},
                chain="bench",
                event_seq=seq,
                ordinal=0,
                model="projektflodet@1.0",
                title="Bench",
                people=people,
            )
            notes.append(
                Outgoing(
                    key=note.key() or "",
                    project_id="bench",
                    kind="gate_opened",
                    at=T0 + timedelta(seconds=seq),
                    message=note.model_dump(mode="json"),
                )
            )
        ledger.record(events, notifications=notes)
        stored += notes
    return stored


async def throughput(n: int) -> tuple[float, float]:
    """(postman deliveries/s, bare POSTs/s) to one receiver."""
    with tempfile.TemporaryDirectory() as tmp, webhook_receiver() as receiver:
        with Ledger(f"sqlite:///{tmp}/ledger.db") as ledger:
            ledger.migrate()
            notes = fill(ledger, n)
            async with Postman(ledger, config(receiver)) as postman:
                t0 = time.perf_counter()
                while ledger.outbox_counts()["delivered"] < n:
                    await postman.deliver_due()
                postman_s = time.perf_counter() - t0
            assert len(set(receiver.keys())) == n
            assert receiver.requests == n, f"{receiver.requests - n} attempts failed"
        bodies = [body_bytes(webhook_body(o.key, o.message, o.at, None)) for o in notes]
        sem = asyncio.Semaphore(50)  # the postman's batch
        async with httpx.AsyncClient() as http:

            async def post(body: bytes) -> None:
                async with sem:
                    headers = {"Phasegate-Signature": sign(SECRET, body)}
                    r = await http.post(receiver.url, content=body, headers=headers)
                    r.raise_for_status()

            t0 = time.perf_counter()
            await asyncio.gather(*(post(b) for b in bodies))
            bare_s = time.perf_counter() - t0
    return n / postman_s, n / bare_s


async def decisions(projects: int, rounds: int) -> tuple[list[float], list[float], int]:
    """Seconds per gate update (request, two votes): (off, on), and the webhooks received."""
    base = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
    model = g.builtin_models()["projektflodet"]
    tag = uuid.uuid4().hex[:6]
    off: list[float] = []
    on: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        DevServer(Path(tmp) / "data", ui=False) as server,
        webhook_receiver() as receiver,
    ):
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        with Ledger(f"sqlite:///{tmp}/ledger.db") as ledger:
            ledger.migrate()
            for r in range(rounds * 2 + 1):  # the first round warms up, untimed
                notify = r % 2 == 0 and r > 0
                tq = f"bench-{tag}-{r}"
                stop = asyncio.Event()
                async with build_worker(client, ledger, tq, outbox=notify):
                    postman = Postman(ledger, config(receiver)) if notify else None
                    task = None
                    if postman is not None:
                        await postman.__aenter__()
                        task = asyncio.create_task(postman.run(stop))
                    timings = off if not notify else on
                    for i in range(projects):
                        pid = f"b{tag}-{r}-{i}"
                        charter = base.model_copy(update={"id": pid})
                        await service.start_project(client, charter, model, task_queue=tq)
                        await submit_missing(client, pid)
                        for step in (
                            lambda p=pid: service.request_gate(client, p, "david"),
                            lambda p=pid: service.decide_gate(client, p, "bo", "approve"),
                            lambda p=pid: service.decide_gate(client, p, "anna", "approve"),
                        ):
                            t0 = time.perf_counter()
                            await step()
                            if r > 0:
                                timings.append(time.perf_counter() - t0)
                    if postman is not None and task is not None:
                        while (
                            ledger.outbox_counts()["pending"] or ledger.outbox_counts()["unrouted"]
                        ):
                            await asyncio.sleep(0.05)
                        stop.set()
                        await task
                        await postman.__aexit__(None, None, None)
        received = len(receiver.received)
    return off, on, received


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    per_s, bare_per_s = await throughput(args.notifications)
    print(
        f"throughput, {args.notifications} notifications to a local webhook receiver: "
        f"postman {per_s:,.0f}/s (route, sign, POST, mark delivered), bare POSTs "
        f"{bare_per_s:,.0f}/s; ratio postman/bare {per_s / bare_per_s:.2f}"
    )
    off, on, received = await decisions(args.projects, args.rounds)
    m_off, m_on = median(off), median(on)
    print(
        f"gate updates on the dev server, {len(off)} per side over {args.rounds} rounds: "
        f"median {m_off * 1000:.1f} ms with notifications off, {m_on * 1000:.1f} ms on "
        f"(outbox + postman delivering {received} webhooks meanwhile); ratio on/off "
        f"{m_on / m_off:.2f}"
    )


if __name__ == "__main__":
    from phasegate._exit import run_and_exit

    run_and_exit(main)
