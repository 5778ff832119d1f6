"""Counting gate votes: the rule's quorum, required roles' veto, impossible quorum, escalation,
advice (a ``consult`` role's vote) never counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import governance as g


@dataclass(frozen=True)
class Vote:
    actor: str
    decision: str
    level: str | None = None
    counted: bool = True
    by: str | None = None


def gate(rule: object = "all", required: tuple[str, ...] = ()) -> g.Gate:
    return g.Gate(
        approvers=["member", "owner"],
        rule=rule,
        required=list(required),
        sla="P10D",
        escalate_to="board",
    )


def charter(members: int = 2, owners: int = 1, others: int = 1) -> g.Charter:
    people = [{"id": f"m{i}", "name": f"M {i}", "roles": ["member"]} for i in range(members)]
    people += [{"id": f"o{i}", "name": f"O {i}", "roles": ["owner"]} for i in range(owners)]
    people += [{"id": f"x{i}", "name": f"X {i}", "roles": ["pmo"]} for i in range(others)]
    return g.Charter(
        model="test@1",
        id="tally",
        title="Tally",
        people=people,
        baseline=g.Baseline(
            start=date(2027, 1, 1),
            planned_end=date(2027, 6, 1),
            budget=1000,
            scope=g.Scope(amount=10),
            team_size=3,
        ),
    )


C = charter()  # m0, m1 (member), o0 (owner), x0 (pmo, not an approver)


def votes(**decisions: str) -> list[Vote]:
    return [Vote(actor, decision) for actor, decision in decisions.items()]


def test_eligible_are_holders_of_approver_roles_in_charter_order() -> None:
    assert g.eligible_approvers(gate(), C) == ["m0", "m1", "o0"]
    t = g.tally(gate(), C, [])
    assert (t.eligible, t.needed, t.approvals, t.required_missing, t.outcome) == (
        ["m0", "m1", "o0"], 3, 0, [], None,
    )  # fmt: skip


def test_all_needs_every_approver() -> None:
    assert g.tally(gate("all"), C, votes(m0="approve", m1="approve")).outcome is None
    t = g.tally(gate("all"), C, votes(m0="approve", m1="approve", o0="approve"))
    assert (t.approvals, t.outcome) == (3, "approve")


def test_majority() -> None:
    t = g.tally(gate("majority"), C, votes(m0="approve"))
    assert (t.needed, t.outcome) == (2, None)
    assert g.tally(gate("majority"), C, votes(m0="approve", o0="approve")).outcome == "approve"


def test_at_least_n() -> None:
    rule = g.AtLeast(at_least=1)
    assert g.tally(gate(rule), C, []).needed == 1
    assert g.tally(gate(rule), C, votes(m1="approve")).outcome == "approve"


def test_votes_of_people_who_are_not_approvers_do_not_count() -> None:
    t = g.tally(gate(g.AtLeast(at_least=1)), C, votes(x0="approve"))
    assert (t.approvals, t.outcome) == (0, None)


def test_quorum_without_the_required_role_keeps_the_gate_open() -> None:
    t = g.tally(gate("majority", ("owner",)), C, votes(m0="approve", m1="approve"))
    assert (t.approvals, t.required_missing, t.outcome) == (2, ["owner"], None)
    t = g.tally(gate("majority", ("owner",)), C, votes(m0="approve", o0="approve"))
    assert (t.required_missing, t.outcome) == ([], "approve")


@pytest.mark.parametrize("decision", ["reject", "rework"])
def test_required_role_vetoes_with_its_own_decision(decision: str) -> None:
    # Both members approved (a majority), but the one owner said no: the owner decides.
    t = g.tally(gate("majority", ("owner",)), C, votes(m0="approve", m1="approve", o0=decision))
    assert t.outcome == decision
    assert t.required_missing == ["owner"]


def test_veto_waits_for_every_holder_of_the_required_role() -> None:
    two_owners = charter(members=1, owners=2)
    g2 = gate(g.AtLeast(at_least=1), ("owner",))
    assert g.tally(g2, two_owners, votes(o0="reject")).outcome is None
    assert g.tally(g2, two_owners, votes(o0="reject", o1="approve")).outcome == "approve"
    # Holders who disagree between rework and reject: reject, the stronger no.
    assert g.tally(g2, two_owners, votes(o0="rework", o1="reject")).outcome == "reject"
    assert g.tally(g2, two_owners, votes(o0="rework", o1="rework")).outcome == "rework"


def test_impossible_quorum_takes_the_more_common_no() -> None:
    three = charter(members=3, owners=0)  # m0, m1, m2; majority needs 2
    g3 = gate("majority")
    assert g.tally(g3, three, votes(m0="reject")).outcome is None  # still reachable
    assert g.tally(g3, three, votes(m0="reject", m1="reject")).outcome == "reject"
    assert g.tally(g3, three, votes(m0="rework", m1="rework")).outcome == "rework"
    five = charter(members=5, owners=0)  # majority needs 3
    assert g.tally(g3, five, votes(m0="reject", m1="reject", m2="rework")).outcome == "reject"
    assert g.tally(g3, five, votes(m0="rework", m1="rework", m2="reject")).outcome == "rework"


def test_impossible_quorum_tie_is_rework() -> None:
    three = charter(members=3, owners=0)
    t = g.tally(gate("all"), three, votes(m0="approve", m1="reject", m2="rework"))
    assert t.outcome == "rework"
    t = g.tally(gate("majority"), three, votes(m0="reject", m1="rework"))
    assert t.outcome == "rework"


BOARD = g.EscalationLevel(id="board", role="pmo", sla="P5D")


def test_once_escalated_only_the_level_decides_and_its_first_vote_does() -> None:
    # A reached quorum and a veto cast before the escalation no longer count: the level that
    # took the decision over (pmo: x0) decides alone.
    v = [*votes(m0="approve", m1="approve", o0="reject"), Vote("x0", "rework", "board")]
    t = g.tally(gate("majority", ("owner",)), C, v, level=BOARD)
    assert (t.eligible, t.needed, t.required_missing, t.outcome) == (["x0"], 1, [], "rework")
    # Before x0 votes the gate stays open, whatever the approvers said.
    t = g.tally(gate("majority"), C, votes(m0="approve", m1="approve", o0="approve"), level=BOARD)
    assert (t.approvals, t.outcome) == (0, None)
    # A vote recorded at another level, or by someone not of this level, counts for nothing.
    v = [Vote("o0", "reject", "board"), Vote("x0", "approve", "portfolio")]
    assert g.tally(gate(), C, v, level=BOARD).outcome is None


def test_without_an_escalation_level_votes_cast_at_a_level_do_not_count() -> None:
    v = [Vote("x0", "approve", "board")]
    assert g.tally(gate(g.AtLeast(at_least=1)), C, v).outcome is None


def test_escalation_deciders_are_the_level_role_holders_less_the_requester() -> None:
    two_pmo = charter(members=1, owners=1, others=2)  # x0, x1 hold pmo
    assert g.escalation_deciders(gate(), BOARD, two_pmo) == ["x0", "x1"]
    assert g.escalation_deciders(gate(), BOARD, two_pmo, requester="x0") == ["x1"]
    t = g.tally(gate(), two_pmo, [Vote("x0", "approve", "board")], "x0", BOARD)
    assert (t.eligible, t.outcome) == (["x1"], None)
    # Without four eyes the requester decides like anybody else.
    lenient = gate().model_copy(update={"forbid_self_approval": False})
    assert g.escalation_deciders(lenient, BOARD, two_pmo, requester="x0") == ["x0", "x1"]


def test_escalation_deciders_of_the_built_in_model(
    projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    idea = projektflodet.phases[0].gate
    portfolio = projektflodet.level("portfolio")
    assert g.escalation_deciders(idea, portfolio, pf_charter, "david") == ["gustav"]
    assert g.escalation_deciders(idea, projektflodet.level("board"), pf_charter) == ["anna"]


def test_nobody_to_decide_never_passes_a_gate() -> None:
    # The requester as the only approver: the quorum over nobody was 0 and any vote (even a
    # reject) passed the gate. Now it needs at least one approval it cannot get.
    alone = charter(members=1, owners=0, others=0)
    t = g.tally(gate("all"), alone, votes(m0="reject"), requester="m0")
    assert (t.eligible, t.needed, t.approvals) == ([], 1, 0)
    assert t.outcome != "approve"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25))
def test_majority_quorum_is_floor_half_plus_one(n: int) -> None:
    c = charter(members=n, owners=0, others=0)
    t = g.tally(gate("majority"), c, [])
    assert t.needed == n // 2 + 1
    assert t.needed > n / 2 and t.needed - 1 <= n / 2  # the smallest strict majority


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.data())
def test_quorum_rules_agree_with_a_plain_count(n: int, data: st.DataObject) -> None:
    rule = data.draw(
        st.sampled_from(["all", "majority"]) | st.builds(g.AtLeast, at_least=st.integers(1, n))
    )
    decisions = data.draw(
        st.lists(st.sampled_from(["approve", "reject", "rework", None]), min_size=n, max_size=n)
    )
    c = charter(members=n, owners=0, others=0)
    cast = [Vote(f"m{i}", d) for i, d in enumerate(decisions) if d is not None]
    t = g.tally(gate(rule), c, cast)
    quorum = {"all": n, "majority": n // 2 + 1}
    needed = rule.at_least if isinstance(rule, g.AtLeast) else quorum[rule]
    approvals = decisions.count("approve")
    open_ = decisions.count(None)
    assert (t.needed, t.approvals) == (needed, approvals)
    if approvals >= needed:
        assert t.outcome == "approve"
    elif approvals + open_ >= needed:
        assert t.outcome is None
    else:
        no = "reject" if decisions.count("reject") > decisions.count("rework") else "rework"
        assert t.outcome == no


def test_four_eyes_requester_is_left_out_of_the_quorum_and_cannot_block_it() -> None:
    # m0 requested the gate: under "all" the others (m1, o0) must approve, and m0's no-vote
    # neither counts towards the quorum nor makes it unreachable.
    t = g.tally(gate("all"), C, votes(m0="rework", m1="approve"), requester="m0")
    assert (t.eligible, t.needed, t.approvals, t.outcome) == (["m1", "o0"], 2, 1, None)
    t = g.tally(gate("all"), C, votes(m0="rework", m1="approve", o0="approve"), requester="m0")
    assert t.outcome == "approve"
    t = g.tally(gate("all"), C, votes(m1="approve", o0="reject"), requester="m0")
    assert t.outcome == "reject"


def test_four_eyes_requester_neither_vetoes_a_required_role_nor_tips_the_tie() -> None:
    # o0 and o1 own; o0 requested. o0's reject used to complete the required role's veto
    # together with o1's; and to tip the no-votes from rework to reject.
    owners = charter(members=2, owners=2, others=0)
    g_req = gate("majority", ("owner",))
    t = g.tally(g_req, owners, votes(o0="reject", o1="approve", m0="approve"), requester="o0")
    assert (t.required_missing, t.outcome) == ([], "approve")
    t = g.tally(g_req, owners, votes(o0="reject", m0="rework", m1="rework"), requester="o0")
    assert (t.approvals, t.outcome) == (0, "rework")
    # Without four eyes, the same requester's vote counts like any other.
    lenient = g_req.model_copy(update={"forbid_self_approval": False})
    t = g.tally(lenient, owners, votes(o0="reject", o1="reject"), requester="o0")
    assert t.outcome == "reject"


def test_a_person_holding_two_approver_roles_counts_once() -> None:
    both = g.Charter.model_validate(
        C.model_dump() | {"people": [{"id": "b", "name": "B", "roles": ["member", "owner"]}]}
    )
    t = g.tally(gate("all", ("owner",)), both, votes(b="approve"))
    assert (t.eligible, t.needed, t.approvals, t.outcome) == (["b"], 1, 1, "approve")


# -- advice: the rule's consult roles vote, and it is recorded but never counted ------------------

ADVISED = g.Gate(
    approvers=["owner"],
    consult=["member", "pmo"],
    rule="all",
    required=["owner"],
    sla="P10D",
    escalate_to="board",
)


def advice(**decisions: str) -> list[Vote]:
    return [Vote(actor, decision, counted=False) for actor, decision in decisions.items()]


def test_advisers_are_the_consult_role_holders_who_do_not_approve() -> None:
    assert g.advisers(ADVISED, C) == ["m0", "m1", "x0"]
    assert g.gate_voters(ADVISED, C) == ["o0"]
    assert g.advisers(ADVISED, C, requester="m0") == ["m1", "x0"]  # four eyes
    lenient = ADVISED.model_copy(update={"forbid_self_approval": False})
    assert g.advisers(lenient, C, requester="m0") == ["m0", "m1", "x0"]
    assert g.advisers(gate(), C) == []  # no consult: nobody advises


def test_advice_against_does_not_block_and_the_approver_decides() -> None:
    t = g.tally(ADVISED, C, advice(m0="reject", m1="rework", x0="reject"))
    assert (t.eligible, t.needed, t.approvals, t.required_missing, t.outcome) == (
        ["o0"], 1, 0, ["owner"], None,
    )  # fmt: skip
    t = g.tally(ADVISED, C, [*advice(m0="reject", x0="reject"), Vote("o0", "approve")])
    assert (t.approvals, t.outcome) == (1, "approve")
    t = g.tally(ADVISED, C, [*advice(m0="approve", m1="approve"), Vote("o0", "reject")])
    assert (t.approvals, t.outcome) == (0, "reject")


def test_advice_in_favour_never_passes_a_decision() -> None:
    t = g.tally(ADVISED, C, advice(m0="approve", m1="approve", x0="approve"))
    assert (t.approvals, t.outcome) == (0, None)


def test_a_vote_marked_as_advice_does_not_count_even_from_an_approver() -> None:
    # The workflow marks only advisers' votes so; the tally does not trust the actor alone.
    t = g.tally(ADVISED, C, [Vote("o0", "approve", counted=False)])
    assert (t.approvals, t.outcome) == (0, None)
    t = g.tally(ADVISED, C, [Vote("x0", "approve", "board", counted=False)], level=BOARD)
    assert t.outcome is None


def test_who_holds_an_approver_and_a_consult_role_decides_and_is_counted() -> None:
    both = g.Charter.model_validate(
        C.model_dump()
        | {
            "people": [
                {"id": "b", "name": "B", "roles": ["owner", "member"]},
                {"id": "m", "name": "M", "roles": ["member"]},
            ]
        }
    )
    assert (g.gate_voters(ADVISED, both), g.advisers(ADVISED, both)) == (["b"], ["m"])
    t = g.tally(ADVISED, both, [*advice(m="reject"), Vote("b", "approve")])
    assert (t.approvals, t.outcome) == (1, "approve")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_advice_never_changes_the_tally(data: st.DataObject) -> None:
    rule = data.draw(
        st.sampled_from(["all", "majority"]) | st.builds(g.AtLeast, at_least=st.integers(1, 2))
    )
    advised = ADVISED.model_copy(
        update={"rule": rule, "approvers": ["owner", "member"], "consult": ["pmo"]}
    )
    decision = st.sampled_from(["approve", "reject", "rework"])
    voted = data.draw(st.dictionaries(st.sampled_from(["m0", "m1", "o0"]), decision))
    advised_by = data.draw(st.dictionaries(st.sampled_from(["x0", "m0", "o0"]), decision))
    cast = [Vote(p, d) for p, d in voted.items()]
    told = [Vote(p, d, counted=False) for p, d in advised_by.items()]
    mixed = data.draw(st.permutations([*cast, *told]))
    assert g.tally(advised, C, mixed) == g.tally(advised, C, cast)


def test_a_substitutes_vote_is_the_delegators_and_one_person_casts_one() -> None:
    # m1 casts m0's vote as m0's substitute: it is m0's in the count.
    t = g.tally(gate("all"), C, [Vote("m0", "approve", by="m1")])
    assert (t.approvals, t.outcome) == (1, None)
    # m1 voting for themselves too would be a second vote of one person: it counts for nothing.
    cast = [Vote("m0", "approve", by="m1"), Vote("m1", "approve"), Vote("o0", "approve")]
    t = g.tally(gate("all"), C, cast)
    assert (t.approvals, t.outcome) == (2, None)
    # Cast the other way round (own vote first), the same.
    cast = [Vote("m1", "approve"), Vote("m0", "approve", by="m1"), Vote("o0", "approve")]
    assert g.tally(gate("all"), C, cast).approvals == 2
