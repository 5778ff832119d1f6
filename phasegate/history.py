"""A project's history: its audit events as a timeline people can read (when, who, what, the
comment), for the CLI's ``project history`` and the web faces alike.

Pure: events in, entries and lines out. No Temporal here (nor anything that imports it), and
no escaping: each face escapes for its own medium (the CLI for the terminal, the web for HTML).
A payload is read defensively (``audit export`` shows what the chain holds; a history must not
fail on an odd or older payload): a missing value is left out of the phrase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from governance.audit import AuditEvent, EventKind

if TYPE_CHECKING:
    from ledger import Ledger

__all__ = ["SYSTEM", "Entry", "NoProject", "entries", "line", "lines", "phrase", "read"]

SYSTEM = "phasegate"
"""Who an event without an actor is shown as: the workflow itself (a timer, a rule)."""


def _minutes(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class NoProject(LookupError):
    """The ledger holds no event of the project."""


@dataclass(frozen=True)
class Entry:
    """One event of the timeline: the event's own fields, and ``text``, what happened as a
    phrase (without the comment, which is beside it)."""

    at: datetime
    seq: int
    kind: str
    actor: str | None
    role: str | None
    from_state: str | None
    to_state: str | None
    comment: str | None
    text: str
    payload: Mapping[str, Any]

    @property
    def who(self) -> str:
        """The actor and, when recorded, their role: ``anna (executive)``; ``phasegate`` for
        what the workflow did by itself."""
        if self.actor is None:
            return SYSTEM
        return f"{self.actor} ({self.role})" if self.role else self.actor

    @property
    def when(self) -> str:
        """The time in UTC to the minute, e.g. ``2027-01-12T09:00Z``."""
        return _minutes(self.at)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "seq": self.seq,
            "kind": self.kind,
            "actor": self.actor,
            "role": self.role,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "comment": self.comment,
            "text": self.text,
            "payload": dict(self.payload),
        }


def read(ledger: Ledger, project_id: str) -> list[Entry]:
    """The project's timeline from the ledger (its own chain), oldest first; ``NoProject``
    when the ledger holds no event of it."""
    events = ledger.events(project_id)
    if not events:
        raise NoProject(f"no project {project_id} in the ledger")
    return entries(events)


def entries(events: Iterable[AuditEvent]) -> list[Entry]:
    """The events as timeline entries, in chain order (oldest first, newest last)."""
    return [
        Entry(
            at=e.at,
            seq=e.seq,
            kind=str(e.kind),
            actor=e.actor,
            role=e.role,
            from_state=e.from_state,
            to_state=e.to_state,
            comment=e.comment,
            text=phrase(e),
            payload=e.payload,
        )
        for e in sorted(events, key=lambda e: e.seq)
    ]


def line(entry: Entry, who_width: int = 0) -> str:
    """``WHEN  WHO  WHAT: COMMENT``, the actor column padded to ``who_width``."""
    comment = f": {entry.comment}" if entry.comment else ""
    return f"{entry.when}  {entry.who.ljust(who_width)}  {entry.text}{comment}"


def lines(events: Iterable[AuditEvent]) -> list[str]:
    """The timeline as lines for a terminal (unescaped: escape them where they are shown)."""
    timeline = entries(events)
    width = max((len(e.who) for e in timeline), default=0)
    return [line(e, width) for e in timeline]


def phrase(event: AuditEvent) -> str:
    """What the event says happened, in a few words; an event kind without a phrase of its
    own is shown by its name."""
    describe = _PHRASES.get(str(event.kind))
    return describe(_Facts(event)) if describe is not None else str(event.kind)


# -- the phrases -----------------------------------------------------------------------------


class _Facts:
    """An event's fields and payload values, each as text or None when absent."""

    def __init__(self, event: AuditEvent) -> None:
        self.e = event
        self.p: Mapping[str, Any] = event.payload if isinstance(event.payload, Mapping) else {}

    def get(self, key: str) -> str | None:
        value = self.p.get(key)
        if value is None or value == "" or value == []:
            return None
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def time(self, key: str) -> str | None:
        """A timestamp of the payload as the timeline shows times (a date stays a date)."""
        text = self.get(key)
        if text is None or "T" not in text:
            return text
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            return text
        return _minutes(at) if at.tzinfo is not None else text

    def count(self, key: str) -> int | None:
        value = self.p.get(key)
        return len(value) if isinstance(value, list) else None

    @property
    def round(self) -> str:
        rnd = self.get("round")
        return f" round {rnd}" if rnd else ""

    @property
    def package(self) -> str:
        """``work package WP: `` before what happened to a work package, else nothing."""
        wp = self.get("work_package")
        return f"work package {wp}: " if wp else ""

    @property
    def decision(self) -> str:
        """What a vote, reminder or escalation is about: ``change C-1``, ``gate X``, or for an
        iteration's demo ``the demo``."""
        kind, ident = self.get("decision_kind"), self.get("decision_id")
        if kind and ident:
            return f"{kind} {ident}"
        if self.get("what") == "demo":
            return "the demo"
        return f"gate {self.e.from_state or '?'}"


