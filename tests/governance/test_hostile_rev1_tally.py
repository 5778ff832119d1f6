"""Hostile review rev1: the pure count of a decision with substitutes' votes in it. The
workflow refuses a second vote for one person before it is recorded; the count is said to hold
the rule on its own too (``one_each``), so a vote cast twice for one person must not let the
later one overwrite the first."""

from __future__ import annotations

import governance as g
from tests.governance.test_gov_tally import C, Vote, gate


def test_a_delegators_own_vote_is_not_overwritten_by_their_substitutes_later_one() -> None:
    """m0 rejects; then m1 casts m0's vote again as m0's substitute (approve): one person,
    one vote per decision, so m0's first vote stands and the gate is not passed by it."""
    cast = [
        Vote("m0", "reject"),
        Vote("m0", "approve", by="m1"),
        Vote("m1", "approve"),  # m1's second vote (after m0's): nothing
        Vote("o0", "approve"),
    ]
    t = g.tally(gate("all"), C, cast)
    # m0's own reject counts; the later approve cast for m0 is a second vote of m0's.
    assert t.approvals == 1 and t.outcome == "reject", t


def test_a_substitute_of_two_delegators_counts_once_whatever_the_order() -> None:
    """m1 is the substitute of m0 and of o0: only the first vote m1 casts counts."""
    cast = [Vote("m0", "approve", by="m1"), Vote("o0", "approve", by="m1")]
    t = g.tally(gate("all"), C, cast)
    assert (t.approvals, t.outcome) == (1, None)
    cast = [Vote("o0", "approve", by="m1"), Vote("m0", "approve", by="m1")]
    assert g.tally(gate("all"), C, cast).approvals == 1


def test_advice_relayed_by_a_substitute_does_not_use_up_their_vote_in_the_count() -> None:
    """Advice (not counted) cast by m1 for someone takes nothing from m1's own vote."""
    cast = [Vote("x0", "reject", counted=False, by="m1"), Vote("m1", "approve")]
    assert g.tally(gate({"at_least": 1}), C, cast).approvals == 1
