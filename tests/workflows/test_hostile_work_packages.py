"""Hostile review of work-package management by exception (issue 7): each test states what
the product should do; a failing test is a finding."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import governance as g
from governance.messages import ExceptionPlan
from tests.workflows.scenario import Project, Scenario
from tests.workflows.test_control import DURATION, START_DAYS_AGO, decide_exception, report

WP = "wp-import"


async def begun(
    scenario: Scenario,
    charter: g.Charter,
    model: g.GovernanceModel,
    *,
    people: dict[str, list[str]] | None = None,
    manager: str = "eva",
    **kw: Any,
) -> Project:
    now = (await scenario.harness.env.get_current_time()).date()
    start = now - timedelta(days=START_DAYS_AGO)
    baseline = charter.baseline.model_copy(
        update={"start": start, "planned_end": start + timedelta(days=DURATION)}
    )
    data = charter.model_dump(mode="json") | {
        "baseline": baseline.model_dump(mode="json"),
        "work_packages": [
            {
                "id": WP,
                "title": "Import the register",
                "manager": manager,
                "budget": "200000",
                "scope": 40,
                "start": start.isoformat(),
                "planned_end": (start + timedelta(days=100)).isoformat(),
            }
        ],
    }
    if people:
        data["people"] = [p | {"roles": people.get(p["id"], p["roles"])} for p in data["people"]]
    return await scenario.start(g.Charter.model_validate(data), model, **kw)


async def breach(p: Project, actor: str = "eva") -> None:
    # Day 30 of 100: EAC 210,000 is 5 % over the package's 2 % cost tolerance.
    await report(p, earned=12, cost=63_000, actor=actor, work_package=WP)


async def test_a_manager_who_is_also_project_manager_may_not_decide_their_own_packages_exception(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    # dev runs the work package as team manager and is the project manager as well: the
    # exception about dev's own package is raised by dev's report and lands at dev's level.
    p = await begun(
        scenario, p2_charter, prince2, manager="dev",
        people={"dev": ["project_manager", "team_manager"]},
    )  # fmt: skip
    await breach(p, "dev")
    # Four eyes: the person whose package breached (and who reported it) must not approve a
    # new baseline for it; with nobody else at the project manager's level, the board decides.
    st = await p.status()
    assert st.control is not None
    ex = st.control.packages[0].exception
    assert ex is not None and ex.level == "board"
    await p.refused(
        lambda: decide_exception(p, "dev", "approve_plan", plan=ExceptionPlan(budget=400_000)),
        "NotAuthorised",
    )


async def test_the_project_manager_does_not_decide_the_exception_their_own_report_raised(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    # The project manager may report eva's package; the breach that report raises is then
    # requested by dev and decided by dev alone (eligible == ["dev"]).
    p = await begun(scenario, p2_charter, prince2)
    await breach(p, "dev")
    st = await p.status()
    assert st.control is not None
    ex = st.control.packages[0].exception
    assert ex is not None and ex.decision is not None
    assert "dev" not in ex.decision.eligible


async def test_a_package_plan_may_not_reach_past_the_projects_own_baseline(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    # The charter refuses a work package outside the project's dates or over its budget; the
    # project manager's exception plan must not grant what the charter refuses (widening is
    # capped at the stage's tolerance, a plan is capped by nothing).
    p = await begun(scenario, p2_charter, prince2)
    await breach(p)
    st = await p.status()
    assert st.control is not None
    project_end = st.control.baseline.planned_end
    await p.refused(
        lambda: decide_exception(
            p,
            "dev",
            "approve_plan",
            plan=ExceptionPlan(budget=9_000_000_000, planned_end=project_end + timedelta(days=900)),
        ),
        "InvalidBaseline",
    )


async def test_closing_the_project_early_withdraws_its_work_packages_open_exceptions(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await begun(scenario, p2_charter, prince2)
    await breach(p)  # EX-1: the work package's, with dev
    # The project's own cost breach (EAC 7.1 % over, past the stage's 5 %): EX-2, the board's.
    st = await report(p, earned=18, cost=150_000, actor="dev")
    assert st.control is not None and st.control.exception is not None
    assert st.control.exception.id == "EX-2"
    st = await decide_exception(p, "ada", "close", exception_id="EX-2")
    assert st.state == "closing"
    # Like the open changes, the work package's exception asks nobody any more.
    assert st.control is not None and st.control.packages[0].exception is None
    assert [d.id for d in st.decisions if d.kind == "exception"] == []
    open_tasks = [t for t in p.tasks() if t.gate == "exception/EX-1" and t.status == "open"]
    assert open_tasks == []


async def test_allowed_actions_offers_a_package_manager_the_report_they_may_send(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await begun(scenario, p2_charter, prince2)
    await breach(p)  # accepted: eva may report her package
    assert "report_progress" in await p.allowed("eva")
