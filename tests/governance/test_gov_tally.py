"""Counting gate votes: the rule's quorum, required roles' veto, impossible quorum, escalation."""

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


def test_an_escalated_vote_decides_alone() -> None:
    # A veto and a reached quorum both lose to the level that took the decision over.
    v = [*votes(m0="approve", m1="approve", o0="reject"), Vote("x0", "approve", "board")]
    assert g.tally(gate("majority", ("owner",)), C, v).outcome == "approve"
    v = [*votes(m0="approve", m1="approve"), Vote("x0", "rework", "board")]
    assert g.tally(gate("majority"), C, v).outcome == "rework"
    # The latest escalated vote counts (a higher level overrides a lower one).
    v = [Vote("x0", "approve", "board"), Vote("o0", "reject", "portfolio")]
    assert g.tally(gate(), C, v).outcome == "reject"


def test_escalation_deciders(projektflodet: g.GovernanceModel, pf_charter: g.Charter) -> None:
    assert g.escalation_deciders(projektflodet, pf_charter, ["portfolio"]) == ["gustav"]
    assert g.escalation_deciders(projektflodet, pf_charter, ["board", "portfolio"]) == [
        "anna", "gustav",
    ]  # fmt: skip
    assert g.escalation_deciders(projektflodet, pf_charter, []) == []


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
    assert (t.needed, t.approvals, t.outcome) == (2, 1, None)
    t = g.tally(gate("all"), C, votes(m0="rework", m1="approve", o0="approve"), requester="m0")
    assert t.outcome == "approve"
    t = g.tally(gate("all"), C, votes(m1="approve", o0="reject"), requester="m0")
    assert t.outcome == "reject"
