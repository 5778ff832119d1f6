"""Hostile review of the notification outbox (SQLite and PostgreSQL): postmen whose leases
ran out, whose clocks run ahead, racing each other on routing and on a retried write, and
``retry`` of ids it does not apply to."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from ledger_support import T0, EventFactory
from temporalio.testing import ActivityEnvironment

from activities import ProjectActivities
from governance.messages import ChainHeadMessage, NotifyInput, NotifyPerson, RecordInput
from ledger import DeliveryMissing, Ledger

LEASE = timedelta(seconds=60)


def note(seq: int, ordinal: int = 0) -> NotifyInput:
    return NotifyInput(
        project_id="proj-a",
        kind="gate_opened",
        recipients=["anna"],
        subject=f"note {seq}.{ordinal}",
        chain="proj-a",
        event_seq=seq,
        ordinal=ordinal,
        people=[NotifyPerson(id="anna", name="Anna", email="anna@example.org", roles=["x"])],
    )


def one_delivery(ledger: Ledger, make_event: EventFactory) -> int:
    ActivityEnvironment().run(
        ProjectActivities(ledger).record,
        RecordInput(events=[make_event(seq=1)], notify=[note(1)], after=ChainHeadMessage()),
    )
    (n,) = ledger.unrouted_notifications()
    assert ledger.route_notification(n.id, [("hook", "*")], T0)
    (d,) = ledger.deliveries("pending")
    return d.id


def test_a_postman_whose_lease_ran_out_cannot_free_the_next_postmans_claim(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """Postman A's send outlasts its lease; B claims and sends; A's late failure must not
    clear B's claim, or a third postman sends while B is still sending (two duplicates)."""
    delivery = one_delivery(ledger, make_event)
    (a,) = ledger.claim_deliveries(T0, LEASE)
    (b,) = ledger.claim_deliveries(T0 + LEASE + timedelta(seconds=1), LEASE)
    assert (a.id, b.id, b.attempts) == (delivery, delivery, 2)
    # A gives up late, with a short backoff, while B still holds the delivery.
    ledger.delivery_failed(a.id, "timed out", T0 + LEASE + timedelta(seconds=2), attempt=a.attempts)
    assert ledger.claim_deliveries(T0 + LEASE + timedelta(seconds=3), LEASE) == []
    # B's own outcome still counts.
    ledger.delivery_sent(b.id, T0 + LEASE + timedelta(seconds=4))
    (done,) = ledger.deliveries("delivered")
    assert done.id == delivery


def test_a_late_failure_cannot_turn_a_delivered_one_dead(
    ledger: Ledger, make_event: EventFactory
) -> None:
    delivery = one_delivery(ledger, make_event)
    (a,) = ledger.claim_deliveries(T0, LEASE)
    (b,) = ledger.claim_deliveries(T0 + LEASE + timedelta(seconds=1), LEASE)
    ledger.delivery_sent(b.id, T0 + LEASE + timedelta(seconds=2))
    ledger.delivery_failed(a.id, "timed out", None, attempt=a.attempts)
    assert [d.id for d in ledger.deliveries("delivered")] == [delivery]
    assert ledger.deliveries("dead") == []


def test_a_postman_whose_clock_runs_ahead_does_not_take_a_held_delivery(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """A postman passes no clock of its own (``now`` None): on PostgreSQL the lease is taken
    and compared by the database's clock, so a worker whose clock runs ahead cannot take a
    delivery another is still sending. (A clock passed in is still used as given: above.)"""
    if ledger.url.startswith("sqlite"):
        pytest.skip("a SQLite ledger's postmen share one machine and its clock")
    one_delivery(ledger, make_event)
    (held,) = ledger.claim_deliveries(None, LEASE)
    assert ledger.claim_deliveries(None, LEASE) == []
    with ledger._transaction() as conn:  # the database's own clock
        db_now = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
    (row,) = ledger.deliveries("pending")
    assert row.claimed_until is not None
    assert abs(row.claimed_until - (db_now + LEASE)) < timedelta(seconds=5)
    # Once the lease has run out by the database's clock, another postman takes it over.
    with ledger._transaction(write=True) as conn:
        conn.execute(
            sa.text("UPDATE deliveries SET claimed_until = clock_timestamp() - interval '1 second'")
        )
    (taken,) = ledger.claim_deliveries(None, LEASE)
    assert taken.id == held.id and taken.attempts == held.attempts + 1


def test_two_postmen_routing_one_notification_make_its_deliveries_once(
    ledger_url: str, make_event: EventFactory
) -> None:
    """Two processes' ledgers (no shared lock) route the same notifications at once."""
    with Ledger(ledger_url) as first, Ledger(ledger_url) as second:
        first.migrate()
        ActivityEnvironment().run(
            ProjectActivities(first).record,
            RecordInput(
                events=[make_event(seq=n) for n in range(1, 41)],
                notify=[note(n) for n in range(1, 41)],
                after=ChainHeadMessage(),
            ),
        )
        notes = first.unrouted_notifications(100)
        won: list[list[bool]] = [[], []]
        start = threading.Barrier(2)

        def route(i: int, ledger: Ledger) -> None:
            start.wait()
            for n in notes:
                won[i].append(ledger.route_notification(n.id, [("hook", "*"), ("mail", "a@x")], T0))

        threads = [threading.Thread(target=route, args=p) for p in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [a + b for a, b in zip(*won, strict=True)] == [1] * 40
        assert len(first.deliveries()) == 80


def test_two_workers_retrying_one_record_at_once_store_each_notification_once(
    ledger_url: str, make_event: EventFactory
) -> None:
    """A record activity retried while its first attempt still runs (another worker)."""
    batch = RecordInput(
        events=[make_event(seq=n) for n in range(1, 11)],
        notify=[note(n, n) for n in range(1, 11)],
        after=ChainHeadMessage(),
    )
    with Ledger(ledger_url) as first, Ledger(ledger_url) as second:
        first.migrate()
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def write(ledger: Ledger) -> None:
            start.wait()
            try:
                ActivityEnvironment().run(ProjectActivities(ledger).record, batch)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(lg,)) for lg in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        keys = [n.key for n in first.unrouted_notifications(100)]
        assert keys == [f"proj-a#{n}.{n}" for n in range(1, 11)]
        assert len(first.events()) == 10


def test_retry_of_an_unknown_pending_or_delivered_id_is_refused_and_changes_nothing(
    ledger: Ledger, make_event: EventFactory
) -> None:
    delivery = one_delivery(ledger, make_event)
    before = ledger.deliveries()
    for bad in (delivery + 1000, -1, 0):
        with pytest.raises(DeliveryMissing, match=f"no delivery has id {bad}"):
            ledger.retry_delivery(bad)
    with pytest.raises(DeliveryMissing, match="is pending, not dead"):
        ledger.retry_delivery(delivery)
    assert ledger.deliveries() == before
    (d,) = ledger.claim_deliveries(T0, LEASE)
    ledger.delivery_sent(d.id, T0)
    sent = ledger.deliveries()
    with pytest.raises(DeliveryMissing, match="is delivered, not dead"):
        ledger.retry_delivery(delivery)
    assert ledger.deliveries() == sent
