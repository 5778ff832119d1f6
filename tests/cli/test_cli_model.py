"""``phasegate model ...`` and ``phasegate charter ...``: list, validate, show, diagram, schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import governance as g
from phasegate.cli import app
from phasegate.cli._common import issue_line
from tests.governance.gov_cases import CASES, CRAFTED, EXAMPLES, Broken, library_error, write

runner = CliRunner()
PHASEGATE = Path(sys.executable).with_name("phasegate")


def run(*args: str | Path) -> tuple[int, list[str]]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout.splitlines()


def cli_args(case: Broken, target: Path) -> list[str | Path]:
    if case.kind == "model":
        return ["model", "validate", target]
    extra: list[str | Path] = ["--model", target.parent / case.model] if case.model else []
    return ["charter", "validate", target, *extra]


# -- validate: every broken case exits 1 with one `path: message` line per issue ----------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_prints_one_line_per_issue_and_exits_1(case: Broken, tmp_path: Path) -> None:
    exc = library_error(case, tmp_path)
    expected = [issue_line(exc, i) for i in exc.issues]  # one with the file itself names it
    code, lines = run(*cli_args(case, tmp_path / "case.yaml"))
    assert code == 1
    # Resolving a charter's model, the CLI adds where it looked for model files after the issue.
    hints = ("model: looked for model files", "model: built-in names are reserved")
    lines = [line for line in lines if not line.startswith(hints)]
    assert lines == expected
    assert len(lines) == case.issues
    for line in lines:
        path, sep, message = line.partition(": ")
        assert sep and path and message, line
    assert any(
        line.removeprefix(f"{exc.source}: ").startswith(f"{case.path}: ")
        and all(w in line for w in case.words)
        for line in lines
    ), lines


@pytest.mark.parametrize("case", CRAFTED, ids=[c.id for c in CRAFTED])
def test_crafted_input_exits_1_with_its_one_line_within_a_second(
    case: Broken, tmp_path: Path
) -> None:
    target = write(case, tmp_path)
    started = time.perf_counter()
    code, lines = run(*cli_args(case, target))  # a traceback would raise here
    assert time.perf_counter() - started < 1.0
    expected = g.GovernanceError([g.Issue(case.path, case.words[0])], str(target))
    assert (code, lines) == (1, [issue_line(expected, i) for i in expected.issues])


def test_real_process_exit_codes(tmp_path: Path) -> None:
    """The installed console script, not the test runner, exits 1 on a broken file, 0 when fine."""
    sla = next(c for c in CASES if c.id == "negative-sla")
    bad_model = write(sla, tmp_path)
    proc = subprocess.run(
        [PHASEGATE, "model", "validate", bad_model], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        "phases[2].gate.sla: must be a positive ISO-8601 duration (e.g. P3D, P2W, PT15M), "
        'got "-P3D"'
    ]
    assert "Traceback" not in proc.stderr

    charter_case = next(c for c in CASES if c.id == "person-unknown-role")
    (tmp_path / "charter").mkdir()
    bad_charter = write(charter_case, tmp_path / "charter")
    proc = subprocess.run(
        [PHASEGATE, "charter", "validate", bad_charter], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stdout.startswith('people[2].roles[1]: unknown role "ceo" in projektflodet@1.0')

    proc = subprocess.run(
        [PHASEGATE, "model", "validate", "projektflodet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: projektflodet@1.0")


# -- validate: the sound documents ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["projektflodet", "prince2", "prince2@2.0"])
def test_validate_builtin_prints_one_ok_line(name: str) -> None:
    code, lines = run("model", "validate", name)
    m = g.load_model(name)
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith(f"ok: {m.ref} ({m.title}): {len(m.phases)} phases")
    assert m.content_hash()[:12] in lines[0]


def test_validate_a_model_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_bytes((Path(g.__file__).parent / "builtin" / "prince2.yaml").read_bytes())
    code, lines = run("model", "validate", target)
    assert (code, len(lines)) == (0, 1)
    assert lines[0].startswith("ok: prince2@2.0 (PRINCE2): 5 phases, 7 roles")


def test_validate_unknown_name_exits_1(data_dir: Path) -> None:
    code, lines = run("model", "validate", "safe")
    assert code == 1
    assert lines[0] == (
        'model: "safe" is neither a built-in model (prince2@2.0, projektflodet@1.0) nor '
        f"published in the ledger (no ledger at sqlite:///{data_dir.resolve() / 'ledger.db'}, "
        "so nothing is published)"
    )
    assert lines[1].startswith("model: looked for model files named safe*.yaml or *.yml in ")
    assert not data_dir.exists()


@pytest.mark.parametrize("command", [["model", "validate"], ["charter", "validate"]])
def test_validate_recognises_a_charter(command: list[str]) -> None:
    code, lines = run(*command, EXAMPLES / "projektflodet-charter.yaml")
    assert code == 0
    digest = g.builtin_models()["projektflodet"].content_hash()[:12]
    assert lines == [
        f"ok: new-crm (Nytt CRM-system) under projektflodet@1.0 (built-in, sha256 {digest}): "
        "7 people, budget 800000 SEK, 2027-01-11 to 2027-09-30"
    ]


def test_charter_validate_prince2_example() -> None:
    code, lines = run("charter", "validate", EXAMPLES / "prince2-charter.yaml")
    assert code == 0
    assert lines[0].startswith(
        "ok: payroll-migration (Payroll platform migration) under prince2@2.0"
    )


def test_charter_validate_with_an_explicit_model_of_another_name() -> None:
    code, lines = run(
        "charter", "validate", EXAMPLES / "projektflodet-charter.yaml", "--model", "prince2"
    )
    assert code == 1
    assert lines[0] == 'model: names "projektflodet@1.0" but the model given is "prince2@2.0"'
    assert all(": " in line for line in lines)


# -- list, show ------------------------------------------------------------------------------------


def test_list_shows_both_builtin_models() -> None:
    code, lines = run("model", "list")
    assert code == 0
    p2, pf = (g.builtin_models()[n].content_hash()[:12] for n in ("prince2", "projektflodet"))
    assert lines == [
        f"prince2@2.0\tbuilt-in\tsha256 {p2}\tPRINCE2\t"
        "starting_up -> initiation -> delivery_1 -> delivery_2 -> closing",
        f"projektflodet@1.0\tbuilt-in\tsha256 {pf}\tProjektflödet\t"
        "idea -> pre_study -> planning -> execution -> closure -> benefits_realisation",
    ]


def test_show_prince2_has_phases_approvers_and_tolerances() -> None:
    code, lines = run("model", "show", "prince2")
    text = "\n".join(lines)
    assert code == 0
    m = g.builtin_models()["prince2"]
    assert lines[0].startswith(f"prince2@2.0  PRINCE2  (sha256 {m.content_hash()[:12]})")
    assert "Project board: Executive, Senior User, Senior Supplier; executive: Executive" in text
    for phase in m.phases:
        assert phase.title in text
    assert "senior_user, senior_supplier" in text  # advisers (consult), not cut short
    assert "…" not in text
    header = next(line for line in lines if "approvers" in line)
    assert [c.strip() for c in header.split("┃")][4:7] == ["approvers", "consult", "rule"]
    gates = [
        line for line in lines if line.startswith("│ ") and line.split("│")[1].strip().isdigit()
    ]
    assert len(gates) == 5
    for row in gates:
        assert [c.strip() for c in row.split("│")][4:7] == [
            "executive", "senior_user, senior_supplier", "all",
        ]  # fmt: skip
    assert "Tolerances" in text
    rows = {line.split("│")[1].strip(): line for line in lines if line.count("│") > 6}
    for level in ("project", "stage", "work_package"):
        assert level in rows
    assert re.search(r"P6W\s*│\s*10%\s*│\s*5%", rows["project"])
    assert "P3D" in rows["work_package"] and "-" in rows["work_package"]
    assert "Escalation (lowest first)" in text and "Corporate / programme management" in text
    assert "up to 1% cost and P3D, within a change budget of 3%" in text


def test_show_marks_iterative_and_delayed_phases() -> None:
    code, lines = run("model", "show", "projektflodet")
    text = "\n".join(lines)
    assert code == 0
    assert "(iterative)" in text
    assert "(after P180D)" in text


def test_show_broken_model_exits_1(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "rule-most")
    code, lines = run("model", "show", write(case, tmp_path))
    assert code == 1
    assert lines == [str(i) for i in library_error(case, tmp_path).issues]


# -- diagram ---------------------------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_MERMAID_LINE = re.compile(
    rf"^    (?:"
    rf"\[\*\] --> (?P<start>{_NAME})"
    rf"|(?P<end>{_NAME}) --> \[\*\]"
    rf"|(?P<src>{_NAME}) --> (?P<dst>{_NAME}): (?P<label>{_NAME})"
    rf'|state "(?P<shown>[^"]+)" as (?P<alias>{_NAME})'
    rf")$"
)


@pytest.mark.parametrize("name", ["projektflodet", "prince2"])
def test_diagram_is_a_mermaid_state_diagram_of_every_phase_and_gate(name: str) -> None:
    code, lines = run("model", "diagram", name)
    assert code == 0
    assert lines[0] == "stateDiagram-v2"
    m = g.builtin_models()[name]
    states: set[str] = set()
    starts, ends, edges = [], [], set()
    for line in lines[1:]:
        if not line.strip():
            continue
        match = _MERMAID_LINE.match(line)
        assert match, f"not a mermaid state-diagram line: {line!r}"
        if match["start"]:
            starts.append(match["start"])
        elif match["end"]:
            ends.append(match["end"])
        elif match["src"]:
            edges.add((match["src"], match["dst"], match["label"]))
            states |= {match["src"], match["dst"]}
        else:
            states.add(match["alias"])
    assert starts == [m.phases[0].id]
    assert set(ends) == {"closed", "cancelled"}
    for phase in m.phases:
        assert phase.id in states and phase.gate_state in states
        assert (phase.id, phase.gate_state, "request_gate") in edges
    for a, b in zip(m.phases, m.phases[1:], strict=False):
        assert (a.gate_state, b.id, "approve") in edges
    assert (m.phases[-1].gate_state, "closed", "approve") in edges
    assert {"on_hold", "exception", "closed", "cancelled"} <= states
    # mermaid's own keywords are never used as bare state names
    assert not states & {"state", "note", "end", "as", "direction", "class", "default"}


def test_diagram_of_a_broken_model_exits_1(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == "duplicate-phase-id")
    code, lines = run("model", "diagram", write(case, tmp_path))
    assert (code, lines) == (1, ['phases[4].id: duplicate id "planning"'])


# -- schema ----------------------------------------------------------------------------------------


def test_model_schema_is_json_schema() -> None:
    code, lines = run("model", "schema")
    assert code == 0
    schema = json.loads("\n".join(lines))
    assert schema["title"] == "GovernanceModel"
    assert schema["properties"]["phases"]["type"] == "array"
    assert {"name", "version", "roles", "board", "phases", "escalation"} <= set(schema["required"])
    assert schema["$defs"]["Gate"]["properties"]["sla"]["format"] == "duration"
    for rule in ("Gate", "DecisionRule"):  # advisers, on gates and the formal change rule alike
        consult = schema["$defs"][rule]["properties"]["consult"]
        assert consult["type"] == "array" and "never counted" in consult["description"]
    assert schema.get("additionalProperties") is False


def test_charter_schema_is_json_schema() -> None:
    code, lines = run("charter", "schema")
    assert code == 0
    schema = json.loads("\n".join(lines))
    assert schema["title"] == "Charter"
    assert {"model", "people", "baseline"} <= set(schema["properties"])
    assert "Person" in schema["$defs"] and "Waiver" in schema["$defs"]


# -- a file that cannot be read or is no YAML: named as the user typed it -----------------------


@pytest.mark.parametrize(
    ("command", "stream"),
    [
        (["model", "validate"], "stdout"),
        (["charter", "validate"], "stdout"),
        (["project", "start"], "stderr"),
    ],
    ids=["model-validate", "charter-validate", "project-start"],
)
def test_a_missing_or_broken_file_is_named_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], stream: str
) -> None:
    """`(file): No such file or directory` and a YAML syntax error name the file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHASEGATE_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "broken.yaml").write_text("a: 1\n- b\n", encoding="utf-8")
    cases = {
        "nosuch.yaml": "nosuch.yaml: (file): No such file or directory",
        "broken.yaml": "broken.yaml: line 2, column 1: not valid YAML: did not find expected key",
        str(tmp_path): f"{tmp_path}: (file): is not a regular file",
    }
    if command[0] == "model":  # a name, not a Path: kept exactly as typed
        cases["./nosuch.yaml"] = "./nosuch.yaml: (file): No such file or directory"
    for target, line in cases.items():
        result = runner.invoke(app, [*command, target])
        assert result.exit_code == 1, result.output
        assert getattr(result, stream).splitlines() == [line], result.output
