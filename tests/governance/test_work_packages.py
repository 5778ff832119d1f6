"""Work packages: the charter's own checks and those against the model, the team level, the
work package's tolerances and baseline, its RAG and its exception report."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

import governance as g
from governance._reports import raised_level
from tests.governance.gov_cases import P2_CHARTER, P2_MODEL

MODEL = g.builtin_model("prince2")  # team (team_manager) < project (project_manager) < board
AT = datetime(2027, 4, 16, 9, 0, tzinfo=UTC)
IMPORT: dict[str, Any] = {
    "id": "wp-import",
    "title": "Import the register",
    "manager": "eva",  # team_manager
    "budget": 300_000,
    "scope": 60,
    "start": "2027-03-01",
    "planned_end": "2027-05-30",  # 90 days
}
PAYSLIPS: dict[str, Any] = {
    "id": "wp-payslips",
    "title": "Payslip templates",
    "manager": "eva",
    "budget": 200_000,
    "scope": 40,
    "start": "2027-04-01",
    "planned_end": "2027-07-30",
}
# The PRINCE2 example: 2027-02-01..2027-12-17, 1,400,000 EUR, 180 items.
CHARTER_DATA = {**P2_CHARTER, "work_packages": [IMPORT, PAYSLIPS]}
CHARTER = g.parse_charter(CHARTER_DATA)
PACKAGE = CHARTER.work_package("wp-import")
assert PACKAGE is not None


def charter(*packages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**P2_CHARTER, "work_packages": list(packages), **extra}


def issues_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(g.GovernanceError) as caught:
        g.parse_charter(data)
    return [(i.path, i.message) for i in caught.value.issues]


def model_without(edit: Any) -> g.GovernanceModel:
    data = copy.deepcopy(P2_MODEL)
    edit(data)
    return g.parse_model(data)


NO_TEAM = model_without(lambda d: d["escalation"].pop(0))
NO_WP_TOLERANCES = model_without(lambda d: d["tolerances"].pop("work_package"))


# -- the charter on its own -------------------------------------------------------------------


def test_a_charter_with_work_packages_is_sound_with_its_model() -> None:
    assert [w.id for w in CHARTER.work_packages] == ["wp-import", "wp-payslips"]
    assert CHARTER.work_package("wp-payslips") == CHARTER.work_packages[1]
    assert CHARTER.work_package("wp-none") is None
    assert g.check_charter(CHARTER, MODEL) == []
    assert g.parse_charter(P2_CHARTER).work_packages == []  # none by default


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        (
            [IMPORT, {**PAYSLIPS, "id": "wp-import"}],
            ("work_packages[1].id", 'duplicate work package "wp-import"'),
        ),
        (
            [{**IMPORT, "manager": "zed"}],
            ("work_packages[0].manager", '"zed" is not in people'),
        ),
        (
            [{**IMPORT, "planned_end": "2027-03-01"}],
            ("work_packages[0].planned_end", "must be after its start (2027-03-01)"),
        ),
        (
            [{**IMPORT, "start": "2027-01-15"}],
            (
                "work_packages[0].start",
                "must lie between baseline.start (2027-02-01) and baseline.planned_end "
                "(2027-12-17), got 2027-01-15",
            ),
        ),
        (
            [{**IMPORT, "planned_end": "2028-01-10"}],
            (
                "work_packages[0].planned_end",
                "must lie between baseline.start (2027-02-01) and baseline.planned_end "
                "(2027-12-17), got 2028-01-10",
            ),
        ),
    ],
)
def test_each_mistake_in_a_work_package_is_one_issue(
    packages: list[dict[str, Any]], expected: tuple[str, str]
) -> None:
    assert issues_of(charter(*packages)) == [expected]


def test_budgets_together_may_not_exceed_the_projects() -> None:
    big = {**IMPORT, "budget": 1_000_000}
    more = {**PAYSLIPS, "id": "wp-more", "budget": 300_000}
    assert g.parse_charter(charter(big, PAYSLIPS, {**more, "budget": 200_000}))  # exactly at it
    assert issues_of(charter(big, PAYSLIPS, more, {**more, "id": "wp-last"})) == [
        (
            "work_packages[2].budget",
            "brings the work packages' budgets to 1500000, over baseline.budget (1400000)",
        )
    ]  # named once, at the package that crosses the line


def test_scopes_together_may_not_exceed_the_projects() -> None:
    assert g.parse_charter(charter({**IMPORT, "scope": 140}, PAYSLIPS))  # 180 of 180
    assert issues_of(charter({**IMPORT, "scope": 141}, PAYSLIPS)) == [
        (
            "work_packages[1].scope",
            "brings the work packages' scopes to 181 items, over baseline.scope.amount (180)",
        )
    ]


def test_at_most_fifty_work_packages() -> None:
    packages = [{**IMPORT, "id": f"wp-{i}", "budget": 1, "scope": 1} for i in range(51)]
    with pytest.raises(g.GovernanceError) as caught:
        g.parse_charter(charter(*packages))
    assert [i.path for i in caught.value.issues] == ["work_packages"]


# -- the charter against its model ------------------------------------------------------------


def test_the_team_level_is_just_below_the_project_managers() -> None:
    team = MODEL.team_level()
    assert team is not None and (team.id, team.role) == ("team", "team_manager")
    pf = g.builtin_model("projektflodet").team_level()
    assert pf is not None and (pf.id, pf.role) == ("team", "teamledare")
    assert NO_TEAM.team_level() is None  # the project manager's level is the lowest


def test_a_manager_holds_the_team_level_role() -> None:
    data = charter({**IMPORT, "manager": "dev"}, PAYSLIPS)  # dev: project_manager
    assert [(i.path, i.message) for i in g.check_charter(g.parse_charter(data), MODEL)] == [
        (
            "work_packages[0].manager",
            '"dev" does not hold the role "team_manager" (team managers decide at escalation '
            "level team)",
        )
    ]


def test_without_a_team_level_the_project_manager_runs_work_packages() -> None:
    by_dev = g.parse_charter(charter({**IMPORT, "manager": "dev"}))
    assert g.check_charter(by_dev, NO_TEAM) == []
    assert [(i.path, i.message) for i in g.check_charter(CHARTER, NO_TEAM)] == [
        (
            f"work_packages[{i}].manager",
            '"eva" does not hold the role "project_manager" (prince2@2.0 has no level below '
            "the project manager's)",
        )
        for i in (0, 1)
    ]


def test_work_packages_need_the_models_work_package_tolerances() -> None:
    assert [(i.path, i.message) for i in g.check_charter(CHARTER, NO_WP_TOLERANCES)] == [
        ("work_packages", "prince2@2.0 has no work_package tolerances to run work packages within")
    ]
    assert g.check_charter(g.parse_charter(P2_CHARTER), NO_WP_TOLERANCES) == []


def test_work_package_tolerance_overrides_still_checked() -> None:
    tight = g.parse_charter({**CHARTER_DATA, "tolerances": {"work_package": {"cost": "1%"}}})
    assert g.check_charter(tight, MODEL) == []
    wide = g.parse_charter({**CHARTER_DATA, "tolerances": {"work_package": {"cost": "4%"}}})
    assert [i.path for i in g.check_charter(wide, MODEL)] == ["tolerances.work_package.cost"]


# -- tolerances, baseline, earned value, RAG --------------------------------------------------


def test_package_tolerances_model_then_charter_then_widened() -> None:
    assert g.package_tolerances(MODEL, CHARTER, None) == MODEL.tolerances.work_package
    tight = g.parse_charter(
        {**CHARTER_DATA, "tolerances": {"work_package": {"cost": "1%", "time": "P1D"}}}
    )
    eff = g.package_tolerances(MODEL, tight, g.Tolerances(cost=6))
    assert eff == g.Tolerances(time=timedelta(days=1), cost=6, scope=2, quality=2)
    assert g.package_tolerances(NO_WP_TOLERANCES, g.parse_charter(P2_CHARTER), None) is None


def test_a_work_package_baseline_feeds_earned_value() -> None:
    baseline = PACKAGE.baseline(CHARTER.baseline)
    assert baseline == g.Baseline(
        start=date(2027, 3, 1),
        planned_end=date(2027, 5, 30),
        budget=300_000,
        currency="EUR",
        scope=g.Scope(unit="items", amount=60),
        team_size=1,
    )
    ev = g.earned_value(baseline, date(2027, 4, 15), 165_000, 30)  # day 45 of 90, half earned
    assert (ev.bac, ev.pv, ev.ev, ev.ac) == (300_000, 150_000, 150_000, 165_000)
    assert ev.spi == 1 and ev.forecast_end == date(2027, 5, 30)
    assert ev.eac == pytest.approx(330_000)


def package_control() -> tuple[g.EarnedValue, g.RagReport]:
    ev = g.earned_value(PACKAGE.baseline(CHARTER.baseline), date(2027, 4, 15), 165_000, 30)
    tolerances = g.package_tolerances(MODEL, CHARTER, None)
    assert tolerances is not None
    figures = g.ControlFigures(earned_value=ev, total_scope=PACKAGE.scope)
    return ev, g.rag({"work_package": tolerances}, MODEL.tolerances.amber_at, figures)


def test_rag_at_the_work_package_level() -> None:
    _, report = package_control()
    assert list(report.levels) == ["work_package"]
    statuses = report.levels["work_package"]
    assert list(statuses) == ["time", "cost", "scope", "quality"]  # its tolerances only
    cost = statuses["cost"]
    assert (cost.level, cost.colour, cost.deviation, cost.tolerance) == (
        "work_package",
        "red",
        pytest.approx(10),
        2,
    )
    assert statuses["time"].colour == "green" and statuses["time"].tolerance == 3
    assert report.by_aspect == {
        "time": "green",
        "cost": "red",
        "scope": "green",
        "quality": "green",
    }
    assert report.worst == "red"


# -- the exception report ---------------------------------------------------------------------


def package_report(model: g.GovernanceModel = MODEL) -> g.ExceptionReport:
    ev, report = package_control()
    return g.exception_report(
        model=model, charter=CHARTER, exception_id="ex-wp-1", raised_at=AT,
        level="work_package", package=PACKAGE, figures=ev, rag=report,
        breaches=[s for s in report.levels["work_package"].values() if s.colour == "red"],
    )  # fmt: skip


def test_a_work_package_exception_is_raised_at_the_team_level() -> None:
    assert raised_level(MODEL, "work_package") == "team"
    assert raised_level(NO_TEAM, "work_package") == "project"  # the project manager's
    assert raised_level(MODEL, "stage") == "project"


def test_a_work_package_exception_report_names_the_package_and_goes_to_the_manager() -> None:
    r = package_report()
    assert r.title == (
        "Exception: cost forecast outside the tolerance of work package wp-import "
        "(Import the register)"
    )
    assert (r.level, r.to_level, r.to_role) == ("work_package", "project", "project_manager")
    assert r.work_package == g.PackageRef(
        id="wp-import", title="Import the register", manager="eva"
    )
    assert r.cause[0].text.startswith(
        "cost: forecast deviation 10.0% against a work_package tolerance of 2.0%"
    )
    assert [o.option for o in r.options] == ["approve_plan", "widen_tolerance", "close"]
    effects = [o.effect for o in r.options]
    assert effects[0].startswith("An exception plan becomes the new baseline of work package ")
    assert effects[1] == (
        "The tolerance of work package wp-import is widened (cost to at least 10.0%); its "
        "baseline stays, and who widened it and why is recorded."
    )
    assert effects[2] == (
        "Work package wp-import is closed; what is spent on it stays spent, and the project "
        "goes on."
    )
    assert r.consequences[0] == (
        "Cost: forecast at completion (EAC) 330,000.00 EUR against the budget (BAC) "
        "300,000.00 EUR, 30,000.00 EUR over budget."
    )
    assert r.consequences[-1] == (
        "If nothing is done, work package wp-import goes on outside the tolerances it was given."
    )
    assert r.recommendation.option == "approve_plan"  # 500 % of the tolerance used


def test_without_a_team_level_a_work_package_exception_goes_to_the_board() -> None:
    r = package_report(NO_TEAM)
    assert (r.to_level, r.to_role) == ("board", "executive")


def test_a_work_package_exception_renders_from_its_content() -> None:
    content = package_report().model_dump(mode="json")
    assert content["work_package"] == {
        "id": "wp-import",
        "title": "Import the register",
        "manager": "eva",
    }
    md = g.render_report("exception", json.loads(json.dumps(content)))
    assert md.startswith(
        "# Exception: cost forecast outside the tolerance of work package wp-import "
        "(Import the register)\n"
    )
    assert (
        "raised 2027-04-16T09:00:00+00:00 at the tolerance of work package wp-import (Import "
        "the register), run by eva; for decision by **project_manager** at level project." in md
    )
    assert "**close**: Work package wp-import is closed" in md


def test_a_stage_exception_keeps_its_content_without_a_work_package() -> None:
    ev, report = package_control()
    stage = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-1", raised_at=AT, level="stage",
        breaches=[report.levels["work_package"]["cost"].model_copy(update={"level": "stage"})],
        figures=ev,
    )  # fmt: skip
    assert "work_package" not in stage.model_dump(mode="json")
    assert stage.title == "Exception: cost forecast outside the stage tolerance"
    assert "at the stage tolerance level; for decision by **executive**" in g.render_report(
        "exception", stage.model_dump(mode="json")
    )
    with pytest.raises(ValueError, match="work package is given exactly"):
        g.exception_report(
            model=MODEL, charter=CHARTER, exception_id="ex-1", raised_at=AT, level="stage",
            package=PACKAGE,
            change=g.ChangeOverdraw(id="c", title="t", cost_impact=1, budget_left=0),
        )  # fmt: skip
