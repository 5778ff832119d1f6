"""The human forms of `project status`'s gate and `project list`'s columns, from the data the
workflow returns: each vote with when and why (advice marked as not counted), the clock and
its reminder, the escalation and who decides now; columns that give way on a narrow
terminal, the widest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from governance.messages import Escalation, GateStatus, Vote
from phasegate.cli._project import gate_lines, shrink_to

OPENED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def gate(**changes: object) -> GateStatus:
    base = GateStatus(
        gate="idea_gate",
        phase="idea",
        title="Beslutspunkt 1",
        round=2,
        opened_at=OPENED,
        requested_by="david",
        rule="all",
        approvals_needed=2,
        approvals=1,
        required=["bestallare"],
        required_missing=["bestallare"],
        eligible=["anna", "bo"],
        votes=[
            Vote(actor="bo", roles=["mottagare"], decision="approve", at=OPENED, comment="Bra"),
            Vote(
                actor="carl",
                roles=["leverantor"],
                decision="reject",
                at=OPENED + timedelta(hours=2),
                counted=False,
            ),
        ],
        awaited=["anna"],
        deliverables=[],
        deadline=OPENED + timedelta(days=10),
        reminder_at=OPENED + timedelta(days=7),
        level=None,
        escalations=[],
        advisers=["carl", "erik"],
        advice_awaited=["erik"],
    )
    return base.model_copy(update=changes)


def test_votes_the_clock_and_the_reminder() -> None:
    lines = gate_lines(gate(), OPENED + timedelta(days=3))
    assert lines == [
        "  gate:   idea_gate: Beslutspunkt 1",
        "          round 2, rule all, 1/2 approvals; opened 2026-03-02T09:30+00:00 by david",
        "          bo: approve at 2026-03-02T09:30+00:00 (Bra)",
        "          carl (adviser, not counted): reject at 2026-03-02T11:30+00:00",
        "          required still missing: bestallare",
        "          awaiting: anna",
        "          advice awaited: erik",
        "          deadline: 2026-03-12T09:30+00:00 (in 7 days); reminder "
        "2026-03-09T09:30+00:00 (not sent yet)",
    ]
    late = gate_lines(gate(reminded=True), OPENED + timedelta(days=12))
    assert late[-1].endswith("(overdue 2 days); reminder 2026-03-09T09:30+00:00 (sent)")
    held = gate_lines(gate(), OPENED + timedelta(days=12), held=True)
    assert "(stopped while held)" in held[-1]


def test_an_escalated_gate_says_who_decides_now() -> None:
    at = OPENED + timedelta(days=10)
    lines = gate_lines(
        gate(
            level="portfolio",
            eligible=["gustav"],
            awaited=["gustav"],
            escalations=[Escalation(level="portfolio", at=at, deadline=at + timedelta(days=10))],
            deadline=at + timedelta(days=10),
        ),
        at,
    )
    assert lines[-3:] == [
        "          deadline: 2026-03-22T09:30+00:00 (in 10 days)",
        "          escalated to portfolio at 2026-03-12T09:30+00:00",
        "          decides now: gustav",
    ]


def test_a_title_cannot_write_to_the_terminal() -> None:
    lines = gate_lines(gate(title="Gate\x1b[2J\nnext"), OPENED)
    assert lines[0] == "  gate:   idea_gate: Gate\\x1b[2J\\nnext"


def test_columns_give_way_widest_first_and_never_below_their_least() -> None:
    assert shrink_to([10, 30, 20], (4, 5, 5), 60) == [10, 30, 20]  # it fits
    assert shrink_to([10, 30, 20], (4, 5, 5), 50) == [10, 20, 20]
    assert shrink_to([10, 30, 20], (4, 5, 5), 40) == [10, 15, 15]
    assert shrink_to([10, 30, 20], (4, 5, 5), 5) == [4, 5, 5]  # cut beyond that
    assert shrink_to([3, 30], (8, 5), 10) == [3, 7]  # a short column keeps what it needs
