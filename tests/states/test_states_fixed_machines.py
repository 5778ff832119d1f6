"""Unit tests of the fixed machines: iteration loop, change request, exception case."""

from __future__ import annotations

import json
import re

import pytest

from governance import builtin_models
from states import (
    ChangeRequest,
    ExceptionCase,
    IllegalTransition,
    IterationLoop,
    StateMachine,
)


def fire_all(machine: StateMachine, *triggers: str) -> str:
    for trigger in triggers:
        machine.fire(trigger)
    return machine.state


def assert_round_trips(machine: StateMachine) -> None:
    data = json.loads(json.dumps(machine.to_dict()))
    restored = type(machine).from_dict(data)  # type: ignore[attr-defined]
    assert restored == machine and restored.allowed() == machine.allowed()


def assert_terminal(machine: StateMachine) -> None:
    assert machine.terminal and machine.allowed() == []
    state = machine.state
    for trigger in machine.triggers:
        with pytest.raises(IllegalTransition):
            machine.fire(trigger)
    assert machine.state == state


def assert_valid_mermaid(machine: StateMachine, states: list[str]) -> None:
    lines = machine.mermaid().splitlines()
    assert lines[0] == "stateDiagram-v2"
    ids = set()
    for line in lines[1:]:
        edge = re.fullmatch(r"    (\S+) --> (\S+?)(?:: ([a-z_]+))?", line)
        assert edge, line
        ids |= {edge[1], edge[2]} - {"[*]"}
    assert ids == set(states)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)


# -- iteration loop ---------------------------------------------------------------------------


def test_iteration_runs_plan_execute_demo_deliver_retro_to_done() -> None:
    it = IterationLoop()
    assert it.state == "planning" and it.allowed() == ["start", "close", "abandon"]
    assert fire_all(it, "start", "demo", "demo_recorded") == "delivery"
    assert_round_trips(it)
    assert fire_all(it, "deliver", "finish") == "done" and it.delivered
    assert_terminal(it)


def test_iteration_may_hold_delivery_and_then_shipped_nothing() -> None:
    it = IterationLoop()
    fire_all(it, "start", "demo", "demo_recorded")
    assert it.allowed() == ["deliver", "hold", "close", "abandon"]
    assert fire_all(it, "hold", "finish") == "done" and not it.delivered
    assert_round_trips(it)


@pytest.mark.parametrize(
    "steps",
    [
        (),
        ("start",),
        ("start", "demo", "demo_recorded"),
        ("start", "demo", "demo_recorded", "hold"),
    ],
)
@pytest.mark.parametrize("end", ["close", "abandon"])
def test_iteration_can_be_closed_or_abandoned_from_any_open_state(
    steps: tuple[str, ...], end: str
) -> None:
    it = IterationLoop()
    assert fire_all(it, *steps, end) == {"close": "closed", "abandon": "abandoned"}[end]
    assert_terminal(it)


def test_iteration_illegal_trigger_changes_nothing() -> None:
    it = IterationLoop()
    with pytest.raises(
        IllegalTransition, match=r'cannot "finish" from "planning" \(allowed: start'
    ):
        it.fire("finish")
    assert it.to_dict() == {"state": "planning", "delivered": False}


def test_iteration_mermaid_lists_every_state() -> None:
    assert_valid_mermaid(
        IterationLoop(),
        ["planning", "executing", "demo", "delivery", "retro", "done", "closed", "abandoned"],
    )


# -- change request ---------------------------------------------------------------------------


@pytest.mark.parametrize("classification", ["minor", "formal"])
def test_change_is_classified_assessed_approved_and_implemented(classification: str) -> None:
    cr = ChangeRequest()
    assert cr.allowed() == ["withdraw"]  # no assessment before a classification
    cr.classify(classification)  # type: ignore[arg-type]
    assert cr.allowed() == ["assess", "withdraw"]
    assert fire_all(cr, "assess") == "assessed"
    assert_round_trips(cr)
    assert fire_all(cr, "approve", "implement") == "implemented"
    assert cr.classification == classification
    assert_terminal(cr)


