"""One decision mechanism: gates, formal changes and exceptions share DecisionRule and the tally;
the change rule and the closing phase the model derives when it names none; advisers
(``consult``) leave a model's hash as it was when it names none."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import governance as g
from tests.governance.gov_cases import P2_MODEL, PF_MODEL
from tests.governance.test_gov_tally import BOARD, C, Vote, votes


def model(base: dict[str, Any], **changes: Any) -> g.GovernanceModel:
    data = copy.deepcopy(base)
    data.update(changes)
    return g.parse_model(data)


def test_a_gate_is_a_decision_rule() -> None:
    gate = g.builtin_model("projektflodet").phases[1].gate
    assert isinstance(gate, g.DecisionRule)
    assert gate.quorum(3) == 2  # majority


def test_prince2s_executive_decides_every_gate_and_the_user_and_supplier_advise() -> None:
    for phase in g.builtin_model("prince2").phases:
        gate = phase.gate
        assert (gate.approvers, gate.consult) == (["executive"], ["senior_user", "senior_supplier"])
        assert (gate.rule, gate.required) == ("all", ["executive"])


def test_the_built_in_change_rules_are_their_boards_with_the_executive() -> None:
    p2, pf = g.builtin_model("prince2"), g.builtin_model("projektflodet")
    assert p2.change_rule() == g.DecisionRule(
        approvers=["executive"],
        consult=["senior_user", "senior_supplier"],
        rule="all",
        required=["executive"],
        sla="P10D",
        reminder="P7D",
        escalate_to="corporate",
    )
    rule = pf.change_rule()
    assert rule.approvers == ["bestallare", "mottagare", "leverantor"]
    assert (rule.required, rule.escalate_to) == (["bestallare"], "portfolio")


def test_without_a_formal_rule_the_authority_decides_alone_within_its_sla() -> None:
    data = copy.deepcopy(PF_MODEL)
    del data["change_control"]["formal"]
    rule = g.parse_model(data).change_rule()
    assert rule.approvers == ["bestallare"]  # the board level's role
    assert rule.rule == g.AtLeast(at_least=1)
    assert (g.format_duration(rule.sla), rule.reminder) == ("P5D", None)
    assert rule.escalate_to == "portfolio"
    assert rule.forbid_self_approval


def test_a_derived_change_rule_at_the_top_of_the_chain_escalates_nowhere() -> None:
    data = copy.deepcopy(PF_MODEL)
    del data["change_control"]["formal"]
    data["change_control"]["authority"] = "portfolio"
    assert g.parse_model(data).change_rule().escalate_to is None


@pytest.mark.parametrize(("base", "closing"), [(P2_MODEL, "closing"), (PF_MODEL, "closure")])
def test_the_closing_phase_is_the_named_one(base: dict[str, Any], closing: str) -> None:
    assert g.parse_model(base).closing().id == closing


def test_without_a_closing_phase_the_last_phase_closes() -> None:
    data = copy.deepcopy(PF_MODEL)
    del data["closing_phase"]
    assert g.parse_model(data).closing().id == "benefits_realisation"


def test_amber_at_defaults_to_80_percent() -> None:
    data = copy.deepcopy(PF_MODEL)
    del data["tolerances"]["amber_at"]
    assert g.parse_model(data).tolerances.amber_at == 80.0
    assert g.builtin_model("prince2").tolerances.amber_at == 80.0


RULE = g.DecisionRule(approvers=["member", "owner"], rule="majority", sla="P5D")


def test_tally_counts_a_plain_decision_rule_like_a_gate() -> None:
    assert g.tally(RULE, C, votes(m0="approve")).outcome is None
    assert g.tally(RULE, C, votes(m0="approve", o0="approve")).outcome == "approve"
    assert g.tally(RULE, C, votes(m0="reject", m1="reject")).outcome == "reject"
    assert g.tally(RULE, C, votes(m0="approve", o0="approve"), requester="m0").outcome is None


@pytest.mark.parametrize("decision", ["approve_plan", "widen_tolerance", "close", "reject"])
def test_at_an_escalated_level_the_first_deciders_vote_comes_back_as_cast(decision: str) -> None:
    cast = [Vote("o0", "approve", level=None), Vote("x0", decision, level="board")]
    t = g.tally(RULE, C, cast, level=BOARD)
    assert t.outcome == decision
    assert t.eligible == ["x0"]


def test_a_model_without_advisers_hashes_as_before_consult_existed() -> None:
    pf = g.builtin_model("projektflodet")
    assert '"consult"' not in pf.canonical_json()
    # The hash projektflodet@1.0 had before rules could name advisers (and still has).
    assert pf.content_hash().startswith("dad918c74ba6")
    p2 = g.builtin_model("prince2")
    assert p2.canonical_json().count('"consult":["senior_user","senior_supplier"]') == 6


def test_advisers_change_a_models_hash() -> None:
    data = copy.deepcopy(PF_MODEL)
    data["phases"][0]["gate"]["consult"] = ["leverantor"]
    assert g.parse_model(data).content_hash() != g.parse_model(PF_MODEL).content_hash()
