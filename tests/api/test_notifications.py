"""``/api/notifications``: the dead letters and pending deliveries of the outbox, the PMO's
to see across projects and to retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api_support import OUTSIDER, PMO, Api, error

from governance.audit import AuditEventIn, EventKind
from ledger import Ledger, Outgoing

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def dead_letter(ledger: Ledger) -> tuple[str, int, int]:
    """A project's two deliveries of one notification: (project, dead id, delivered id)."""
    project = f"ghost-{uuid.uuid4().hex[:8]}"
    event = AuditEventIn(
        project_id=project,
        seq=1,
        at=T0,
        kind=EventKind.gate_opened,
        payload={},
        model="projektflodet@1.0",
        model_hash="ab" * 32,
        workflow_id=f"project-{project}",
        run_id="run",
    )
    note = Outgoing(
        key=f"{project}#1.0",
        project_id=project,
        kind="gate_opened",
        at=T0,
        message={"subject": "Gate awaits your decision", "project_id": project},
    )
    ledger.record([event], notifications=[note])
    (stored,) = [n for n in ledger.unrouted_notifications(1000) if n.project_id == project]
    ledger.route_notification(stored.id, [("hook", "*"), ("mail", "anna@example.org")], T0)
    later = T0 + timedelta(days=3650)  # past anything another test left due
    for d in ledger.claim_deliveries(later, timedelta(seconds=60), 1000):
        if d.notification.project_id != project:
            ledger.delivery_failed(d.id, "not this test's", later)  # back, untouched
        elif d.channel == "hook":
            ledger.delivery_failed(d.id, "https://erp.example.org/x answered HTTP 503", None)
            dead = d.id
        else:
            ledger.delivery_sent(d.id, later)
            sent = d.id
    return project, dead, sent


def test_the_pmo_sees_the_dead_letters_and_retries_one(as_: dict[str, Api], ledger: Ledger) -> None:
    project, dead, sent = dead_letter(ledger)
    listed = as_[PMO].get("/api/notifications", params={"project": project})
    assert listed.status_code == 200
    (row,) = listed.json()
    assert (row["id"], row["status"], row["channel"], row["key"]) == (
        dead,
        "dead",
        "hook",
        f"{project}#1.0",
    )
    assert row["last_error"] == "https://erp.example.org/x answered HTTP 503"
    assert any(r["id"] == dead for r in as_[PMO].get("/api/notifications").json())
    delivered = as_[PMO].get(
        "/api/notifications", params={"status": "delivered", "project": project}
    )
    assert [r["id"] for r in delivered.json()] == [sent]

    retried = as_[PMO].post(f"/api/notifications/{dead}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert as_[PMO].get("/api/notifications", params={"project": project}).json() == []
    assert error(as_[PMO].post(f"/api/notifications/{dead}/retry"))[:2] == (409, "NotDead")
    assert error(as_[PMO].post(f"/api/notifications/{sent}/retry"))[:2] == (409, "NotDead")
    assert error(as_[PMO].post("/api/notifications/999999/retry"))[:2] == (404, "UnknownDelivery")


def test_others_see_only_projects_they_see_and_retry_nothing(
    as_: dict[str, Api], ledger: Ledger
) -> None:
    project, dead, _ = dead_letter(ledger)
    assert error(as_["anna"].get("/api/notifications"))[:2] == (403, "NotAuthorised")
    # The ghost project names nobody: to anyone but the PMO it does not exist.
    outside = as_[OUTSIDER].get("/api/notifications", params={"project": project})
    assert error(outside) == (404, "UnknownProject", f"no project {project}")
    assert error(as_["anna"].post(f"/api/notifications/{dead}/retry"))[:2] == (
        403,
        "NotAuthorised",
    )
    assert [
        r["status"] for r in as_[PMO].get("/api/notifications", params={"project": project}).json()
    ] == ["dead"]