def _also(*parts: str | None) -> str:
    """Non-empty parts, in brackets: `` (a, b)``; nothing when there are none."""
    shown = [p for p in parts if p]
    return f" ({', '.join(shown)})" if shown else ""


def _labelled(label: str, value: str | None) -> str | None:
    return f"{label} {value}" if value else None


def _project_started(f: _Facts) -> str:
    title = f.get("title")
    verb = "started the project" if f.e.actor else "project started"
    return verb + (f' "{title}"' if title else "")


def _phase_started(f: _Facts) -> str:
    phase = f.get("phase") or f.e.to_state or "?"
    opens = f.time("opens_at")
    text = f"phase {phase} opens {opens}" if opens else f"phase {phase} started"
    reason = f.get("reason")
    return f"{text}: {reason}" if reason else text


def _gate_opened(f: _Facts) -> str:
    return f"requested gate {f.e.to_state or '?'}" + _also(_labelled("round", f.get("round")))


def _vote_cast(f: _Facts) -> str:
    # An adviser's vote (a rule's consult roles) is recorded with counted: false.
    verb = "advised" if f.p.get("counted") is False else "voted"
    level = _labelled("at level", f.get("level"))
    behalf = f.get("on_behalf_of")
    who = f"for {behalf} " if behalf else ""
    return f"{verb} {who}{f.get('decision') or '?'} on {f.decision}{f.round}" + _also(level)


def _gate_passed(f: _Facts) -> str:
    return f"gate {f.e.from_state or '?'}{f.round} passed: {f.e.to_state or '?'} started"


def _gate_rework(f: _Facts) -> str:
    return f"gate {f.e.from_state or '?'}{f.round}: rework, back to {f.e.to_state or '?'}"


def _gate_rejected(f: _Facts) -> str:
    return f"gate {f.e.from_state or '?'}{f.round} rejected: project {f.e.to_state or 'closed'}"


def _closed(f: _Facts) -> str:
    outcome = f.get("outcome")
    return "project closed" + (" (rejected)" if outcome == "rejected" else "")


def _reminder_sent(f: _Facts) -> str:
    return f"reminder about {f.decision}" + _also(
        _labelled("awaiting", f.get("awaited")),
        _labelled("advice awaited from", f.get("advice_awaited")),
        _labelled("due", f.time("deadline")),
    )


def _escalated(f: _Facts) -> str:
    to = f.get("to_level")
    if to is None:
        note = f.get("note")
        return f"{f.decision} not escalated further" + (f": {note}" if note else "")
    return f"escalated {f.decision} to level {to}" + _also(
        _labelled("decides:", f.e.role), _labelled("due", f.time("deadline"))
    )


def _held(f: _Facts) -> str:
    return "held the project"


