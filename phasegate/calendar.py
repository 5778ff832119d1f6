"""iCalendar feeds (RFC 5545, the ``icalendar`` library): what a person is asked to do and
when, and a project's dates, for a calendar client to subscribe to or import.

Everything comes from what the faces read anyway: a project's status (its open decisions and
their deadlines, reminders and escalations, the phase that opens later such as the benefits
review), the open iteration's status (stand-ups still to come, demo, retro) and the task inbox
in the ledger (tasks with a due time). Nothing is stored for the feed.

- **A person's feed**: their open tasks with a due time (review, decide and advise tasks, a
  substitute's copies, iteration tasks), and the ceremonies of the open iterations whose team
  they are in; over every running project they are named in, or one.
- **A project's feed**: its open decisions (deadline, reminder as an alarm, where it
  escalates), the phase that opens later (the benefits review), the open iteration's
  ceremonies, and its open tasks other than decide and advise ones (the decisions stand for
  those).

Each event's UID is made of what it is (``<project>-gate-<phase>-<round>@phasegate``,
``<project>-task-<id>@phasegate``, ``<project>-it<n>-standup-<k>@phasegate``...), so a client
that loads the feed again updates the events it has instead of adding copies. ``SEQUENCE``
counts the changes the project made to an event (a decision's votes and escalations),
``LAST-MODIFIED`` and ``DTSTAMP`` are the time of the last of them (RFC 5545 3.8.7.2: in a
feed without a METHOD, DTSTAMP is when the information was last revised): the same project
exports the same bytes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from governance.messages import GateStatus, IterationStatus, ProjectStatus

if TYPE_CHECKING:
    from temporalio.client import Client

    from governance.audit import Task
    from ledger import Ledger

__all__ = [
    "Entry",
    "person_entries",
    "person_feed",
    "project_entries",
    "project_feed",
    "render",
]

PRODID = "-//phasegate//calendar feed//EN"
DOMAIN = "phasegate"
POINT = timedelta(minutes=15)
"""How long a deadline or a due task lasts in a calendar: long enough to be seen."""
_DECISION_TASK = re.compile(r"/(?:decide|advise)/")


@dataclass(frozen=True)
class Entry:
    """One event of a feed."""

    uid: str
    summary: str
    start: datetime
    duration: timedelta
    modified: datetime
    sequence: int = 0
    description: str = ""
    categories: tuple[str, ...] = ()
    alarm: datetime | None = None
    tentative: bool = False
    people: tuple[str, ...] = field(default=(), compare=False)
    """Who it is for (a ceremony's team): a person's feed keeps the ceremonies they are in."""


def _uid(project_id: str, *parts: object) -> str:
    return "-".join([project_id, *(str(p) for p in parts)]) + f"@{DOMAIN}"


# -- what a project holds ---------------------------------------------------------------------


def decision_entry(st: ProjectStatus, d: GateStatus) -> Entry | None:
    """An open decision's deadline (when overdue at the top of the chain: since when)."""
    when = d.deadline or d.overdue_since
    if when is None:
        return None
    if d.kind == "gate":
        uid = _uid(st.project_id, "gate", d.phase, d.round)
        summary = f"Gate decision due: {d.title} (round {d.round})"
    else:
        uid = _uid(st.project_id, d.kind, d.id)
        summary = f"Decision due: {d.title}"
    changes = [d.opened_at, *(e.at for e in d.escalations), *(v.at for v in d.votes)]
    lines = [
        f"Project {st.project_id}: {st.title}",
        f"Rule {d.rule}: {d.approvals} of {d.approvals_needed} approvals",
        f"Awaiting: {', '.join(d.awaited) or 'nobody'}",
    ]
    if d.level is not None:
        lines.append(f"Escalated to level {d.level}")
    if d.overdue_since is not None:
        lines.append(f"Overdue since {d.overdue_since.isoformat()}; nobody above to escalate to")
    elif d.escalations or d.level is None:
        lines.append("Escalates when the deadline passes undecided")
    return Entry(
        uid=uid,
        summary=f"{summary} [{st.project_id}]",
        start=when,
        duration=POINT,
        modified=max(changes),
        sequence=len(d.escalations) + len(d.votes),
        description="\n".join(lines),
        categories=("decision", d.kind),
        alarm=d.reminder_at if d.reminder_at is not None and not d.reminded else None,
    )


def phase_entry(st: ProjectStatus) -> Entry | None:
    """The phase that opens later (Projektflödet's benefits review, six months after
    closure)."""
    if st.phase_opens_at is None or st.phase is None:
        return None
    return Entry(
        uid=_uid(st.project_id, "phase", st.phase, "opens"),
        summary=f"{st.phase_title or st.phase} opens [{st.project_id}]",
        start=st.phase_opens_at,
        duration=timedelta(hours=1),
        modified=st.phase_started_at,
        description=f"Project {st.project_id}: {st.title}\nThe phase's work and gate begin.",
        categories=("phase",),
    )


def _timebox(it: IterationStatus, name: str, default: timedelta) -> timedelta:
    ceremony = next((c for c in it.ceremonies if c.name == name), None)
    return ceremony.timebox if ceremony is not None else default


def iteration_entries(st: ProjectStatus, it: IterationStatus) -> list[Entry]:
    """The open iteration's ceremonies still ahead: planning (while it is being planned), the
    stand-ups, the demo when execution ends, and the retro after it (tentative until the
    iteration reaches it)."""
    pid, n, team = st.project_id, it.number, tuple(it.team)
    title = f"iteration {n}" + (f": {it.goal}" if it.goal else "")
    about = f"Project {pid}: {st.title}, {title}"
    entries: list[Entry] = []
    if it.state == "planning":
        entries.append(
            Entry(
                uid=_uid(pid, f"it{n}", "plan"),
                summary=f"Plan iteration {n} [{pid}]",
                start=it.opened_at,
                duration=_timebox(it, "plan", timedelta(hours=1)),
                modified=it.opened_at,
                description=about,
                categories=("ceremony", "plan"),
                people=team,
            )
        )
    planned = it.planned_at or it.opened_at
    standup = _timebox(it, "standup", POINT)
    for k, at in enumerate(it.standups_ahead, it.standups_sent + 1):
        entries.append(
            Entry(
                uid=_uid(pid, f"it{n}", "standup", k),
                summary=f"Stand-up {k}, iteration {n} [{pid}]",
                start=at,
                duration=standup,
                modified=planned,
                description=about,
                categories=("ceremony", "standup"),
                people=team,
            )
        )
    ends = it.execute_ends_at
    if ends is not None and it.state in ("executing", "demo"):
        deadline = f"\nRecord it by {it.demo_deadline.isoformat()}" if it.demo_deadline else ""
        entries.append(
            Entry(
                uid=_uid(pid, f"it{n}", "demo"),
                summary=f"Demo, iteration {n} [{pid}]",
                start=ends,
                duration=_timebox(it, "demo", timedelta(hours=1)),
                modified=planned,
                description=about + deadline,
                categories=("ceremony", "demo"),
                people=team,
            )
        )
    if ends is not None and it.state in ("executing", "demo", "delivery", "retro"):
        entries.append(
            Entry(
                uid=_uid(pid, f"it{n}", "retro"),
                summary=f"Retrospective, iteration {n} [{pid}]",
                start=ends + _timebox(it, "demo", timedelta(hours=1)),
                duration=_timebox(it, "retro", timedelta(hours=1)),
                modified=planned,
                description=about + "\nAfter the demo and the delivery decision.",
                categories=("ceremony", "retro"),
                tentative=it.state != "retro",
                people=team,
            )
        )
    return entries


def task_entry(task: Task, title: str | None = None) -> Entry | None:
    """An open task with a due time: an event at it."""
    if task.due is None or task.status != "open":
        return None
    where = f"Project {task.project_id}" + (f": {title}" if title else "")
    return Entry(
        uid=_uid(task.project_id, "task", task.id),
        summary=f"{task.title} [{task.project_id}]",
        start=task.due,
        duration=POINT,
        modified=task.created_at,
        description=f"{where}\nTask {task.key} ({task.role}), assigned to "
        f"{task.assignee or task.role}\n`phasegate tasks` lists it as {task.id}",
        categories=("task",),
    )


def project_entries(
    st: ProjectStatus, tasks: Iterable[Task], it: IterationStatus | None
) -> list[Entry]:
    """A project's feed: its decisions, the phase that opens later, the open iteration's
    ceremonies, and its open tasks other than decide and advise tasks."""
    entries = [e for d in st.decisions if (e := decision_entry(st, d)) is not None]
    if (opens := phase_entry(st)) is not None:
        entries.append(opens)
    if it is not None:
        entries += iteration_entries(st, it)
    entries += [
        e
        for t in tasks
        if not _DECISION_TASK.search(t.key) and (e := task_entry(t, st.title)) is not None
    ]
    return entries


def person_entries(
    person: str, st: ProjectStatus, tasks: Iterable[Task], it: IterationStatus | None
) -> list[Entry]:
    """What ``person`` is asked to do on one project: their open tasks with a due time (a
    decision's deadline is their decide task's), the ceremonies of the iteration whose team
    they are in."""
    entries = [
        e for t in tasks if t.assignee == person and (e := task_entry(t, st.title)) is not None
    ]
    if it is not None:
        entries += [e for e in iteration_entries(st, it) if person in e.people]
    return entries


# -- rendering --------------------------------------------------------------------------------


def render(entries: Sequence[Entry], name: str) -> bytes:
    """The feed as iCalendar bytes: events in order of start, then UID."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for e in sorted(entries, key=lambda e: (e.start, e.uid)):
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", _utc(e.modified))
        event.add("last-modified", _utc(e.modified))
        event.add("sequence", e.sequence)
        event.add("summary", e.summary)
        event.add("dtstart", _utc(e.start))
        event.add("dtend", _utc(e.start + e.duration))
        if e.description:
            event.add("description", e.description)
        if e.categories:
            event.add("categories", list(e.categories))
        event.add("status", "TENTATIVE" if e.tentative else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if "task" in e.categories else "OPAQUE")
        if e.alarm is not None and e.alarm < e.start:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Reminder: {e.summary}")
            alarm.add("trigger", _utc(e.alarm))
            event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _utc(at: datetime) -> datetime:
    """In UTC, to the second (iCalendar's precision)."""
    return at.astimezone(UTC).replace(microsecond=0)


# -- feeds --------------------------------------------------------------------------------------


async def _project_parts(
    client: Client, ledger: Ledger, project_id: str
) -> tuple[ProjectStatus, list[Task], IterationStatus | None]:
    from phasegate import iterations, service

    st = await service.status(client, project_id)
    it: IterationStatus | None = None
    if st.execution is not None and st.execution.open_iteration is not None:
        _, it = await iterations.iteration_status(client, project_id)
    tasks = await asyncio.to_thread(ledger.tasks, project_id=project_id, status="open")
    return st, tasks, it


async def project_feed(client: Client, ledger: Ledger, project_id: str) -> bytes:
    """Project ``project_id``'s feed (ProjectError when there is no such project)."""
    st, tasks, it = await _project_parts(client, ledger, project_id)
    return render(project_entries(st, tasks, it), f"{st.title} ({project_id})")


async def person_feed(
    client: Client,
    ledger: Ledger,
    person: str,
    project_id: str | None = None,
    *,
    named: bool = False,
) -> bytes:
    """``person``'s feed over project ``project_id``, or over every running project that
    names them: with ``named``, a ProjectError (``NotNamed``) when none does (a mistyped
    name), rather than an empty feed (what a subscribed calendar wants)."""
    from phasegate import service

    projects = [project_id] if project_id is not None else await _naming(client, person)
    if named and not projects:
        raise service.ProjectError(
            f"no running project names {person!r} (a person is named by their id in a "
            "project's charter): no feed written",
            "NotNamed",
        )
    entries: list[Entry] = []
    for pid in projects:
        try:
            st, tasks, it = await _project_parts(client, ledger, pid)
        except service.ProjectError as exc:
            if project_id is not None or exc.kind != "UnknownProject":
                raise
            continue  # ended and gone since it was listed
        entries += person_entries(person, st, tasks, it)
    return render(entries, f"phasegate: {person}")


async def _naming(client: Client, person: str) -> list[str]:
    """The running projects whose charter names ``person``: from the portfolio row each
    keeps in its memo (as `project list` filters by person), a project asked only when its
    row does not name its people yet (begun before rows did)."""
    from phasegate import service

    return [r.project_id for r in await service.list_projects(client, state="open", person=person)]
