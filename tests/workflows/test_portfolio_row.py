"""The portfolio row a project keeps in its memo (what `project list` shows beside the search
attributes): the title and project managers, the earliest open deadline, the escalation
level, the hold and the outcome, current after each step and each timer; and the ids of the
people the charter names, whom a listing filters by."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

import governance as g
from phasegate import service
from phasegate.temporal import ROW_MEMO
from tests.workflows.scenario import Project, Scenario, eventually

SLACK = timedelta(minutes=1)


async def row(p: Project) -> dict[str, Any]:
    memo = await (await p.handle.describe()).memo()
    value = memo.get(ROW_MEMO)
    assert isinstance(value, dict)
    return value


async def row_when(p: Project, check: Any) -> dict[str, Any]:
    """The row once ``check(row)`` holds (the memo is written with the step's task)."""
    found: dict[str, Any] = {}

    async def holds() -> bool:
        nonlocal found
        found = await row(p)
        return bool(check(found))

    await eventually(holds)
    return found


async def test_the_row_follows_the_gate_its_escalation_the_hold_and_the_end(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    first = await row_when(p, lambda r: r["title"] == pf_charter.title)
    assert first["managers"] == ["david"]
    assert first["people"] == [person.id for person in pf_charter.people]
    assert (first["deadline"], first["level"], first["held_since"], first["outcome"]) == (
        None,
        None,
        None,
        None,
    )

    st = await p.request("david")
    assert st.gate is not None and st.gate.deadline is not None
    opened = await row_when(p, lambda r: r["deadline"] is not None)
    assert datetime.fromisoformat(opened["deadline"]) == st.gate.deadline

    await p.sleep(days=10, hours=1)  # past the SLA: the portfolio decides now
    escalated = await row_when(p, lambda r: r["level"] is not None)
    st = await p.status()
    assert st.gate is not None and st.gate.deadline is not None
    assert escalated["level"] == "portfolio"
    assert abs(datetime.fromisoformat(escalated["deadline"]) - st.gate.deadline) < SLACK

    st = await p.board("hold", "anna", "Budgetstopp")
    held = await row_when(p, lambda r: r["held_by"] is not None)
    assert held["held_by"] == "anna"
    assert st.held_since is not None
    assert datetime.fromisoformat(held["held_since"]) == st.held_since
    # The listing reads the same row (the test server has no visibility list): a held
    # project is never overdue.
    listed = service.ProjectRow(
        pf_charter.id, "idea", "", "hold", "running", **service.row_of_memo(held)
    )
    assert listed.held_by == "anna" and listed.title == pf_charter.title
    assert not listed.overdue(datetime.fromisoformat(held["deadline"]) + timedelta(days=1))

    await p.board("resume", "anna")
    resumed = await row_when(p, lambda r: r["held_by"] is None)
    assert resumed["held_since"] is None

    await p.board("cancel", "anna", "Ersatt")
    ended = await row_when(p, lambda r: r["outcome"] is not None)
    assert (ended["outcome"], ended["deadline"]) == ("cancelled", None)
    await p.record("portfolio_row")


async def test_the_row_names_the_charters_people_and_a_listing_filters_by_them(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await scenario.start(p2_charter, prince2)
    everyone = [person.id for person in p2_charter.people]
    first = await row_when(p, lambda r: "people" in r)
    assert first["people"] == everyone
    assert service.people_of_memo(first) == tuple(everyone)
    await p.request(first["managers"][0])
    opened = await row_when(p, lambda r: r["deadline"] is not None)
    assert opened["people"] == everyone  # kept as the row changes
    await p.record("portfolio_row_people")


@pytest.mark.parametrize(
    "raw",
    [None, "people", {}, {"title": "x"}, {"people": "anna"}, {"people": ["anna", 3]}],
    ids=["none", "text", "empty", "before-people", "not-a-list", "not-all-text"],
)
def test_a_row_that_does_not_name_its_people_says_so(raw: object) -> None:
    """None: the listing asks that project's `people` query instead of showing or hiding it."""
    assert service.people_of_memo(raw) is None


def test_a_row_naming_people_gives_them() -> None:
    assert service.people_of_memo({"people": ["anna", "bo"]}) == ("anna", "bo")
    assert service.people_of_memo({"people": []}) == ()
