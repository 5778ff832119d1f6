"""A gate opened, reminded, escalated and decided on the time-skipping server: the right
e-mails on a real SMTP server and the right signed webhooks on a real HTTP receiver, through
the ledger's outbox and the postman."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import governance as g
from activities import Postman
from governance.audit import EventKind
from governance.notifications import parse_notify_config
from tests.notify.receivers import SECRET, config_yaml, smtp_server, webhook_receiver
from tests.workflows.scenario import Project, Scenario, eventually

ASKED = ("gate_opened", "reminder", "escalation", "decision")


async def until_event(p: Project, kind: EventKind) -> None:
    async def seen() -> bool:
        return bool(p.of_kind(kind)) and (await p.status()).last_seq == len(p.events())

    await eventually(seen)


async def arrived(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the notifications did not arrive in time"
        await asyncio.sleep(0.05)


async def test_gate_opened_reminded_escalated_decided_reach_mail_and_webhook(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    # Everyone has an address in the charter but gustav, whose address the route gives.
    people = [
        p.model_copy(update={"email": None if p.id == "gustav" else f"{p.id}@example.org"})
        for p in pf_charter.people
    ]
    charter = pf_charter.model_copy(update={"people": people})
    with smtp_server() as (port, mails), webhook_receiver() as receiver:
        config = parse_notify_config(
            config_yaml(port, receiver.url, poll_seconds=0.05), {"HOOK_SECRET": SECRET}
        )
        stop = asyncio.Event()
        async with Postman(scenario.harness.ledger, config) as postman:
            running = asyncio.create_task(postman.run(stop))
            try:
                p = await scenario.start(charter, projektflodet)
                await p.request("david")
                await arrived(lambda: "gate_opened" in kinds(receiver.received))
                await p.decide("bo", "approve")
                await p.sleep(days=7, hours=1)
                await until_event(p, EventKind.reminder_sent)
                await p.sleep(days=3)
                await until_event(p, EventKind.escalated)
                await p.decide("gustav", "approve", "go ahead")
                await arrived(lambda: "decision" in kinds(receiver.received))
                await arrived(lambda: len(mails) >= 6)
            finally:
                stop.set()
                await running

    hooks = [h for h in receiver.received if h.json["kind"] in ASKED]
    assert all(h.signed() for h in receiver.received)
    # A postman sends a batch at once, so arrival order is not causal order: the key's event
    # sequence number and count are.
    hooks.sort(key=lambda h: tuple(int(n) for n in h.json["id"].rpartition("#")[2].split(".")))
    assert [h.json["kind"] for h in hooks] == list(ASKED)
    by_kind = {h.json["kind"]: h.json for h in hooks}
    recipients = {k: [r["id"] for r in body["recipients"]] for k, body in by_kind.items()}
    assert recipients == {
        "gate_opened": ["anna", "bo"],
        "reminder": ["anna"],  # bo has voted
        "escalation": ["gustav"],
        "decision": ["anna", "david"],  # the requester and the executive
    }
    assert by_kind["escalation"]["data"]["level"] == "portfolio"
    assert by_kind["decision"]["data"]["outcome"] == "approve"
    assert by_kind["gate_opened"]["deadline"] is not None
    # The idempotency keys: the project's chain, the causing event, the chain's count.
    events = {e.kind: e.seq for e in p.events()}
    assert by_kind["gate_opened"]["id"].startswith(f"{p.pid}#{events[EventKind.gate_opened]}.")
    assert len({h.json["id"] for h in receiver.received}) == len(receiver.received)

    # E-mail: one per recipient and notification, to the right address, saying what and when.
    sent = Counter((m.subject.split(" ")[1], m.recipients[0]) for m in mails)
    assert sent == Counter(
        {
            ("Gate", "anna@example.org"): 2,  # opened, then decided
            ("Gate", "bo@example.org"): 1,  # opened
            ("Reminder:", "anna@example.org"): 1,
            ("Escalated", "gustav@example.org"): 1,
            ("Gate", "david@example.org"): 1,  # decided
        }
    )
    escalated = next(m for m in mails if m.recipients == ["gustav@example.org"])
    assert escalated.subject.startswith("[phasegate] Escalated to you: gate idea_gate")
    assert "This was escalated to you: it awaits your decision." in escalated.part("plain")
    assert f"https://pg.example.org/projects/{p.pid}" in escalated.part("html")
    counts = scenario.harness.ledger.outbox_counts()
    assert counts["pending"] == counts["dead"] == counts["unrouted"] == 0


def kinds(hooks: list[object]) -> list[str]:
    return [h.json["kind"] for h in hooks]  # type: ignore[attr-defined]
