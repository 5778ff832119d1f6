"""The control commands' own input: figures, dates, durations, risks as TITLE:PROB:IMPACT,
quality issues, change ids, tolerances and exception plan files. Every problem is refused
before anything is sent (no server runs here: a command that got past its input would say
that no dev server runs), names the option or the file, exits 2 (an option) or 1 (a file),
and leaves the folder as it was."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_support import cli, snapshot

from governance.messages import ExceptionPlan, QualityIssue, Risk
from phasegate import control
from phasegate.service import ProjectError

NO_SERVER = "error: no phasegate dev server runs for data dir"
PROGRESS = ["progress", "new-crm", "--as", "david"]
FIGURES = ["--as-of", "2027-03-31", "--actual-cost", "260000", "--earned-scope", "60"]
CHANGE = ["change", "request", "new-crm", "--as", "david", "--title", "Export to Excel"]
IMPACTS = ["--cost-impact", "10000", "--time-impact", "P3D"]
EXCEPTION = ["exception", "decide", "new-crm", "--as", "anna"]


def refused(tmp_path: Path, *args: str | Path, code: int = 2) -> str:
    """Run the command, show it exits ``code`` with nothing on stdout and nothing written;
    its stderr."""
    before = snapshot(tmp_path)
    result = cli(*args)
    assert result.exit_code == code, (args, result.output)
    assert result.stdout == ""
    assert NO_SERVER not in result.stderr
    assert snapshot(tmp_path) == before
    return result.stderr


def goes_on(*args: str | Path) -> None:
    """Good input: the command gets as far as connecting (and finds no server)."""
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(NO_SERVER), result.stderr


# -- progress -----------------------------------------------------------------------------------


def test_a_good_progress_report_goes_on_to_the_server() -> None:
    goes_on(
        *PROGRESS, *FIGURES,
        "--risk", "Supplier late: 0.3 : 50000", "--risk", "Key person leaves:25%:80000",
        "--quality-issue", "Import loses rows:12", "--benefits-forecast", "90",
        "--comment", "Cost is running ahead",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--as-of", "2027-02-30", "--actual-cost", "1", "--earned-scope", "1"],
            "--as-of 2027-02-30: not a date as YYYY-MM-DD (day is out of range for month)",
        ),
        (
            ["--as-of", "31/03/2027", "--actual-cost", "1", "--earned-scope", "1"],
            "--as-of 31/03/2027: not a date as YYYY-MM-DD",
        ),
        (
            ["--as-of", "2027-03-31T10:00", "--actual-cost", "1", "--earned-scope", "1"],
            "--as-of 2027-03-31T10:00: not a date as YYYY-MM-DD",
        ),
        (
            ["--as-of", "2027-03-31", "--actual-cost", "-5", "--earned-scope", "1"],
            "--actual-cost -5: must not be negative",
        ),
        (
            ["--as-of", "2027-03-31", "--actual-cost", "5", "--earned-scope", "-0.5"],
            "--earned-scope -0.5: must not be negative",
        ),
        (
            ["--as-of", "2027-03-31", "--actual-cost", "nan", "--earned-scope", "1"],
            "--actual-cost nan: must be a finite number",
        ),
        (
            ["--as-of", "2027-03-31", "--actual-cost", "1", "--earned-scope", "inf"],
            "--earned-scope inf: must be a finite number",
        ),
        (
            ["--as-of", "2027-03-31", "--actual-cost", "1e20", "--earned-scope", "1"],
            "--actual-cost 1e+20: must be at most 1e+13",
        ),
        (
            [*FIGURES, "--benefits-forecast", "-10"],
            "--benefits-forecast -10: must not be negative",
        ),
        (
            [*FIGURES, "--benefits-forecast", "2000"],
            "invalid request: --benefits-forecast: Input should be less than or equal to 1000",
        ),
    ],
    ids=[
        "impossible-date",
        "not-iso-date",
        "date-time",
        "negative-cost",
        "negative-scope",
        "nan-cost",
        "infinite-scope",
        "huge-cost",
        "negative-benefits",
        "huge-benefits",
    ],
)
def test_a_bad_figure_or_date_is_a_usage_error_naming_the_option(
    tmp_path: Path, args: list[str], message: str
) -> None:
    assert refused(tmp_path, *PROGRESS, *args) == f"error: {message}\n"


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (
            "Supplier late",
            'write it as "TITLE:PROBABILITY:IMPACT" (e.g. "Supplier late:0.3:50000")',
        ),
        ("Supplier late:0.3", 'write it as "TITLE:PROBABILITY:IMPACT"'),
        (":0.3:50000", 'write it as "TITLE:PROBABILITY:IMPACT"'),
        ("Supplier late:likely:50000", "the probability 'likely' is not a number"),
        ("Supplier late:1.5:50000", "the probability must be from 0 to 1 (or 0% to 100%)"),
        ("Supplier late:150%:50000", "the probability must be from 0 to 1 (or 0% to 100%)"),
        ("Supplier late:-0.1:50000", "the probability must be from 0 to 1"),
        ("Supplier late:0.3:", "the impact '' is not a number"),
        ("Supplier late:0.3:-1", "the impact must not be negative"),
        ("Supplier late:0.3:nan", "the impact must be a finite number"),
        ("Supplier late:0.3:1e20", "invalid request: impact: Input should be less than"),
        ("x" * 201 + ":0.3:1", "invalid request: title: String should have at most 200"),
    ],
    ids=[
        "no-colon",
        "one-colon",
        "no-title",
        "probability-text",
        "probability-above-1",
        "percent-above-100",
        "probability-negative",
        "impact-empty",
        "impact-negative",
        "impact-nan",
        "impact-huge",
        "title-long",
    ],
)
def test_a_malformed_risk_is_a_usage_error_naming_it(
    tmp_path: Path, risk: str, message: str
) -> None:
    stderr = refused(tmp_path, *PROGRESS, *FIGURES, "--risk", "Fine:0.1:100", "--risk", risk)
    assert stderr.startswith(f'error: --risk "{risk}": {message}'), stderr


@pytest.mark.parametrize(
    ("issue", "message"),
    [
        ("Import loses rows", 'write it as "TITLE:SCOPE" (e.g. "Import loses rows:12")'),
        (":12", 'write it as "TITLE:SCOPE"'),
        ("Import loses rows:many", "the scope 'many' is not a number"),
        ("Import loses rows:-3", "the scope must not be negative"),
    ],
    ids=["no-colon", "no-title", "scope-text", "scope-negative"],
)
def test_a_malformed_quality_issue_is_a_usage_error_naming_it(
    tmp_path: Path, issue: str, message: str
) -> None:
    stderr = refused(tmp_path, *PROGRESS, *FIGURES, "--quality-issue", issue)
    assert stderr.startswith(f'error: --quality-issue "{issue}": {message}'), stderr


def test_a_comment_with_control_characters_is_refused_and_shown_escaped(tmp_path: Path) -> None:
    stderr = refused(tmp_path, *PROGRESS, *FIGURES, "--comment", "late\x1b[2J")
    assert stderr == (
        "error: invalid request: --comment: must not contain control characters (other than "
        "newline and tab): found U+001B at position 4\n"
    )


def test_risks_read_title_probability_and_impact() -> None:
    assert control.parse_risk("Supplier: late: 0.3 :50000") == Risk(
        title="Supplier: late", probability=0.3, impact=50000
    )
    assert control.parse_risk("Key person leaves:25%:80000").probability == 0.25
    assert control.parse_quality_issue("Import: loses rows:12") == QualityIssue(
        title="Import: loses rows", scope=12
    )


def test_a_progress_report_is_the_update_input_with_its_figures() -> None:
    report = control.progress_report(
        "david",
        as_of=date(2027, 3, 31),
        actual_cost=260000,
        earned_scope=60,
        risks=[control.parse_risk("Supplier late:0.3:50000")],
        benefits_forecast=90,
    )
    assert (report.actor, report.as_of, report.actual_cost, report.earned_scope) == (
        "david",
        date(2027, 3, 31),
        260000,
        60,
    )
    assert report.benefits_forecast == 90 and len(report.risks) == 1


# -- change request and decide ------------------------------------------------------------------


def test_a_good_change_request_and_decision_go_on_to_the_server() -> None:
    goes_on(*CHANGE, *IMPACTS, "--scope-impact", "-4", "--reason", "Sales asked")
    goes_on(*CHANGE, "--cost-impact", "0", "--time-impact", "P0D")
    goes_on("change", "decide", "new-crm", "cr-2", "--as", "anna", "--decision", "approve")
    goes_on("change", "list", "new-crm", "--json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cost-impact", "-10000", "--time-impact", "P3D"],
            "--cost-impact -10000: must not be negative",
        ),
        (
            ["--cost-impact", "10000", "--time-impact", "5d"],
            "--time-impact 5d: not an ISO-8601 duration (e.g. P5D, P2W)",
        ),
        (
            ["--cost-impact", "10000", "--time-impact", "-P5D"],
            "--time-impact -P5D: not an ISO-8601 duration (e.g. P5D, P2W)",
        ),
        (
            [*IMPACTS, "--scope-impact", "nan"],
            "--scope-impact nan: must be a finite number",
        ),
        (
            [*IMPACTS, "--scope-impact", "-1e14"],
            "--scope-impact -1e+14: must be at most 1e+13",
        ),
        (
            [*IMPACTS, "--time-impact", "P1000Y"],
            "invalid request: --time-impact: must be at most P100Y (36500 days), got",
        ),
    ],
    ids=[
        "negative-cost",
        "bad-duration",
        "negative-duration",
        "nan-scope",
        "huge-descope",
        "long-duration",
    ],
)
def test_a_bad_impact_is_a_usage_error_naming_the_option(
    tmp_path: Path, args: list[str], message: str
) -> None:
    stderr = refused(tmp_path, *CHANGE, *args)
    assert stderr.startswith(f"error: {message}"), stderr


def test_a_change_needs_a_title_in_one_line(tmp_path: Path) -> None:
    base = ["change", "request", "new-crm", "--as", "david", *IMPACTS]
    assert refused(tmp_path, *base, "--title", "") == (
        "error: invalid request: --title: String should have at least 1 character\n"
    )
    stderr = refused(tmp_path, *base, "--title", "two\nlines")
    assert stderr.startswith("error: invalid request: --title: must not contain control")
    missing = cli(*base)
    assert missing.exit_code == 2 and "--title" in missing.stderr


@pytest.mark.parametrize("change", ["CR1", "CR-0", "CR-1234567", "EX-1", "1"])
def test_a_change_id_that_is_none_is_a_usage_error(tmp_path: Path, change: str) -> None:
    stderr = refused(
        tmp_path, "change", "decide", "new-crm", change, "--as", "anna", "--decision", "approve"
    )
    assert stderr == f"error: CHANGE_ID {change}: not a change id (CR-1, CR-2, ...)\n"


def test_a_change_decision_is_approve_or_reject(tmp_path: Path) -> None:
    for word in ("rework", "maybe"):
        before = snapshot(tmp_path)
        result = cli("change", "decide", "new-crm", "CR-1", "--as", "anna", "--decision", word)
        assert result.exit_code == 2
        assert "--decision" in result.stderr and NO_SERVER not in result.stderr
        assert snapshot(tmp_path) == before


def test_a_change_request_is_the_update_input_and_a_change_id_reads_in_capitals() -> None:
    change = control.change_request(
        "david", "Export", cost_impact=10000, time_impact=timedelta(days=3), scope_impact=-4
    )
    assert (change.cost_impact, change.time_impact, change.scope_impact) == (
        10000,
        timedelta(days=3),
        -4,
    )
    assert control.change_id(" cr-12 ") == "CR-12"


# -- exception decide ---------------------------------------------------------------------------


def plan_file(tmp_path: Path, text: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_exception_decisions_go_on_to_the_server(tmp_path: Path) -> None:
    plan = plan_file(tmp_path, "planned_end: 2027-11-30\nbudget: 1100000\n")
    goes_on(*EXCEPTION, "--decision", "approve-plan", "--plan", plan, "--comment", "ok")
    as_json = plan_file(tmp_path, '{"budget": 1100000, "scope": 250}', "plan.json")
    goes_on(*EXCEPTION, "--decision", "approve-plan", "--plan", as_json)
    goes_on(
        *EXCEPTION, "--decision", "widen", "--tolerance", "cost=35%", "--tolerance", "time=P6W",
        "--change-budget", "8",
    )  # fmt: skip
    goes_on(*EXCEPTION, "--decision", "widen", "--change-budget", "8")
    goes_on(*EXCEPTION, "--decision", "close", "--comment", "Stop here")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--decision", "approve-plan"], "--decision approve-plan needs --plan FILE (the new "),
        (["--decision", "widen"], "--decision widen needs --tolerance ASPECT=VALUE or --change-"),
        (
            ["--decision", "close", "--plan", "plan.yaml"],
            "--plan goes with --decision approve-plan, not close",
        ),
        (
            ["--decision", "close", "--tolerance", "cost=20%"],
            "--tolerance and --change-budget go with --decision widen, not close",
        ),
        (
            ["--decision", "approve-plan", "--plan", "plan.yaml", "--change-budget", "8"],
            "--tolerance and --change-budget go with --decision widen, not approve-plan",
        ),
        (
            ["--decision", "widen", "--tolerance", "cost"],
            '--tolerance "cost": write it as "ASPECT=VALUE" (e.g. "cost=15%", "time=P6W")',
        ),
        (
            ["--decision", "widen", "--tolerance", "colour=5%"],
            "--tolerance \"colour=5%\": unknown aspect 'colour' (time, cost, scope, quality, "
            "risk, benefits)",
        ),
        (
            ["--decision", "widen", "--tolerance", "cost=5%", "--tolerance", "cost=6%"],
            '--tolerance "cost=6%": cost is given twice',
        ),
        (
            ["--decision", "widen", "--tolerance", "cost=300%"],
            '--tolerance "cost=300%": must be a percentage from 0 to 100',
        ),
        (
            ["--decision", "widen", "--tolerance", "time=6w"],
            '--tolerance "time=6w": must be a non-negative ISO-8601 duration',
        ),
        (
            ["--decision", "widen", "--change-budget", "120"],
            "--change-budget 120: must be a percentage from 0 to 100",
        ),
    ],
    ids=[
        "plan-missing",
        "widen-empty",
        "plan-on-close",
        "tolerance-on-close",
        "budget-on-plan",
        "tolerance-no-equals",
        "tolerance-unknown",
        "tolerance-twice",
        "tolerance-percent",
        "tolerance-duration",
        "budget-percent",
    ],
)
def test_an_exception_decision_with_the_wrong_options_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    plan_file(tmp_path, "budget: 1100000\n")
    monkeypatch.chdir(tmp_path)
    stderr = refused(tmp_path, *EXCEPTION, *args)
    assert stderr.startswith(f"error: {message}"), stderr


def test_an_exception_decision_word_is_one_of_three(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    result = cli(*EXCEPTION, "--decision", "approve_plan")
    assert result.exit_code == 2
    assert "--decision" in result.stderr and NO_SERVER not in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("budget: -5\n", ["budget: Input should be greater than 0, got -5"]),
        ("planned_end: 31.12.2027\n", ["planned_end: must be a date as YYYY-MM-DD, got"]),
        (
            "planned_end: 2027-02-30\n",
            ["planned_end: must be a date as YYYY-MM-DD (day is out of range for month)"],
        ),
        ("planned_end: 20271231\n", ["planned_end: must be a date as YYYY-MM-DD, got 20271231"]),
        ("budgett: 1100000\n", ["budgett: unknown key (planned_end, budget and scope are known)"]),
        ("scope: many\n", ["scope: Input should be a valid number"]),
        ("{}\n", ["(document): gives none of planned_end, budget, scope"]),
        ("- budget: 1\n", ["(document): must be a YAML mapping (key: value lines)"]),
        ("budget: [1\n", ["line 2, column 1: not valid YAML:"]),
        (
            "budget: 1\nbudget: 2\n",
            ['line 2, column 1: not valid YAML: duplicate key "budget"'],
        ),
        (
            "planned_end: soon\nbudget: 0\n",
            ["planned_end: must be a date", "budget: Input should be greater than 0"],
        ),
    ],
    ids=[
        "negative-budget",
        "dotted-date",
        "impossible-date",
        "number-date",
        "unknown-key",
        "scope-text",
        "empty",
        "a-list",
        "broken-yaml",
        "duplicate-key",
        "two-problems",
    ],
)
def test_a_bad_plan_file_is_refused_naming_the_file_and_each_key(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    path = plan_file(tmp_path, text)
    stderr = refused(tmp_path, *EXCEPTION, "--decision", "approve-plan", "--plan", path, code=1)
    lines = stderr.splitlines()
    assert len(lines) == len(problems), stderr
    for line, problem in zip(lines, problems, strict=True):
        assert line.startswith(f"error: {path}: {problem}"), stderr


def test_a_plan_file_that_cannot_be_read_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    stderr = refused(tmp_path, *EXCEPTION, "--decision", "approve-plan", "--plan", missing, code=1)
    assert stderr == f"error: {missing}: (file): No such file or directory\n"
    stderr = refused(tmp_path, *EXCEPTION, "--decision", "approve-plan", "--plan", tmp_path, code=1)
    assert stderr == f"error: {tmp_path}: (file): is not a regular file\n"


def test_a_plan_reads_as_the_new_baseline_and_json_is_yaml(tmp_path: Path) -> None:
    yaml_plan = plan_file(tmp_path, "planned_end: 2027-11-30\nbudget: 1_100_000\n")
    assert control.read_plan(yaml_plan) == ExceptionPlan(
        planned_end=date(2027, 11, 30), budget=1100000
    )
    json_plan = plan_file(tmp_path, '{"scope": 250, "planned_end": "2027-11-30"}', "p.json")
    assert control.read_plan(json_plan) == ExceptionPlan(planned_end=date(2027, 11, 30), scope=250)


def test_an_exception_decision_is_the_update_input_in_the_update_s_words() -> None:
    widen = control.exception_decision(
        "anna",
        "widen",
        tolerances=control.parse_tolerances(["cost = 35%", "time=P6W"]),
        change_budget=8,
    )
    assert widen.decision == "widen_tolerance" and widen.change_budget == 8
    assert widen.tolerances is not None
    assert (widen.tolerances.cost, widen.tolerances.time) == (35.0, timedelta(weeks=6))
    assert control.exception_decision("anna", "close").decision == "close"
    with pytest.raises(ProjectError) as exc:
        control.exception_decision("anna", "close", plan=ExceptionPlan(budget=1))
    assert exc.value.kind == "InvalidInput"


# -- project list --rag -------------------------------------------------------------------------


def test_project_list_takes_a_rag_colour_only(tmp_path: Path) -> None:
    goes_on("project", "list", "--rag", "red")
    before = snapshot(tmp_path)
    result = cli("project", "list", "--rag", "purple")
    assert result.exit_code == 2
    assert "--rag" in result.stderr and NO_SERVER not in result.stderr
    assert snapshot(tmp_path) == before
