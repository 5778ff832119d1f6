"""A worker killed (SIGKILL) while its postman delivers a webhook, on the dev server: nothing
is lost. The delivery it was sending is sent again by the next worker once its lease runs
out, at most once more, with the same idempotency key; every notification arrives."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from temporalio.client import Client

import governance as g
from ledger import Ledger
from phasegate import service
from phasegate.devserver import DevServer
from tests.conftest import EXAMPLES
from tests.integration.conftest import WorkerProcess, decide_next_gate, request_gate, settled
from tests.notify.receivers import SECRET, Receiver, webhook_receiver

pytestmark = pytest.mark.devserver


def config(receiver: Receiver) -> str:
    return f"""
version: 1
channels:
  hook: {{type: webhook, url: "{receiver.url}", secret: "${{HOOK_SECRET}}",
         timeout_seconds: 4}}
routes:
  - channels: [hook]
delivery: {{lease_seconds: 5, backoff_seconds: 0.2, max_backoff_seconds: 1, poll_seconds: 0.1}}
"""


async def until(check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.1)


async def test_worker_killed_mid_delivery_loses_nothing_and_sends_at_most_one_duplicate(
    dev_server: DevServer, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    charter = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
    charter = charter.model_copy(update={"id": f"kill-{uuid.uuid4().hex[:6]}"})
    model = g.builtin_models()["projektflodet"]
    ledger_url, tq = f"sqlite:///{tmp_path / 'ledger.db'}", f"tq-{uuid.uuid4().hex}"
    with webhook_receiver() as receiver:
        (tmp_path / "notify.yaml").write_text(config(receiver))
        monkeypatch.setenv("PHASEGATE_NOTIFY_CONFIG", str(tmp_path / "notify.yaml"))
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        first = WorkerProcess(dev_server.address, ledger_url, tq, tmp_path / "first.log")
        second = WorkerProcess(dev_server.address, ledger_url, tq, tmp_path / "second.log")
        receiver.hold = threading.Event()  # the receiver takes the first request and waits
        try:
            await first.start_async()
            await service.start_project(client, charter, model, task_queue=tq)
            await request_gate(client, charter.id)
            await until(receiver.arrived.is_set)
            first.kill9()  # mid-delivery: the request is in, no answer has gone back yet
            receiver.hold.set()  # the receiver finishes it: it got the message
            await until(lambda: len(receiver.received) == 1, 10)
            killed_key = receiver.keys()[0]

            await second.start_async()
            await decide_next_gate(client, charter.id)
            st = await settled(client, charter.id)
            with Ledger(ledger_url) as ledger:

                def done() -> bool:
                    c = ledger.outbox_counts()
                    return c["pending"] == c["unrouted"] == 0 and c["delivered"] > 0

                await until(done)
                keys = [d.notification.key for d in ledger.deliveries()]
                assert {d.status for d in ledger.deliveries()} == {"delivered"}
        finally:
            first.stop()
            second.stop()
    assert st.state == "pre_study"
    arrived = Counter(receiver.keys())
    assert set(arrived) == set(keys), "every notification arrived"
    assert len(keys) == 2  # the gate opened, then decided
    assert arrived[killed_key] == 2  # the one in flight at the kill: sent once more
    assert all(n == 1 for k, n in arrived.items() if k != killed_key)
    assert all(h.signed() for h in receiver.received)
