"""Unit tests of the project lifecycle over both built-in models."""

from __future__ import annotations

import json
import re

import pytest

from governance import GovernanceModel, builtin_models
from states import (
    LIFECYCLE_TRIGGERS,
    IllegalTransition,
    Lifecycle,
    check_lifecycle_trace,
    lifecycle_states,
)

MODELS = builtin_models()


@pytest.fixture(params=["projektflodet", "prince2"])
def model(request: pytest.FixtureRequest) -> GovernanceModel:
    return MODELS[request.param]


def walk(lc: Lifecycle, *triggers: str) -> list[tuple[str, str, str]]:
    """Fire ``triggers`` in order and return the trace."""
    trace = []
    for trigger in triggers:
        before = lc.state
        trace.append((trigger, before, lc.fire(trigger)))
    return trace


def test_starts_in_the_first_phase_with_no_gate_open(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    assert lc.state == model.phases[0].id
    assert lc.phase == model.phases[0].id
    assert not lc.gate_open and not lc.terminal
    assert lc.allowed() == ["request_gate", "hold", "cancel", "raise_exception", "close_early"]


def test_happy_path_passes_every_gate_in_order_to_closed(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    trace = []
    for i, phase in enumerate(model.phases):
        assert lc.state == phase.id and lc.phase == phase.id
        trace += walk(lc, "request_gate")
        assert lc.state == phase.gate_state and lc.gate_open and lc.phase == phase.id
        trace += walk(lc, "approve")
        nxt = model.phases[i + 1].id if i + 1 < len(model.phases) else "closed"
        assert lc.state == nxt
    assert lc.terminal and lc.phase is None and lc.allowed() == []
    check_lifecycle_trace(model, trace)


def test_rework_sends_a_gate_back_to_its_phase(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    walk(lc, "request_gate", "rework")
    assert lc.state == model.phases[0].id and not lc.gate_open


@pytest.mark.parametrize("name", ["projektflodet", "prince2"])
def test_reject_closes_or_goes_back_as_each_gate_says(name: str) -> None:
    model = MODELS[name]
    for k, phase in enumerate(model.phases):
        lc = Lifecycle(model)
        walk(lc, *["request_gate", "approve"] * k, "request_gate", "reject")
        expected = "closed" if phase.gate.on_reject == "close" else phase.id
        assert lc.state == expected, phase.id
    assert {p.gate.on_reject for p in model.phases} == {"close", "back"}


def test_hold_and_resume_return_to_the_phase_or_gate_held_from(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    second = model.phases[1]
    walk(lc, "request_gate", "approve")
    for origin, steps in ((second.id, ()), (second.gate_state, ("request_gate",))):
        walk(lc, *steps, "hold")
        assert lc.state == "on_hold" and lc.held_from == origin and lc.phase == second.id
        assert lc.allowed() == ["resume", "cancel"]
        assert lc.fire("resume") == origin and lc.held_from is None


def test_exception_resolves_back_to_its_phase_or_closes_early(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    walk(lc, "request_gate", "approve", "raise_exception")
    second = model.phases[1].id
    assert lc.state == "exception" and lc.exception_from == second and lc.phase == second
    assert lc.allowed() == ["cancel", "resolve_exception", "close", "close_early"]
    assert lc.fire("resolve_exception") == second and lc.exception_from is None
    walk(lc, "raise_exception", "close")
    assert lc.state == "closed" and lc.phase is None
    # Closing early goes through the model's closing phase, whose gate then closes it.
    lc = Lifecycle(model)
    walk(lc, "raise_exception")
    assert lc.fire("close_early") == model.closing().id and lc.exception_from is None


def test_no_exception_from_a_gate_or_from_hold(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    lc.fire("request_gate")
    assert not lc.may("raise_exception")
    lc.fire("hold")
    assert not lc.may("raise_exception") and not lc.may("hold")


@pytest.mark.parametrize("state_before", ["phase", "gate", "on_hold", "exception"])
def test_cancel_works_from_every_open_kind_of_state(
    model: GovernanceModel, state_before: str
) -> None:
    lc = Lifecycle(model)
    steps = {
        "phase": (),
        "gate": ("request_gate",),
        "on_hold": ("hold",),
        "exception": ("raise_exception",),
    }[state_before]
    walk(lc, *steps, "cancel")
    assert lc.state == "cancelled" and lc.terminal
    assert lc.held_from is None and lc.exception_from is None


@pytest.mark.parametrize("how", [("cancel",), ("raise_exception", "close")])
def test_terminal_states_accept_no_trigger(model: GovernanceModel, how: tuple[str, ...]) -> None:
    lc = Lifecycle(model)
    walk(lc, *how)
    assert lc.allowed() == []
    for trigger in LIFECYCLE_TRIGGERS:
        assert not lc.may(trigger)
        with pytest.raises(IllegalTransition, match="allowed: none"):
            lc.fire(trigger)
    assert lc.state == how[-1].replace("cancel", "cancelled").replace("close", "closed")


def test_illegal_transition_names_the_allowed_ones_and_changes_nothing(
    model: GovernanceModel,
) -> None:
    lc = Lifecycle(model)
    before = lc.to_dict()
    first = model.phases[0].id
    with pytest.raises(IllegalTransition) as err:
        lc.fire("approve")
    assert str(err.value) == (
        f'cannot "approve" from "{first}" (allowed: request_gate, hold, cancel, raise_exception, '
        "close_early)"
    )
    assert (err.value.trigger, err.value.state) == ("approve", first)
    with pytest.raises(IllegalTransition, match='cannot "teleport"'):
        lc.fire("teleport")
    assert lc.to_dict() == before


def test_resume_is_not_allowed_anywhere_but_on_hold(model: GovernanceModel) -> None:
    lc = Lifecycle(model)
    assert not lc.may("resume") and not lc.may("resolve_exception")


@pytest.mark.parametrize(
    "steps",
    [
        (),
        ("request_gate",),
        ("request_gate", "approve", "hold"),
        ("request_gate", "hold"),
        ("request_gate", "approve", "raise_exception"),
        ("cancel",),
    ],
)
def test_to_dict_from_dict_round_trip_mid_flight(
    model: GovernanceModel, steps: tuple[str, ...]
) -> None:
    lc = Lifecycle(model)
    walk(lc, *steps)
    data = json.loads(json.dumps(lc.to_dict()))
    assert set(data) == {"state", "held_from", "exception_from"}
    restored = Lifecycle.from_dict(model, data)
    assert restored == lc and restored.to_dict() == lc.to_dict()
    assert restored.allowed() == lc.allowed() and restored.phase == lc.phase
    if lc.allowed():  # the restored machine carries on the same way
        trigger = lc.allowed()[0]
        assert restored.fire(trigger) == lc.fire(trigger)


@pytest.mark.parametrize(
    "data",
    [
        {"state": "nowhere", "held_from": None, "exception_from": None},
        {"state": "on_hold", "held_from": None, "exception_from": None},
        {"state": "on_hold", "held_from": "on_hold", "exception_from": None},
        {"state": "exception", "held_from": None, "exception_from": "closed"},
    ],
)
def test_from_dict_refuses_a_snapshot_that_does_not_fit_the_model(data: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Lifecycle.from_dict(MODELS["prince2"], data)


def test_machines_under_different_models_are_not_equal() -> None:
    a, b = Lifecycle(MODELS["prince2"]), Lifecycle(MODELS["projektflodet"])
    assert a != b
    assert Lifecycle(MODELS["prince2"]) == a


def test_mermaid_lists_every_state_with_valid_ids(model: GovernanceModel) -> None:
    text = Lifecycle(model).mermaid()
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert f"    [*] --> {model.phases[0].id}" in lines
    assert "    closed --> [*]" in lines and "    cancelled --> [*]" in lines
    ids = set()
    for line in lines[1:]:
        edge = re.fullmatch(r"    (\S+) --> (\S+?)(?:: ([a-z_]+))?", line)
        assert edge, line
        ids |= {edge[1], edge[2]} - {"[*]"}
    assert ids == set(lifecycle_states(model))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)
    for p in model.phases:
        assert f"    {p.id} --> {p.gate_state}: request_gate" in lines


def test_mermaid_node_names_never_collide_with_keyword_aliases() -> None:
    # A phase "end" (a mermaid keyword) was drawn as node "end_s", which a phase "end_s" also
    # was: the diagram merged the two phases into one node.
    data = MODELS["projektflodet"].model_dump(mode="json")
    data["phases"][4]["id"], data["phases"][5]["id"] = "end", "end_s"
    data["closing_phase"] = "end"  # it named the closure phase by its old id
    model = GovernanceModel.model_validate(data)
    lines = Lifecycle(model).mermaid().splitlines()
    aliases = dict(re.findall(r'^    state "(\w+)" as (\w+)$', "\n".join(lines), re.M))
    assert aliases == {"end": "end_s_s"}
    node = {s: aliases.get(s, s) for s in lifecycle_states(model)}
    assert len(set(node.values())) == len(node)  # one node per state
    assert "    end_s_s --> end_gate: request_gate" in lines
    assert "    end_s --> end_s_gate: request_gate" in lines


def test_check_lifecycle_trace_accepts_a_legal_detour_run() -> None:
    model = MODELS["prince2"]
    lc = Lifecycle(model)
    trace = walk(
        lc, "request_gate", "rework", "hold", "resume", "request_gate", "approve",
        "raise_exception", "resolve_exception", "request_gate", "hold", "resume", "reject",
    )  # fmt: skip
    check_lifecycle_trace(model, trace)


@pytest.mark.parametrize(
    ("trace", "complaint"),
    [
        ([("skip", "starting_up", "delivery_1")], "not from a gate"),
        (
            [("request_gate", "starting_up", "starting_up_gate"),
             ("approve", "starting_up_gate", "delivery_1")],
            "must lead to 'initiation'",
        ),
        (
            [("request_gate", "starting_up", "starting_up_gate"),
             ("rework", "starting_up_gate", "initiation")],
            "not from a gate",
        ),
        ([("cancel", "starting_up", "cancelled"), ("revive", "cancelled", "starting_up")],
         "left the terminal state"),
        (
            [("request_gate", "starting_up", "starting_up_gate"),
             ("hold", "starting_up_gate", "on_hold"), ("resume", "on_hold", "starting_up")],
            "came from 'starting_up_gate'",
        ),
        ([("raise_exception", "starting_up", "exception"), ("x", "exception", "on_hold")],
         "came from 'starting_up'"),
        ([("request_gate", "initiation", "initiation_gate")], "the run was in 'starting_up'"),
        ([("jump", "starting_up", "starting_up_gate_x")], "unknown state"),
    ],
)  # fmt: skip
def test_check_lifecycle_trace_rejects_broken_runs(
    trace: list[tuple[str, str, str]], complaint: str
) -> None:
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        check_lifecycle_trace(MODELS["prince2"], trace)
