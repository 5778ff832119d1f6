"""Hostile review: real postmen, each with its own ledger connection (two worker processes),
racing on one SQLite file or one PostgreSQL database, and a postman "killed" between claiming
and sending or between sending and marking, against a real webhook receiver."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from ledger_support import EventFactory
from temporalio.testing import ActivityEnvironment

from activities import Postman, ProjectActivities
from governance.messages import ChainHeadMessage, NotifyInput, NotifyPerson, RecordInput
from governance.notifications import NotifyConfig, parse_notify_config
from ledger import Ledger
from tests.notify.receivers import SECRET, webhook_receiver

N = 40


def config(url: str) -> NotifyConfig:
    return parse_notify_config(
        f"""
version: 1
channels:
  hook: {{type: webhook, url: "{url}", secret: "{SECRET}", timeout_seconds: 0.5}}
routes: [{{channels: [hook]}}]
delivery: {{lease_seconds: 1, poll_seconds: 0.05, backoff_seconds: 0.05}}
""",
        {},
    )


def store(ledger: Ledger, make_event: EventFactory, n: int) -> None:
    anna = NotifyPerson(id="anna", name="Anna", email="anna@example.org", roles=["x"])
    ActivityEnvironment().run(
        ProjectActivities(ledger).record,
        RecordInput(
            events=[make_event(seq=i) for i in range(1, n + 1)],
            notify=[
                NotifyInput(
                    project_id="proj-a",
                    kind="gate_opened",
                    recipients=["anna"],
                    subject=f"note {i}",
                    chain="proj-a",
                    event_seq=i,
                    ordinal=i,
                    people=[anna],
                )
                for i in range(1, n + 1)
            ],
            after=ChainHeadMessage(),
        ),
    )


async def test_two_postmen_on_two_connections_send_every_notification_exactly_once(
    ledger_url: str, make_event: EventFactory
) -> None:
    with (
        webhook_receiver() as receiver,
        Ledger(ledger_url) as one,
        Ledger(ledger_url) as two,
    ):
        one.migrate()
        store(one, make_event, N)
        cfg = config(receiver.url)
        stop = asyncio.Event()
        async with Postman(one, cfg, batch=3) as a, Postman(two, cfg, batch=3) as b:
            runs = [asyncio.create_task(p.run(stop)) for p in (a, b)]
            deadline = time.monotonic() + 30
            while len(one.deliveries("delivered")) < N and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*runs)
        counts = Counter(receiver.keys())
        assert len(counts) == N and set(counts.values()) == {1}
        assert receiver.requests == N
        assert one.outbox_counts() == {"pending": 0, "delivered": N, "dead": 0, "unrouted": 0}


async def test_a_postman_killed_after_claiming_or_after_sending_costs_at_most_one_duplicate(
    ledger_url: str, make_event: EventFactory
) -> None:
    with webhook_receiver() as receiver, Ledger(ledger_url) as ledger:
        ledger.migrate()
        store(ledger, make_event, 2)
        cfg = config(receiver.url)
        lease = timedelta(seconds=cfg.delivery.lease_seconds)
        async with Postman(ledger, cfg) as dead, Postman(ledger, cfg) as live:
            await dead.route_new()
            # The dead postman claimed both, sent the first, and died before marking either.
            claimed = ledger.claim_deliveries(datetime.now(UTC), lease)
            assert len(claimed) == 2
            await dead.send(claimed[0])
            assert await live.deliver_due() == 0  # both held by the dead one's lease
            await asyncio.sleep(cfg.delivery.lease_seconds + 0.1)
            assert await live.deliver_due() == 2
        assert Counter(receiver.keys()) == {"proj-a#1.1": 2, "proj-a#2.2": 1}
        assert [d.attempts for d in ledger.deliveries("delivered")] == [2, 2]
