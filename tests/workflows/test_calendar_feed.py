"""The iCalendar feeds from a running project: they parse back with the icalendar library,
hold the open gate's deadline and reminder, the tasks' due times and the iteration's
ceremonies, and keep their UIDs from one export to the next."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

import governance as g
from phasegate import calendar
from tests.workflows.scenario import Project, Scenario


def events(feed: bytes) -> dict[str, Event]:
    cal = Calendar.from_ical(feed)
    assert cal["version"] == "2.0" and "phasegate" in str(cal["prodid"])
    found = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(found) == len(cal.walk("VEVENT")), "a UID twice"
    return found


def start(e: Event) -> datetime:
    at = e.decoded("dtstart")
    assert isinstance(at, datetime) and at.tzinfo is not None
    return at.astimezone(UTC).replace(microsecond=0)


async def project_feed(p: Project) -> dict[str, Event]:
    return events(await calendar.project_feed(p.harness.client, p.harness.ledger, p.pid))


async def person_feed(p: Project, person: str) -> dict[str, Event]:
    return events(await calendar.person_feed(p.harness.client, p.harness.ledger, person, p.pid))


async def test_an_open_gate_is_in_the_feeds_with_stable_uids_and_a_growing_sequence(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    st = await p.request("david")
    assert st.gate is not None and st.gate.deadline is not None
    assert st.gate.reminder_at is not None
    first = await calendar.project_feed(p.harness.client, p.harness.ledger, p.pid)
    feed = events(first)
    gate = feed[f"{p.pid}-gate-idea-1@phasegate"]
    assert start(gate) == st.gate.deadline.astimezone(UTC).replace(microsecond=0)
    assert "Awaiting: anna, bo" in str(gate["description"])
    assert int(gate["sequence"]) == 0
    [alarm] = gate.walk("VALARM")
    assert alarm.decoded("trigger").astimezone(UTC).replace(
        microsecond=0
    ) == st.gate.reminder_at.astimezone(UTC).replace(microsecond=0)
    # The review task (anna's) is in the project's feed; the decide tasks are the gate's event.
    review = next(t for t in p.tasks() if t.key == "idea_gate/1/task1/anna")
    assert f"{p.pid}-task-{review.id}@phasegate" in feed
    assert not any("Decide gate" in str(e["summary"]) for e in feed.values())

    # The same project exports the same bytes: same UIDs, same stamps.
    assert await calendar.project_feed(p.harness.client, p.harness.ledger, p.pid) == first

    # anna's own feed: her decide task and her review task, due when they are due.
    mine = await person_feed(p, "anna")
    decide = next(t for t in p.tasks(assignee="anna") if "/decide/" in t.key)
    assert set(mine) == {
        f"{p.pid}-task-{decide.id}@phasegate",
        f"{p.pid}-task-{review.id}@phasegate",
    }
    assert start(mine[f"{p.pid}-task-{decide.id}@phasegate"]) == st.gate.deadline.astimezone(
        UTC
    ).replace(microsecond=0)
    assert await person_feed(p, "gustav") == {}  # asked to do nothing here

    # A vote changes the gate's event: same UID, a higher SEQUENCE, a later LAST-MODIFIED.
    await p.sleep(hours=2)
    await p.decide("anna", "approve")
    again = await project_feed(p)
    changed = again[f"{p.pid}-gate-idea-1@phasegate"]
    assert int(changed["sequence"]) == 1
    assert changed.decoded("last-modified") > gate.decoded("last-modified")
    assert "Awaiting: bo" in str(changed["description"])
    assert f"{p.pid}-task-{decide.id}@phasegate" not in await person_feed(p, "anna")
