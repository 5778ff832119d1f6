"""What `project status`, `progress` and `change ...` print for people about control: the
earned-value figures, RAG per aspect and per level, the baseline, open changes and the open
exception; built here from the messages (the end-to-end tests drive the real workflow)."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from governance import Baseline
from governance._earned_value import EarnedValue
from governance._rag import AspectStatus
from governance.messages import (
    ChangeStatus,
    ControlStatus,
    Ending,
    ExceptionStatus,
    GateStatus,
    ProjectStatus,
    Vote,
)
from phasegate.cli._control import change_line, forecast_lines, print_control
from phasegate.cli._project import _print_status
from phasegate.views import ListState

T0 = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
BASELINE = Baseline.model_validate(
    {
        "start": "2027-01-11",
        "planned_end": "2027-09-30",
        "budget": 800000,
        "currency": "SEK",
        "scope": {"unit": "points", "amount": 240},
        "team_size": 7,
    }
)
FORECAST = EarnedValue(
    as_of=date(2027, 3, 31),
    bac=800000,
    pv=200000,
    ev=200000,
    ac=260000,
    sv=0,
    cv=-60000,
    spi=1.0,
    cpi=200000 / 260000,
    eac=1040000,
    eac_atypical=860000,
    etc=780000,
    vac=-240000,
    tcpi=600000 / 540000,
    percent_complete=25.0,
    percent_planned=25.0,
    planned_end=date(2027, 9, 30),
    forecast_end=date(2027, 9, 30),
)


def aspect(name: str, level: str, colour: str, deviation: float | None, tolerance: float) -> Any:
    used = None if deviation is None else deviation / tolerance
    return AspectStatus(
        aspect=name,
        level=level,
        colour=colour,  # type: ignore[arg-type]
        deviation=deviation,
        tolerance=tolerance,
        used=used,
    )


def decision(kind: str, id: str, awaited: list[str]) -> GateStatus:
    return GateStatus(
        kind=kind,  # type: ignore[arg-type]
        id=id,
        gate=id,
        phase="idea",
        title=f"Decide {id}",
        round=1,
        opened_at=T0,
        requested_by="david",
        rule="majority",
        approvals_needed=2,
        approvals=0,
        required=["bestallare"],
        required_missing=["bestallare"],
        eligible=["anna", "bo", "cecilia"],
        votes=[],
        awaited=awaited,
        deliverables=[],
        deadline=T0 + timedelta(days=10),
        reminder_at=None,
        level=None,
        escalations=[],
    )


def change(id: str, classification: str, state: str, **extra: Any) -> ChangeStatus:
    data: dict[str, Any] = {
        "id": id,
        "title": f"Change {id}",
        "reason": None,
        "cost_impact": 10000,
        "time_impact": timedelta(days=3),
        "scope_impact": 0,
        "requested_by": "david",
        "requested_at": T0,
        "classification": classification,
        "state": state,
        "decided_by": None,
        "decided_at": None,
        "decision_comment": None,
        "exception": None,
        "decision": None,
    }
    data.update(extra)
    return ChangeStatus.model_validate(data)


def status() -> ProjectStatus:
    exception = ExceptionStatus(
        id="EX-1",
        state="raised",
        level="board",
        role="bestallare",
        levels=["stage", "project"],
        aspects=["cost"],
        cause="tolerance",
        change_id=None,
        raised_at=T0,
        report=1,
        decision=decision("exception", "EX-1", ["anna"]),
    )
    ctl = ControlStatus(
        baseline=BASELINE,
        baseline_version=1,
        progress=1,
        last_report=None,
        rag_levels={
            "project": {
                "time": aspect("time", "project", "green", 0.0, 28.0),
                "cost": aspect("cost", "project", "red", 30.0, 8.0),
            },
            "stage": {"cost": aspect("cost", "stage", "red", 30.0, 5.0)},
        },
        worst="red",
        tolerances={},
        change_budget=40000,
        change_budget_left=30000,
        changes=[
            change("CR-1", "minor", "approved", decided_by="david"),
            change(
                "CR-2",
                "formal",
                "assessed",
                cost_impact=100000,
                time_impact=timedelta(weeks=2),
                scope_impact=10,
                decision=decision("change", "CR-2", ["anna", "bo", "cecilia"]),
            ),
        ],
        exception=exception,
        highlights=0,
        next_highlight=None,
    )
    return ProjectStatus(
        project_id="new-crm",
        title="Nytt CRM-system",
        model="projektflodet@1.0",
        model_hash="ab" * 32,
        state="idea",
        phase="idea",
        phase_title="Idé",
        phase_index=0,
        phases=["idea"],
        on_hold=False,
        terminal=False,
        started_at=T0,
        phase_started_at=T0,
        phase_opens_at=None,
        gate=None,
        last_seq=5,
        recorded_seq=5,
        forecast=FORECAST,
        rag={"time": "green", "cost": "red"},
        control=ctl,
        decisions=[],
    )


def test_the_forecast_shows_every_earned_value_figure() -> None:
    assert forecast_lines(FORECAST, "SEK") == [
        "as of 2027-03-31: PV 200,000, EV 200,000, AC 260,000, BAC 800,000 SEK",
        "SV 0, CV -60,000, SPI 1.00, CPI 0.77",
        "EAC 1,040,000 (atypical 860,000), ETC 780,000, VAC -240,000, TCPI 1.11",
        "25.0% complete, 25.0% planned; end 2027-09-30 (planned 2027-09-30)",
    ]


def test_status_shows_rag_per_aspect_and_level_the_open_changes_and_the_exception(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_control(status())
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "  forecast: as of 2027-03-31: PV 200,000, EV 200,000, AC 260,000, BAC 800,000 SEK"
    )
    assert out[4:] == [
        "  rag:      red: time green, cost red",
        "            project: time 0.0/28d, cost 30.0/8% RED",
        "            stage: cost 30.0/5% RED",
        "  baseline: version 1: 2027-01-11 to 2027-09-30, 800,000 SEK, 240 points; "
        "1 progress report(s)",
        "  changes:  2 (1 open); minor-change budget 40,000 SEK, 30,000 SEK left",
        "            CR-2: formal, assessed: Change CR-2 (cost 100,000 SEK, time P2W, scope +10) "
        "by david; awaiting anna, bo, cecilia (0/2 approvals, deadline 2027-04-10T09:00+00:00)",
        "  exception: EX-1: raised, cost at stage, project level; cause tolerance; raised "
        "2027-03-31T09:00+00:00; with board (bestallare); exception report 1; awaiting "
        "anna (0/2 approvals, deadline 2027-04-10T09:00+00:00)",
    ]


def test_project_status_carries_the_control_part(capsys: pytest.CaptureFixture[str]) -> None:
    _print_status(status())
    out = capsys.readouterr().out
    assert "  rag:      red: time green, cost red\n" in out
    assert out.index("  forecast:") < out.index("  audit:  5 events")


def test_nothing_is_shown_before_the_first_report(capsys: pytest.CaptureFixture[str]) -> None:
    st = status().model_copy(update={"forecast": None, "rag": {}, "control": None})
    print_control(st)
    assert capsys.readouterr().out == ""


def test_a_decided_or_referred_change_says_by_whom_or_where() -> None:
    decided = change("CR-1", "minor", "approved", decided_by="david", decision_comment="ok")
    assert change_line(decided, "SEK") == (
        "CR-1: minor, approved: Change CR-1 (cost 10,000 SEK, time P3D, scope 0) by david; "
        "decided by david (ok)"
    )
    referred = change("CR-3", "minor", "submitted", exception="EX-1", scope_impact=-4)
    assert change_line(referred).endswith("scope -4) by david; waits on exception EX-1")


def test_a_changes_advice_is_shown_as_advice_and_the_advice_still_awaited() -> None:
    votes = [
        Vote(actor="bo", roles=["mottagare"], decision="reject", comment="not now", at=T0,
             counted=False),
        Vote(actor="anna", roles=["bestallare"], decision="approve", at=T0),
    ]  # fmt: skip
    d = decision("change", "CR-2", []).model_copy(
        update={
            "votes": votes,
            "approvals": 1,
            "approvals_needed": 1,
            "advisers": ["bo", "cecilia"],
            "advice_awaited": ["cecilia"],
        }
    )
    line = change_line(change("CR-2", "formal", "assessed", decision=d), "SEK")
    assert line.endswith(
        "by david; votes: bo advised reject (not now), anna approve; awaiting - "
        "(1/1 approvals, deadline 2027-04-10T09:00+00:00); advice awaited from cecilia"
    )


@pytest.mark.parametrize("outcome", ["closed", "rejected", "cancelled"])
def test_an_ended_project_s_state_is_how_it_ended_as_the_list_names_it(
    outcome: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rejected project is in the lifecycle's "closed" state, but `project list --state
    closed` does not show it (`--state rejected` does): status says `rejected` too."""
    ending = Ending(outcome=outcome, by="anna", at=T0, phase="idea")  # type: ignore[arg-type]
    state = "cancelled" if outcome == "cancelled" else "closed"
    st = status().model_copy(
        update={"state": state, "outcome": outcome, "ended": ending, "phase": None}
    )
    _print_status(st, now=T0)
    lines = capsys.readouterr().out.splitlines()
    assert f"  ended:  {outcome} by anna at 2027-03-31T09:00+00:00 in phase idea" in lines
    assert f"  state:  {outcome}" in lines
    assert typing.get_args(ListState).count(outcome) == 1  # a value of `project list --state`
