"""RAG by hand: each aspect's deviation, and each colour boundary (exactly at the tolerance is
not red, just over it is; amber from amber_at of the tolerance used)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest

import governance as g
from tests.governance.gov_cases import P2_CHARTER

MODEL = g.builtin_model("prince2")  # amber_at 80 %; stage: P2W, 5 % each; project: P6W, 10 % ...
START, END = date(2027, 1, 1), date(2027, 4, 11)  # 100 days
BASELINE = g.Baseline(
    start=START, planned_end=END, budget=1000, scope=g.Scope(amount=100), team_size=1
)


def figures(cost_over: float = 0.0, **kwargs: Any) -> g.ControlFigures:
    """Half the scope earned on day 50 (SPI 1), at a cost that forecasts ``cost_over`` % over
    the budget (EAC = BAC x AC / EV)."""
    ev = g.earned_value(BASELINE, date(2027, 2, 20), 500 * (1 + cost_over / 100), 50)
    return g.ControlFigures(earned_value=ev, total_scope=100, **kwargs)


TOLERANCES = g.effective_tolerances(MODEL, g.parse_charter(P2_CHARTER), {})


def colours(f: g.ControlFigures, aspect: str, tolerances: Any = TOLERANCES) -> tuple[str, ...]:
    report = g.rag(tolerances, MODEL.tolerances.amber_at, f)
    return tuple(report.levels[level][aspect].colour for level in ("stage", "project"))


def test_on_plan_everything_is_green() -> None:
    report = g.rag(TOLERANCES, 80, figures(benefits_forecast=100))
    assert report.worst == "green"
    assert report.by_aspect == dict.fromkeys(g.ASPECTS, "green")
    assert list(report.levels) == ["project", "stage"]  # never work_package
    assert report.levels["stage"]["cost"].deviation == 0


@pytest.mark.parametrize(
    ("over", "stage", "project"),
    [
        (3.9, "green", "green"),
        (4, "amber", "green"),  # 80 % of the stage's 5 %
        (5, "amber", "green"),  # exactly at the tolerance: not red
        (5.01, "red", "green"),
        (8, "red", "amber"),  # 80 % of the project's 10 %
        (10, "red", "amber"),
        (10.5, "red", "red"),
    ],
)
def test_cost_compares_eac_with_the_budget(over: float, stage: str, project: str) -> None:
    assert colours(figures(over), "cost") == (stage, project)
    assert g.deviation("cost", figures(over)) == pytest.approx(over)


def test_a_cost_under_budget_deviates_by_nothing() -> None:
    assert g.deviation("cost", figures(-20)) == 0


@pytest.mark.parametrize(
    ("late", "stage", "project"),
    [(-10, "green", "green"), (11, "green", "green"), (12, "amber", "green"),
     (14, "amber", "green"), (15, "red", "green"), (34, "red", "amber"),
     (42, "red", "amber"), (43, "red", "red")],
)  # fmt: skip
def test_time_compares_the_later_forecast_end_with_the_planned_end(
    late: int, stage: str, project: str
) -> None:
    f = figures(velocity_end=END + timedelta(days=late))  # SPI 1 forecasts END itself
    assert colours(f, "time") == (stage, project)
    assert g.deviation("time", f) == max(late, 0)


def test_time_from_spi_alone() -> None:
    # 100 planned days at SPI 100/115: 115 days, 15 late; over the stage's 14.
    ev = g.earned_value(BASELINE, date(2027, 2, 20), 500, 50 * 100 / 115)
    f = g.ControlFigures(earned_value=ev, total_scope=100)
    assert g.deviation("time", f) == 15
    assert colours(f, "time") == ("red", "green")


def test_no_forecast_end_is_no_time_deviation_and_green() -> None:
    ev = g.earned_value(BASELINE, date(2027, 2, 20), 500, 0)  # SPI 0: no forecast end
    f = g.ControlFigures(earned_value=ev, total_scope=100)
    assert g.deviation("time", f) is None
    status = g.rag(TOLERANCES, 80, f).levels["stage"]["time"]
    assert (status.colour, status.used, status.tolerance) == ("green", None, 14)


def test_amber_exactly_at_amber_at() -> None:
    widened = g.effective_tolerances(
        MODEL, g.parse_charter(P2_CHARTER), {"stage": g.Tolerances(time="P10D")}
    )
    for late, colour in ((7, "green"), (8, "amber"), (10, "amber"), (11, "red")):
        f = figures(velocity_end=END + timedelta(days=late))
        assert colours(f, "time", widened)[0] == colour, late


@pytest.mark.parametrize(
    ("field", "value", "aspect", "stage", "project"),
    [
        ("added_scope", 3.9, "scope", "green", "green"),
        ("added_scope", 4, "scope", "amber", "amber"),  # project scope tolerance is 5 % too
        ("added_scope", 5, "scope", "amber", "amber"),
        ("added_scope", 6, "scope", "red", "red"),
        ("quality_scope", 3, "quality", "green", "green"),
        ("quality_scope", 4, "quality", "amber", "amber"),
        ("quality_scope", 5.5, "quality", "red", "red"),
        ("risk_exposure", 39, "risk", "green", "green"),  # of a budget of 1000: 3.9 %
        ("risk_exposure", 50, "risk", "amber", "green"),
        ("risk_exposure", 51, "risk", "red", "green"),
        ("risk_exposure", 101, "risk", "red", "red"),
        ("benefits_forecast", 110, "benefits", "green", "green"),
        ("benefits_forecast", 96, "benefits", "amber", "green"),
        ("benefits_forecast", 95, "benefits", "amber", "green"),
        ("benefits_forecast", 94, "benefits", "red", "green"),
        ("benefits_forecast", 89, "benefits", "red", "red"),
    ],
)
def test_scope_quality_risk_and_benefits(
    field: str, value: float, aspect: str, stage: str, project: str
) -> None:
    assert colours(figures(**{field: value}), aspect) == (stage, project)


def test_benefits_not_reported_is_no_deviation() -> None:
    assert g.deviation("benefits", figures()) is None


def test_a_zero_tolerance_is_red_at_any_deviation_and_green_at_none() -> None:
    zero = {"stage": g.Tolerances(cost=0)}
    on = g.rag(zero, 80, figures()).levels["stage"]["cost"]
    off = g.rag(zero, 80, figures(0.5)).levels["stage"]["cost"]
    assert (on.colour, on.used) == ("green", 0)
    assert (off.colour, off.used) == ("red", math.inf)


def test_the_report_names_the_worst_colour_per_aspect_and_overall() -> None:
    report = g.rag(TOLERANCES, 80, figures(4, added_scope=6))
    assert report.by_aspect["cost"] == "amber"
    assert report.by_aspect["scope"] == "red"
    assert report.worst == "red"
    stage = report.levels["stage"]["scope"]
    assert (stage.deviation, stage.tolerance, stage.used) == (6, 5, 1.2)


def test_effective_tolerances_model_then_charter_then_widened() -> None:
    charter = g.parse_charter(
        {**P2_CHARTER, "tolerances": {"project": {"cost": "8%"}, "stage": {"time": "P1W"}}}
    )
    widened = {"stage": g.Tolerances(cost=7), "project": g.Tolerances(time="P8W")}
    eff = g.effective_tolerances(MODEL, charter, widened)
    assert list(eff) == ["project", "stage"]
    assert (eff["project"].cost, eff["project"].time) == (8, timedelta(weeks=8))
    assert (eff["stage"].cost, eff["stage"].time) == (7, timedelta(weeks=1))
    assert eff["stage"].risk == MODEL.tolerances.stage.risk  # type: ignore[union-attr]


def test_unknown_aspect() -> None:
    with pytest.raises(ValueError, match="unknown aspect"):
        g.deviation("mood", figures())