def _resumed(f: _Facts) -> str:
    seconds = f.p.get("paused_seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        days = seconds / 86400
        if days >= 1:
            held = f"held {days:.1f} days"
        elif seconds >= 3600:
            held = f"held {seconds / 3600:.1f} hours"
        else:
            held = f"held {seconds / 60:.0f} minutes"
        return f"resumed the project ({held})"
    return "resumed the project"


def _cancelled(f: _Facts) -> str:
    return "cancelled the project"


def _deliverable_submitted(f: _Facts) -> str:
    name = f.get("name") or "?"
    version = f.get("version")
    return (
        f"submitted deliverable {name}"
        + (f" v{version}" if version else "")
        + _also(_labelled("phase", f.get("phase")), f.get("url"))
    )


def _task_created(f: _Facts) -> str:
    return "task created" + _also(f.get("title"))


def _task_completed(f: _Facts) -> str:
    title, assignee = f.get("title"), f.get("assignee")
    done = f"completed task: {title}" if title else "completed a task"
    return done + (f" (assigned to {assignee})" if assignee and assignee != f.e.actor else "")


def _iteration(f: _Facts) -> str:
    number = f.get("number") or f.get("iteration")
    return f"iteration {number}" if number else "iteration"


def _items(f: _Facts, key: str = "items") -> str | None:
    n = f.count(key)
    return None if n is None else f"{n} item" + ("" if n == 1 else "s")


def _iteration_started(f: _Facts) -> str:
    return f"{_iteration(f)} started"


def _iteration_closed(f: _Facts) -> str:
    reason = f.get("reason")
    return f"{_iteration(f)} closed" + (f": {reason}" if reason else "")


def _iteration_finished(f: _Facts) -> str:
    done, committed = f.get("completed_items"), f.get("committed_items")
    items = f"{done}/{committed} items done" if done and committed else None
    return f"{_iteration(f)} finished: {f.get('outcome') or '?'}" + _also(items, f.get("reason"))


def _iteration_opened(f: _Facts) -> str:
    return f"{_iteration(f)} opened for planning"


def _iteration_planned(f: _Facts) -> str:
    goal = f.get("goal")
    return f"planned {_iteration(f)}" + (f": {goal}" if goal else "") + _also(_items(f))


def _items_added(f: _Facts) -> str:
    return f"added {_items(f) or 'items'} to {_iteration(f)}"


def _items_done(f: _Facts) -> str:
    return f"reported done: {f.get('items') or '?'}"


def _standup(f: _Facts) -> str:
    n = f.get("n")
    return "stand-up" + (f" {n}" if n else "") + f" of {_iteration(f)}"


def _execution_ended(f: _Facts) -> str:
    reason = f.get("reason")
    return f"execution of {_iteration(f)} ended" + (f": {reason}" if reason else "")


def _demo_recorded(f: _Facts) -> str:
    return f"recorded the demo of {_iteration(f)}" + _also(
        _labelled("attendees:", f.get("attendees"))
    )


def _delivery_decided(f: _Facts) -> str:
    return f"decided delivery of {_iteration(f)}: {f.get('decision') or '?'}"


def _retro_recorded(f: _Facts) -> str:
    return f"recorded the retrospective of {_iteration(f)}"


def _iteration_ended(f: _Facts) -> str:
    return f"{_iteration(f)} ended: {f.get('outcome') or f.e.to_state or '?'}"


def _progress_reported(f: _Facts) -> str:
    number = f.get("number")
    return (
        f"{f.package}progress report"
        + (f" #{number}" if number else "")
        + _also(
            _labelled("as of", f.get("as_of")),
            _labelled("actual cost", f.get("actual_cost")),
            _labelled("earned scope", f.get("earned_scope")),
        )
    )


def _rag_changed(f: _Facts) -> str:
    return f"{f.package}RAG {f.get('from') or 'none'} -> {f.get('to') or '?'}"


def _change_requested(f: _Facts) -> str:
    title = f.get("title")
    return (
        f"requested change {f.get('id') or '?'}"
        + (f": {title}" if title else "")
        + _also(f.get("classification"))
    )


def _change_decided(f: _Facts) -> str:
    outcome = f.get("outcome") or "decided"
    how = "minor, decided by the project manager" if f.p.get("operational") is True else None
    reason = f.get("reason")
    return f"change {f.get('id') or '?'} {outcome}" + _also(how) + (f": {reason}" if reason else "")


def _exception_raised(f: _Facts) -> str:
    ident = f.get("id") or "?"
    if f.get("added_change"):
        return f"{f.package}change {f.get('added_change')} referred to exception {ident}"
    if f.get("added_aspects") or f.get("added_levels"):
        added = f.get("added_aspects") or f.get("added_levels")
        return f"{f.package}exception {ident} widened to {added}"
    return f"{f.package}exception {ident} raised" + _also(
        f.get("cause"), f.get("aspects"), _labelled("to level", f.get("to_level"))
    )


def _exception_resolved(f: _Facts) -> str:
    ident = f.get("id") or "?"
    outcome = f.get("outcome")
    if outcome is None:
        reason = f.get("reason")
        return f"{f.package}exception {ident} ended undecided" + (f": {reason}" if reason else "")
    return f"{f.package}exception {ident} decided: {outcome}" + _also(
        _labelled("at level", f.get("level"))
    )


def _exception_decided(f: _Facts) -> str:
    return f"exception {f.get('id') or '?'} decided" + _also(f.get("outcome"))


def _baseline_changed(f: _Facts) -> str:
    version = f.get("version")
    return (
        f"{f.package}baseline changed"
        + (f" to version {version}" if version else "")
        + _also(_labelled("exception", f.get("exception")), _labelled("change", f.get("change")))
    )


def _tolerance_widened(f: _Facts) -> str:
    levels = f.get("levels")
    return (
        f"{f.package}tolerances widened"
        + (f" at {levels}" if levels else "")
        + _also(_labelled("exception", f.get("exception")))
    )


def _report_issued(f: _Facts) -> str:
    number = f.get("number")
    kind = f.get("kind")
    return (f"{kind} report" if kind else "report") + (f" #{number}" if number else "") + " issued"


def _delegation_granted(f: _Facts) -> str:
    return (
        f"delegated to {f.get('substitute') or '?'} from {f.time('starts_at') or '?'} until "
        f"{f.time('ends_at') or '?'}"
        + _also(_labelled("delegation", f.get("delegation")), f.get("roles"))
    )


def _delegation_revoked(f: _Facts) -> str:
    return f"delegation {f.get('delegation') or '?'} revoked" + _also(
        _labelled("of", f.get("delegator")), _labelled("to", f.get("substitute"))
    )


def _delegation_ended(f: _Facts) -> str:
    return f"delegation {f.get('delegation') or '?'} ended" + _also(
        _labelled("of", f.get("delegator")), _labelled("to", f.get("substitute"))
    )


def _history_reset(f: _Facts) -> str:
    first, last = f.get("superseded_from"), f.get("superseded_to")
    superseded = f": events {first} to {last} superseded" if first and last else ""
    return f"workflow reset in Temporal{superseded}"


_PHRASES: dict[str, Callable[[_Facts], str]] = {
    EventKind.project_started: _project_started,
    EventKind.gate_opened: _gate_opened,
    EventKind.vote_cast: _vote_cast,
    EventKind.gate_passed: _gate_passed,
    EventKind.gate_rejected: _gate_rejected,
    EventKind.gate_rework: _gate_rework,
    EventKind.reminder_sent: _reminder_sent,
    EventKind.escalated: _escalated,
    EventKind.phase_started: _phase_started,
    EventKind.held: _held,
    EventKind.resumed: _resumed,
    EventKind.cancelled: _cancelled,
    EventKind.closed: _closed,
    EventKind.exception_raised: _exception_raised,
    EventKind.exception_resolved: _exception_resolved,
    EventKind.task_created: _task_created,
    EventKind.task_completed: _task_completed,
    EventKind.deliverable_submitted: _deliverable_submitted,
    EventKind.iteration_started: _iteration_started,
    EventKind.iteration_closed: _iteration_closed,
    EventKind.iteration_finished: _iteration_finished,
    EventKind.iteration_opened: _iteration_opened,
    EventKind.iteration_planned: _iteration_planned,
    EventKind.items_added: _items_added,
    EventKind.items_done: _items_done,
    EventKind.standup: _standup,
    EventKind.execution_ended: _execution_ended,
    EventKind.demo_recorded: _demo_recorded,
    EventKind.delivery_decided: _delivery_decided,
    EventKind.retro_recorded: _retro_recorded,
    EventKind.iteration_ended: _iteration_ended,
    EventKind.progress_reported: _progress_reported,
    EventKind.rag_changed: _rag_changed,
    EventKind.change_requested: _change_requested,
    EventKind.change_decided: _change_decided,
    EventKind.baseline_changed: _baseline_changed,
    EventKind.tolerance_widened: _tolerance_widened,
    EventKind.exception_decided: _exception_decided,
    EventKind.report_issued: _report_issued,
    EventKind.history_reset: _history_reset,
    EventKind.delegation_granted: _delegation_granted,
    EventKind.delegation_revoked: _delegation_revoked,
    EventKind.delegation_ended: _delegation_ended,
}
