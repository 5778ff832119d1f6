"""The notification outbox in the ledger: stored in the record transaction and once only,
routed once, claimed under a lease by one postman at a time, retried with its attempts
counted, dead after the last, and due again on retry. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from ledger_support import T0, EventFactory
from temporalio.testing import ActivityEnvironment

from activities import ProjectActivities
from governance.messages import ChainHeadMessage, NotifyInput, NotifyPerson, RecordInput
from ledger import DeliveryMissing, Ledger

LEASE = timedelta(seconds=60)


def note(seq: int, ordinal: int, kind: str = "gate_opened") -> NotifyInput:
    return NotifyInput(
        project_id="proj-a",
        kind=kind,  # type: ignore[arg-type]
        recipients=["anna"],
        subject=f"note {seq}.{ordinal}",
        payload={"deadline": "2027-01-10T12:00:00+00:00"},
        chain="proj-a",
        event_seq=seq,
        ordinal=ordinal,
        model="projektflodet@1.0",
        people=[NotifyPerson(id="anna", name="Anna", email="anna@example.org", roles=["x"])],
    )


def test_record_stores_notifications_with_their_events_and_a_retry_adds_none(
    ledger: Ledger, make_event: EventFactory
) -> None:
    acts = ProjectActivities(ledger)
    batch = RecordInput(
        events=[make_event(seq=1), make_event(seq=2)],
        notify=[note(2, 0), note(2, 1, "reminder")],
        after=ChainHeadMessage(),
    )
    env = ActivityEnvironment()
    env.run(acts.record, batch)
    env.run(acts.record, batch)  # the same input again, as a retry after a crash
    stored = ledger.unrouted_notifications()
    assert [n.key for n in stored] == ["proj-a#2.0", "proj-a#2.1"]
    assert [n.kind for n in stored] == ["gate_opened", "reminder"]
    assert stored[0].at == make_event(seq=2).at  # the time of the event that caused it
    assert stored[0].message["people"][0]["email"] == "anna@example.org"


def test_notifications_land_only_with_their_events(
    ledger: Ledger, make_event: EventFactory
) -> None:
    acts = ProjectActivities(ledger)
    ActivityEnvironment().run(
        acts.record, RecordInput(events=[make_event(seq=1)], after=ChainHeadMessage())
    )
    # A write whose events conflict with the chain fails whole: no notification is stored.
    bad = RecordInput(
        events=[make_event(seq=1, comment="other")], notify=[note(1, 0)], after=ChainHeadMessage()
    )
    with pytest.raises(Exception, match="Ledger"):
        ActivityEnvironment().run(acts.record, bad)
    assert ledger.unrouted_notifications() == []


def test_without_an_outbox_notifications_are_not_stored(
    ledger: Ledger, make_event: EventFactory
) -> None:
    acts = ProjectActivities(ledger, outbox=False)
    batch = RecordInput(events=[make_event(seq=1)], notify=[note(1, 0)], after=ChainHeadMessage())
    ActivityEnvironment().run(acts.record, batch)
    assert ledger.unrouted_notifications() == []
    assert len(ledger.events()) == 1


def test_routing_claiming_failing_dying_and_retrying(
    ledger: Ledger, make_event: EventFactory
) -> None:
    ledger.record([make_event(seq=1)], notifications=[])
    ActivityEnvironment().run(
        ProjectActivities(ledger).record,
        RecordInput(notify=[note(1, 0)], after=ChainHeadMessage(seq=1, hash="x")),
    )
    (n,) = ledger.unrouted_notifications()
    targets = [("mail", "anna@example.org"), ("hook", "*"), ("hook", "*")]
    assert ledger.route_notification(n.id, targets, T0)
    assert not ledger.route_notification(n.id, targets, T0)  # routed once only
    assert ledger.unrouted_notifications() == []

    first = ledger.claim_deliveries(T0, LEASE)
    assert sorted((d.channel, d.target, d.attempts) for d in first) == [
        ("hook", "*", 1),
        ("mail", "anna@example.org", 1),
    ]
    # Held: nobody else gets them while the lease runs, even when due.
    assert ledger.claim_deliveries(T0 + timedelta(seconds=30), LEASE) == []
    mail = next(d for d in first if d.channel == "mail")
    hook = next(d for d in first if d.channel == "hook")
    ledger.delivery_sent(mail.id, T0)
    ledger.delivery_failed(hook.id, "HTTP 503", T0 + timedelta(seconds=5))
    assert ledger.claim_deliveries(T0 + timedelta(seconds=4), LEASE) == []
    (again,) = ledger.claim_deliveries(T0 + timedelta(seconds=5), LEASE)
    assert (again.id, again.attempts) == (hook.id, 2)
    # A postman killed while sending: its lease runs out and the delivery is due again.
    (after_kill,) = ledger.claim_deliveries(T0 + timedelta(seconds=66), LEASE)
    assert (after_kill.id, after_kill.attempts) == (hook.id, 3)
    ledger.delivery_failed(hook.id, "HTTP 503 for good", None)
    (dead,) = ledger.deliveries("dead")
    assert (dead.id, dead.last_error, dead.notification.key) == (
        hook.id,
        "HTTP 503 for good",
        n.key,
    )
    assert ledger.claim_deliveries(T0 + timedelta(days=1), LEASE) == []
    assert ledger.outbox_counts() == {"pending": 0, "delivered": 1, "dead": 1, "unrouted": 0}

    with pytest.raises(DeliveryMissing, match="is delivered, not dead"):
        ledger.retry_delivery(mail.id)
    with pytest.raises(DeliveryMissing, match="no delivery has id 999"):
        ledger.retry_delivery(999)
    ledger.retry_delivery(hook.id, T0 + timedelta(days=1))
    (revived,) = ledger.claim_deliveries(T0 + timedelta(days=1), LEASE)
    assert (revived.id, revived.attempts) == (hook.id, 1)


def test_a_notification_without_a_key_gets_one_fixed_by_the_batch(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """An input queued before keys existed (a workflow running across the upgrade)."""
    old = note(1, 0).model_copy(update={"chain": None, "event_seq": None, "ordinal": None})
    batch = RecordInput(events=[make_event(seq=1)], notify=[old, old], after=ChainHeadMessage())
    acts = ProjectActivities(ledger)
    ActivityEnvironment().run(acts.record, batch)
    ActivityEnvironment().run(acts.record, batch)
    keys = [n.key for n in ledger.unrouted_notifications()]
    assert len(keys) == 2 and all(k.startswith("proj-a#1.legacy-") for k in keys)


def test_two_postmen_claiming_at_once_never_hold_the_same_delivery(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """Four threads claim in small batches until nothing is left: every delivery is claimed
    exactly once (SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
    events = [make_event(seq=n) for n in range(1, 121)]
    notes = [note(n, 0) for n in range(1, 121)]
    ActivityEnvironment().run(
        ProjectActivities(ledger).record,
        RecordInput(events=events, notify=notes, after=ChainHeadMessage()),
    )
    for n in ledger.unrouted_notifications(500):
        ledger.route_notification(n.id, [("hook", "*")], T0)
    claimed: list[list[int]] = [[] for _ in range(4)]

    def postman(i: int) -> None:
        while batch := ledger.claim_deliveries(T0, LEASE, 7):
            claimed[i] += [d.id for d in batch]

    threads = [threading.Thread(target=postman, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 120
