"""Work packages, the lowest level of management by exception, on the time-skipping server.

The PRINCE2 example with one work package for eva (team manager): "wp-import", 200,000 EUR and
40 items over the project's first 100 days, under PRINCE2's work-package tolerances (time P3D,
cost 2 %, scope 2 %, quality 2 %). A breach goes to the project manager's level (dev); the
project itself goes on.
"""

from __future__ import annotations

from datetime import timedelta

import governance as g
from governance import Tolerances
from governance.audit import EventKind
from governance.messages import ExceptionPlan
from tests.workflows.scenario import Project, Scenario
from tests.workflows.test_control import (
    DURATION,
    START_DAYS_AGO,
    decide_exception,
    report,
    reports,
    today,
)

WP = "wp-import"


async def started(scenario: Scenario, charter: g.Charter, model: g.GovernanceModel) -> Project:
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
                "manager": "eva",
                "budget": "200000",
                "scope": 40,
                "start": start.isoformat(),
                "planned_end": (start + timedelta(days=100)).isoformat(),
            }
        ],
    }
    return await scenario.start(g.Charter.model_validate(data), model)


async def test_a_work_package_breach_goes_to_the_project_manager_and_the_project_goes_on(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    await p.refused(
        lambda: report(p, earned=12, cost=63_000, actor="ben", work_package=WP), "NotAuthorised"
    )
    # Day 30 of 100: PV 60,000, EV 60,000, AC 63,000: EAC 210,000 is 5 % over its 2 %.
    st = await report(p, earned=12, cost=63_000, actor="eva", work_package=WP)
    assert st.state == "starting_up" and st.control is not None
    [pkg] = st.control.packages
    assert (pkg.id, pkg.manager, pkg.progress, pkg.worst) == (WP, "eva", 1, "red")
    assert pkg.forecast is not None and round(pkg.forecast.eac) == 210_000
    assert pkg.rag["cost"].colour == "red" and pkg.rag["time"].colour == "green"
    ex = pkg.exception
    assert ex is not None and (ex.package, ex.level, ex.aspects) == (WP, "project", ["cost"])
    assert ex.decision is not None and ex.decision.eligible == ["dev"]
    assert st.control.exception is None and st.rag == {}  # the project's own: untouched
    [content] = reports(p, "exception")
    assert WP in content["title"]
    raised = p.of_kind(EventKind.exception_raised)[-1]
    assert raised.payload["work_package"] == WP

    # The project manager decides; a widening past the stage's 5 % is not theirs to give.
    await p.refused(
        lambda: decide_exception(p, "dev", "widen_tolerance", tolerances=Tolerances(cost=4)),
        "StillBreached",
    )
    await p.refused(
        lambda: decide_exception(p, "dev", "widen_tolerance", tolerances=Tolerances(cost=6)),
        "InvalidDecision",
    )
    await p.refused(
        lambda: decide_exception(p, "eva", "approve_plan", plan=ExceptionPlan(budget=215_000)),
        "NotAuthorised",
    )
    st = await decide_exception(p, "dev", "approve_plan", plan=ExceptionPlan(budget=215_000))
    assert st.control is not None
    [pkg] = st.control.packages
    assert pkg.exception is None and pkg.baseline_version == 2 and pkg.worst == "green"
    assert pkg.baseline.budget == 215_000
    changed = p.of_kind(EventKind.baseline_changed)[-1]
    assert changed.payload["work_package"] == WP and changed.actor == "dev"
    p.assert_sound_ledger()


async def test_a_work_package_exception_nobody_decides_goes_up_and_closing_it_ends_its_reports(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    await report(p, earned=12, cost=63_000, actor="eva", work_package=WP)
    await p.sleep(days=3, hours=1)  # the project manager's level has P3D
    st = await p.status()
    assert st.control is not None
    ex = st.control.packages[0].exception
    assert ex is not None and (ex.level, ex.state) == ("board", "escalated")
    await p.refused(lambda: decide_exception(p, "dev", "close"), "NotAuthorised")
    st = await decide_exception(p, "ada", "close", comment="Buy the import instead")
    assert st.control is not None and st.control.packages[0].closed_by == "EX-1"
    assert st.state == "starting_up"
    await p.refused(
        lambda: report(p, earned=13, cost=64_000, actor="eva", work_package=WP),
        "WorkPackageClosed",
    )


async def test_bad_work_package_reports_are_refused_and_change_nothing(
    scenario: Scenario, prince2: g.GovernanceModel, p2_charter: g.Charter
) -> None:
    p = await started(scenario, p2_charter, prince2)
    now = await today(p)
    for kind, kw in (
        ("UnknownWorkPackage", {"work_package": "wp-nope"}),
        ("InvalidProgress", {"work_package": WP, "earned": 41}),
        ("InvalidProgress", {"work_package": WP, "benefits_forecast": 90}),
        ("InvalidProgress", {"work_package": WP, "as_of": now + timedelta(days=1)}),
    ):
        args = {"earned": 10, "cost": 50_000, "actor": "eva", **kw}
        await p.refused(lambda args=args: report(p, **args), kind)