def test_change_can_be_reclassified_until_assessed_but_not_after() -> None:
    cr = ChangeRequest()
    cr.classify("minor")
    cr.classify("formal")
    cr.fire("assess")
    with pytest.raises(IllegalTransition, match='cannot "classify" from "assessed"'):
        cr.classify("minor")
    assert cr.classification == "formal"
    with pytest.raises(ValueError):
        ChangeRequest().classify("huge")  # type: ignore[arg-type]


def test_change_rejected_is_terminal() -> None:
    cr = ChangeRequest()
    cr.classify("formal")
    assert fire_all(cr, "assess", "reject") == "rejected"
    assert_terminal(cr)


@pytest.mark.parametrize("assessed", [False, True])
def test_change_can_be_withdrawn_before_a_decision(assessed: bool) -> None:
    cr = ChangeRequest()
    cr.classify("minor")
    if assessed:
        cr.fire("assess")
    assert cr.fire("withdraw") == "withdrawn"
    assert_terminal(cr)


def test_change_cannot_be_withdrawn_once_approved() -> None:
    cr = ChangeRequest()
    cr.classify("minor")
    fire_all(cr, "assess", "approve")
    with pytest.raises(IllegalTransition, match=r"\(allowed: implement\)"):
        cr.fire("withdraw")
    assert cr.state == "approved"


def test_change_from_dict_refuses_an_unclassified_assessment() -> None:
    with pytest.raises(ValueError):
        ChangeRequest.from_dict({"state": "assessed", "classification": None})


def test_change_mermaid_lists_every_state() -> None:
    assert_valid_mermaid(
        ChangeRequest(),
        ["submitted", "assessed", "approved", "rejected", "implemented", "withdrawn"],
    )


# -- exception case ---------------------------------------------------------------------------


def test_exception_escalates_one_level_at_a_time_until_the_top() -> None:
    case = ExceptionCase(["project", "board", "corporate"])
    assert (case.state, case.level, case.level_index) == ("raised", "project", 0)
    assert case.fire("escalate") == "escalated" and case.level == "board"
    assert_round_trips(case)
    case.fire("escalate")
    assert case.level == "corporate" and not case.may("escalate")
    with pytest.raises(IllegalTransition, match=r'cannot "escalate" from "escalated"'):
        case.fire("escalate")
    assert case.level_index == 2


@pytest.mark.parametrize(
    ("trigger", "outcome"),
    [
        ("approve_plan", "plan_approved"),
        ("widen_tolerance", "tolerance_widened"),
        ("close_project", "project_closed"),
    ],
)
def test_exception_resolves_with_the_outcome_of_its_decision(trigger: str, outcome: str) -> None:
    case = ExceptionCase(["board", "corporate"])
    case.fire("escalate")
    assert case.fire(trigger) == "resolved"
    assert (case.outcome, case.level) == (outcome, "corporate")
    assert case.to_dict() == {
        "state": "resolved",
        "levels": ["board", "corporate"],
        "level_index": 1,
        "outcome": outcome,
    }
    assert_round_trips(case)
    assert_terminal(case)


def test_exception_above_a_level_goes_to_the_levels_over_it() -> None:
    case = ExceptionCase.above(builtin_models()["prince2"], "project")
    assert case.levels == ["board", "corporate"] and case.level == "board"


def test_exception_needs_a_level() -> None:
    with pytest.raises(ValueError):
        ExceptionCase([])


@pytest.mark.parametrize(
    "data",
    [
        {"state": "raised", "levels": ["a", "b"], "level_index": 2, "outcome": None},
        {"state": "raised", "levels": ["a", "b"], "level_index": 1, "outcome": None},
        {"state": "escalated", "levels": ["a", "b"], "level_index": 0, "outcome": None},
        {"state": "resolved", "levels": ["a"], "level_index": 0, "outcome": None},
        {"state": "raised", "levels": ["a"], "level_index": 0, "outcome": "plan_approved"},
    ],
)
def test_exception_from_dict_refuses_inconsistent_snapshots(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ExceptionCase.from_dict(data)


def test_exception_mermaid_lists_every_state() -> None:
    assert_valid_mermaid(ExceptionCase(["a"]), ["raised", "escalated", "resolved"])
