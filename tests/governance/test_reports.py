"""Exception and highlight reports: PRINCE2's content derived from the figures, the
recommendation rule, the change-budget cause, and a deterministic Markdown rendering."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

import governance as g
from tests.governance.gov_cases import P2_CHARTER

MODEL = g.builtin_model("prince2")
CHARTER = g.parse_charter(P2_CHARTER)  # budget 1,400,000 EUR, 180 items, 2027-02-01..12-17
AT = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
TOLERANCES = g.effective_tolerances(MODEL, CHARTER, {})


def control(actual_cost: float, earned: float) -> tuple[g.EarnedValue, g.RagReport]:
    ev = g.earned_value(CHARTER.baseline, date(2027, 6, 1), actual_cost, earned)
    figures = g.ControlFigures(earned_value=ev, total_scope=180)
    return ev, g.rag(TOLERANCES, MODEL.tolerances.amber_at, figures)


def reds(rag: g.RagReport, level: str) -> list[g.AspectStatus]:
    return [s for s in rag.levels[level].values() if s.colour == "red"]


def test_a_stage_cost_breach_goes_to_the_board_and_recommends_a_plan() -> None:
    ev, rag = control(actual_cost=620_000, earned=72)  # EAC 1.55 M: 10.7 % over; stage 5 %
    breaches = reds(rag, "stage")
    assert [b.aspect for b in breaches] == ["cost"]
    report = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-1", raised_at=AT, level="stage",
        breaches=breaches, figures=ev, rag=rag, lessons=["Estimate integration work"],
    )  # fmt: skip
    assert (report.to_level, report.to_role) == ("board", "executive")
    assert report.title == "Exception: cost forecast outside the stage tolerance"
    cause = report.cause[0]
    assert isinstance(cause, g.Breach)
    assert cause.text.startswith("cost: forecast deviation 10.7% against a stage tolerance of 5.0%")
    assert [o.option for o in report.options] == ["approve_plan", "widen_tolerance", "close"]
    assert "cost to at least 10.7%" in report.options[1].effect
    assert "Closing a project" in report.options[2].effect
    assert report.recommendation.option == "approve_plan"  # 214 % of the tolerance used
    assert "more than 150% of its tolerance (cost 214%)" in report.recommendation.reason
    cost = "Cost: forecast at completion (EAC) 1,550,000.00 EUR against the budget (BAC) "
    assert f"{cost}1,400,000.00 EUR, 150,000.00 EUR over budget." in report.consequences
    assert report.lessons == ["Estimate integration work"]
    assert report.rag["cost"] == "red"


def test_a_small_breach_recommends_widening_the_tolerance() -> None:
    ev, rag = control(actual_cost=580_000, earned=72)  # EAC 1.45 M: 3.6 % over
    tight = {"stage": g.Tolerances(cost=3)}  # used: 119 %
    rag = g.rag(tight, 80, g.ControlFigures(earned_value=ev, total_scope=180))
    report = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-2", raised_at=AT, level="stage",
        breaches=reds(rag, "stage"), figures=ev, rag=rag,
    )  # fmt: skip
    assert report.recommendation.option == "widen_tolerance"
    assert (
        "Every breach uses at most 150% of its tolerance (cost 119%)"
        in report.recommendation.reason
    )


def test_a_project_breach_goes_above_the_board_to_corporate() -> None:
    ev, rag = control(actual_cost=700_000, earned=72)
    report = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-3", raised_at=AT, level="project",
        breaches=reds(rag, "project"), figures=ev, rag=rag,
    )  # fmt: skip
    assert (report.to_level, report.to_role) == ("corporate", "corporate")


def test_a_change_that_overdraws_the_change_budget_is_a_cause_of_its_own() -> None:
    change = g.ChangeOverdraw(
        id="ch-4", title="New tax rules", cost_impact=50_000, budget_left=12_000
    )
    report = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-4", raised_at=AT, level="stage",
        change=change,
    )  # fmt: skip
    assert report.title == "Exception: change ch-4 overdraws the change budget"
    assert report.cause[0].text == (
        "change ch-4 (New tax rules) costs 50,000.00, more than the 12,000.00 left in the "
        "change budget"
    )
    assert report.consequences[0].startswith("Change ch-4 costs 50,000.00 EUR, 38,000.00 EUR more")
    assert "No progress has been reported yet" in report.consequences[1]
    assert report.recommendation.option == "approve_plan"
    assert report.figures is None and report.rag == {}


def test_an_exception_report_needs_a_cause() -> None:
    with pytest.raises(ValueError, match="needs breaches or a change"):
        g.exception_report(
            model=MODEL, charter=CHARTER, exception_id="x", raised_at=AT, level="stage"
        )
    change = g.ChangeOverdraw(id="c", title="t", cost_impact=1, budget_left=0)
    with pytest.raises(ValueError, match="project, stage or work_package"):
        g.exception_report(
            model=MODEL, charter=CHARTER, exception_id="x", raised_at=AT, level="team",
            change=change,
        )  # fmt: skip
    with pytest.raises(ValueError, match="work package is given exactly"):
        g.exception_report(
            model=MODEL, charter=CHARTER, exception_id="x", raised_at=AT, level="work_package",
            change=change,
        )  # fmt: skip


def exception_content() -> dict[str, object]:
    ev, rag = control(actual_cost=620_000, earned=72)
    report = g.exception_report(
        model=MODEL, charter=CHARTER, exception_id="ex-1", raised_at=AT, level="stage",
        breaches=reds(rag, "stage"), figures=ev, rag=rag,
    )  # fmt: skip
    return report.model_dump(mode="json")


def test_exception_markdown_has_prince2s_headings_and_is_deterministic() -> None:
    content = exception_content()
    json.dumps(content, allow_nan=False)  # plain JSON: what the ledger keeps
    md = g.render_report("exception", content)
    assert md == g.render_report("exception", json.loads(json.dumps(content)))
    assert md.startswith("# Exception: cost forecast outside the stage tolerance\n")
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Cause", "## Consequences", "## Options", "## Recommendation", "## Lessons",
        "## RAG", "## Figures",
    ]  # fmt: skip
    assert "for decision by **executive** at level board" in md
    assert "| cost | RED |" in md
    assert "| EAC (BAC/CPI) | 1,550,000.00 |" in md
    assert "## Lessons\n- none\n" in md


def test_highlight_report_markdown() -> None:
    ev, rag = control(actual_cost=560_000, earned=72)  # EAC 1.4 M: on budget
    report = g.highlight_report(
        charter=CHARTER, number=3, period_start=date(2027, 5, 18), period_end=date(2027, 6, 1),
        reason="cadence", state="delivery_1", phase="delivery_1", rag=rag, forecast=ev,
        open_decisions=["change ch-2: formal, waiting for the board"],
        changes_since_last=["ch-1 Extra report: approved (minor)"],
    )  # fmt: skip
    assert report.worst == rag.worst
    md = g.render_report("highlight", report.model_dump(mode="json"))
    assert md.splitlines()[0] == "# Highlight report 3: Payroll platform migration"
    assert "period 2027-05-18 to 2027-06-01 (on the reporting cadence)" in md
    assert "State **delivery_1**, phase delivery_1." in md
    assert "- change ch-2: formal, waiting for the board" in md
    assert "- ch-1 Extra report: approved (minor)" in md


def test_a_highlight_before_any_progress_says_so() -> None:
    report = g.highlight_report(
        charter=CHARTER, number=1, period_start=date(2027, 2, 1), period_end=date(2027, 2, 15),
        reason="rag_change", state="starting_up", phase="starting_up", rag=None, forecast=None,
    )  # fmt: skip
    md = g.render_report("highlight", report.model_dump(mode="json"))
    assert "No RAG yet" in md and "No forecast yet" in md and "(on a change of RAG)" in md
    assert "## Open decisions\n- none\n" in md


def test_render_validates_the_content_first() -> None:
    with pytest.raises(ValidationError):
        g.render_report("highlight", {"project_id": "x"})
    with pytest.raises(ValueError, match="kind must be"):
        g.render_report("weekly", {})  # type: ignore[arg-type]
