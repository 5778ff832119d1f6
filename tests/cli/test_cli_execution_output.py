"""What `iteration status`, `deliverable list` and `project status` print for people, from the
messages the workflows answer (built here; the end-to-end tests drive the real ones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance import Forecast
from governance.messages import (
    BurnUp,
    Deliverable,
    DeliverableStatus,
    DemoRecord,
    ExecutionStatus,
    Feedback,
    ItemState,
    IterationStatus,
    Obstacle,
    RetroRecord,
    Velocity,
    WorkItem,
)
from phasegate.cli._deliverable import describe, size_text
from phasegate.cli._iteration import forecast_line, print_execution, print_iteration

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def item(id: str, owner: str, estimate: float, **state: object) -> ItemState:
    return ItemState(id=id, title=f"Work {id}", owner=owner, estimate=estimate, **state)  # type: ignore[arg-type]


def iteration(**changes: object) -> IterationStatus:
    data: dict[str, object] = {
        "project_id": "new-crm",
        "number": 1,
        "phase": "execution",
        "state": "executing",
        "goal": "Kundregistret i CRM:et",
        "opened_at": T0,
        "planned_by": "erik",
        "planned_at": T0,
        "length": timedelta(weeks=3),
        "execute_ends_at": T0 + timedelta(weeks=3),
        "days_left": 12.5,
        "items": [
            item("CRM-1", "erik", 2, done_at=T0 + timedelta(days=2), done_by="erik"),
            item("CRM-2", "cecilia", 1.5),
            item("CRM-4", "erik", 0.5, added=True),
        ],
        "committed_items": 2,
        "completed_items": 1,
        "committed_effort": 3.5,
        "completed_effort": 2.0,
        "added_items": 1,
        "added_effort": 0.5,
        "standups_sent": 6,
        "next_standup": T0 + timedelta(days=9),
        "demo_deadline": None,
        "demo_level": None,
        "demo": None,
        "delivery": None,
        "delivery_by": None,
        "retro": None,
        "ended_at": None,
        "end_reason": None,
        "last_seq": 7,
        "recorded_seq": 7,
    }
    data.update(changes)
    return IterationStatus.model_validate(data)


def execution(forecast: Forecast | None) -> ExecutionStatus:
    return ExecutionStatus(
        phase="execution",
        open_iteration=2,
        iterations=2,
        history=[
            Velocity(
                number=1,
                outcome="done",
                opened_at=T0,
                ended_at=T0 + timedelta(days=14),
                committed_items=3,
                completed_items=2,
                committed_effort=4.5,
                completed_effort=3.5,
                added_items=1,
                added_effort=0.5,
                delivered=True,
            )
        ],
        backlog=[WorkItem(id="CRM-3", title="SSO", owner="david", estimate=1)],
        burn_up=BurnUp(unit="points", baseline=240, added=0.5, total=240.5, completed=3.5),
        forecast=forecast,
    )


FORECAST = Forecast(
    as_of=T0 + timedelta(days=14),
    unit="points",
    remaining=237,
    based_on=1,
    mean_velocity=3.5,
    mean_iterations_left=68,
    mean_date=datetime(2029, 11, 5, 9, 0, tzinfo=UTC),
    pessimistic_velocity=2.0,
    pessimistic_iterations_left=119,
    pessimistic_date=None,
    method="the 10th percentile of 10,000 resamples of the velocities so far (too few "
    "iterations yet for the slowest third)",
)


def test_an_executing_iteration_shows_its_items_days_left_and_stand_ups(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_iteration(iteration())
    out = capsys.readouterr().out
    assert out.startswith("new-crm: iteration 1 of phase execution, step executing\n")
    assert "  goal:      Kundregistret i CRM:et\n" in out
    assert "  planned:   by erik at 2027-03-01T09:00+00:00, length P3W\n" in out
    assert "  execution: ends 2027-03-22T09:00+00:00 (12.5 days left)\n" in out
    assert (
        "  items:     1 of 3 done (2 of 4 person-days); committed 2 (3.5 person-days), added 1 "
        "(0.5 person-days)\n"
    ) in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if "CRM-" in line}
    assert rows["CRM-1"][-3:] == ["done", "erik", "2027-03-03T09:00+00:00"]
    assert rows["CRM-2"][-3:] == ["open", "-", "-"]
    assert rows["CRM-4"][:2] == ["CRM-4", "(added)"]
    assert "  stand-ups: 6 sent; next 2027-03-10T09:00+00:00\n" in out


def test_a_finished_iteration_shows_demo_delivery_and_retro(
    capsys: pytest.CaptureFixture[str],
) -> None:
    at = T0 + timedelta(days=15)
    print_iteration(
        iteration(
            state="done",
            demo=DemoRecord(
                recorded_by="erik",
                at=at,
                attendees=["anna", "bo"],
                feedback=[Feedback(person="anna", text="Visa tratten: per säljare")],
            ),
            delivery="deliver",
            delivery_by="bo",
            retro=RetroRecord(
                recorded_by="erik",
                at=at,
                keep=["Parprogrammering"],
                change=["Mindre poster"],
                obstacles=[Obstacle(role="leverantor", text="Testmiljön saknas")],
            ),
            ended_at=at,
            end_reason="retro recorded",
            recorded_seq=5,
        )
    )
    captured = capsys.readouterr()
    out = captured.out
    assert "  demo:      recorded by erik at 2027-03-16T09:00+00:00; attendees: anna, bo\n" in out
    assert "             anna: Visa tratten: per säljare\n" in out
    assert "  delivery:  deliver (decided by bo)\n" in out
    assert "             keep: Parprogrammering\n" in out
    assert "             change: Mindre poster\n" in out
    assert "             obstacle for leverantor: Testmiljön saknas\n" in out
    assert "  ended:     2027-03-16T09:00+00:00 (retro recorded)\n" in out
    assert captured.err == "  ledger: 5 of 7 events recorded so far; the rest follows\n"


def test_a_demo_not_yet_recorded_shows_its_deadline_and_escalation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_iteration(
        iteration(state="demo", demo_deadline=T0 + timedelta(days=24), demo_level="board")
    )
    assert (
        "  demo:      due by 2027-03-25T09:00+00:00 (escalated to board)\n"
        in capsys.readouterr().out
    )


def test_velocity_burn_up_forecast_and_backlog(capsys: pytest.CaptureFixture[str]) -> None:
    """The forecast is one line, however long (not broken at the console's width)."""
    print_execution(execution(FORECAST))
    out = capsys.readouterr().out
    assert out.startswith("phase execution: 2 iteration(s) started; open: 2\n")
    [row] = [line.split() for line in out.splitlines() if line.lstrip().startswith("1 ")]
    assert row == ["1", "done", "3", "/", "4.5", "2", "/", "3.5", "1", "/", "0.5", "yes",
                   "2027-03-15T09:00+00:00"]  # fmt: skip
    assert "  burn-up:   3.5 of 240.5 points done (baseline 240 + added 0.5, 1%)\n" in out
    assert (
        "  forecast:  237 points to go: mean 2029-11-05T09:00+00:00 (3.5 points/iteration), "
        "pessimistic not in sight (2 points/iteration; the 10th percentile of 10,000 resamples "
        "of the velocities so far (too few iterations yet for the slowest third)); from 1 "
        "iteration(s)\n"
    ) in out
    assert "  backlog:   1 item(s), 1 person-days: CRM-3\n" in out


def test_no_forecast_before_an_iteration_has_finished(capsys: pytest.CaptureFixture[str]) -> None:
    assert forecast_line(execution(None)) is None
    print_execution(execution(None))
    assert "  forecast:  none yet (after the first finished iteration)\n" in capsys.readouterr().out


def test_a_deliverable_is_present_with_its_version_hash_and_size_or_missing() -> None:
    at = datetime(2027, 2, 20, 14, 3, tzinfo=UTC)
    current = Deliverable(
        phase="planning",
        name="Projektplan",
        version=2,
        sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        size=421_888,
        submitted_by="david",
        at=at,
        comment="Efter riskworkshop",
    )
    present = DeliverableStatus(name="Projektplan", present=True, current=current, versions=2)
    assert describe(present) == (
        "Projektplan: version 2 of 2, sha256 9f86d081884c, 412.0 KiB, by david at "
        "2027-02-20T14:03+00:00 (Efter riskworkshop)"
    )
    url = current.model_copy(
        update={
            "sha256": None,
            "size": None,
            "url": "https://wiki.example.se/bc",
            "version": 1,
            "name": "Business case",
            "comment": None,
        }
    )
    assert describe(
        DeliverableStatus(name="Business case", present=True, current=url, versions=1)
    ) == (
        "Business case: version 1, url https://wiki.example.se/bc, by david at "
        "2027-02-20T14:03+00:00"
    )
    assert describe(DeliverableStatus(name="Riskanalys", present=False)) == "Riskanalys: missing"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (421_888, "412.0 KiB"),
        (3 << 20, "3.0 MiB"),
        (5 << 40, "5120.0 GiB"),
    ],
)
def test_sizes_read_in_binary_units(size: int, text: str) -> None:
    assert size_text(size) == text
