"""The escalation chain must place the project manager and the executive, or "up" cannot be
judged: found by review, a chain without the manager's level let a team lead alone pass a
gate whose approvers are the board (issue 14, item 2)."""

from __future__ import annotations

import pytest

import governance as g


@pytest.mark.parametrize(("drop", "what"), [("project", "project manager"), ("board", "executive")])
def test_a_chain_without_the_managers_or_the_executives_level_is_refused(
    projektflodet: g.GovernanceModel, drop: str, what: str
) -> None:
    data = projektflodet.model_dump(mode="json")
    data["escalation"] = [lvl for lvl in data["escalation"] if lvl["id"] != drop]
    for phase in data["phases"]:
        phase["gate"]["escalate_to"] = "team"  # the team lead would decide the board's gates
    with pytest.raises(g.GovernanceError) as info:
        g.parse_model(data)
    messages = [str(issue) for issue in info.value.issues]
    assert any(
        m.startswith(f"escalation: the {what}'s role \"") and "has no level in the chain" in m
        for m in messages
    ), messages
