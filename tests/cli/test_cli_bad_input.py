"""Every bad command-line input: one clear message, exit 1 or 2, no traceback, nothing created.
Run through the real command line; each test also shows the folder is as it was."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import cli, model_data, snapshot, write_charter, write_model

from governance.audit import AuditEventIn, EventKind, GateTaskIn
from ledger import Ledger
from tests.governance.gov_cases import dump

PHASEGATE = Path(sys.executable).with_name("phasegate")
T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def event(seq: int, **fields: object) -> AuditEventIn:
    values: dict[str, object] = {
        "project_id": "new-crm",
        "seq": seq,
        "at": T0 + timedelta(minutes=seq),
        "kind": EventKind.vote_cast,
        "actor": "bo",
        "comment": f"vote {seq}",
        "model": "projektflodet@1.0",
        "model_hash": "ab" * 32,
        "workflow_id": "project-new-crm",
        "run_id": "run-1",
    }
    values.update(fields)
    return AuditEventIn.model_validate(values)


@pytest.fixture
def ledger_url(tmp_path: Path) -> Iterator[str]:
    """A ledger with two events of project new-crm."""
    url = f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}"
    with Ledger(url) as ledger:
        ledger.migrate()
        ledger.record([event(1), event(2)])
    yield url


# -- audit export -o ------------------------------------------------------------------------


def test_export_into_a_missing_directory_is_a_usage_error(tmp_path: Path, ledger_url: str) -> None:
    before = snapshot(tmp_path)
    target = tmp_path / "no" / "such" / "dir" / "audit.csv"
    result = cli("audit", "export", "--ledger-url", ledger_url, "-o", target)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --output {target}: the directory {target.parent} does not exist\n"
    )
    assert snapshot(tmp_path) == before


def test_export_onto_a_directory_is_a_usage_error(tmp_path: Path, ledger_url: str) -> None:
    (tmp_path / "out").mkdir()
    before = snapshot(tmp_path)
    result = cli("audit", "export", "--ledger-url", ledger_url, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: --output {tmp_path / 'out'} is a directory: name a file in it\n"
    )
    assert snapshot(tmp_path) == before


def test_export_to_a_file_writes_it_whole(tmp_path: Path, ledger_url: str) -> None:
    target = tmp_path / "audit.jsonl"
    result = cli("audit", "export", "--ledger-url", ledger_url, "-o", target)
    assert result.exit_code == 0
    assert result.stderr == f"2 events written to {target}\n"
    assert len(target.read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "ledger"]


# -- the ledger URL and the ledger file ---------------------------------------------------------

LEDGER_COMMANDS = [
    ["tasks"],
    ["report", "new-crm"],
    ["audit", "export"],
    ["audit", "verify"],
    ["model", "list"],
    ["model", "validate", "projektflodet"],
    ["model", "publish", "MODEL"],
    ["charter", "validate", "CHARTER"],
    ["project", "start", "CHARTER"],
    ["worker"],
    ["dev"],
]


@pytest.mark.parametrize("command", LEDGER_COMMANDS, ids=lambda c: "-".join(c[:2]))
def test_a_ledger_url_that_is_no_database_url_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    model = write_model(tmp_path / "acme.yaml")
    charter = write_charter(tmp_path / "charter.yaml", model="projektflodet@1.0")
    monkeypatch.chdir(tmp_path)
    args = [{"MODEL": str(model), "CHARTER": str(charter)}.get(a, a) for a in command]
    before = snapshot(tmp_path)
    result = cli(*args, "--ledger-url", "notaurl")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: setting ledger_url: not a ledger database URL: notaurl; use "
        "sqlite:///PATH/ledger.db or postgresql+psycopg://USER@HOST/DB\n"
    )
    assert snapshot(tmp_path) == before


def test_verify_where_no_ledger_file_exists_says_so_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "ledger.db"
    result = cli("audit", "verify", "--ledger-url", f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: no ledger at sqlite:///{missing}: check --ledger-url")
    assert list(tmp_path.iterdir()) == []


def test_verify_a_database_that_holds_no_ledger_says_so(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(b"")
    result = cli("audit", "verify", "--ledger-url", f"sqlite:///{other}")
    assert result.exit_code == 1
    assert f"error: no ledger at sqlite:///{other}" in result.stderr


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"]])
def test_an_unknown_project_has_no_events_to_verify_or_export(
    tmp_path: Path, ledger_url: str, command: list[str]
) -> None:
    before = snapshot(tmp_path)
    result = cli(*command, "--ledger-url", ledger_url, "--project", "unknown")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: no events for project unknown in the ledger\n"
    assert snapshot(tmp_path) == before
    ok = cli(*command, "--ledger-url", ledger_url, "--project", "new-crm")
    assert ok.exit_code == 0


# -- a model with an SLA no date can hold -------------------------------------------------------


def test_an_sla_of_ten_thousand_years_is_refused_with_its_bound(tmp_path: Path) -> None:
    data = model_data()
    data["phases"][0]["gate"]["sla"] = "P10000Y"
    model = tmp_path / "acme.yaml"
    model.write_text(dump(data), encoding="utf-8")
    before = snapshot(tmp_path)
    result = cli("model", "validate", model)
    assert result.exit_code == 1
    assert result.stdout == (
        'phases[0].gate.sla: must be at most P100Y (36500 days), got "P10000Y"\n'
    )
    charter = write_charter(tmp_path / "charter.yaml")
    start = cli("project", "start", charter, "--model", model)
    assert start.exit_code == 1
    assert start.stderr.startswith("phases[0].gate.sla: must be at most P100Y")
    assert snapshot(tmp_path).keys() == {*before.keys(), "charter.yaml"}


# -- what is printed ------------------------------------------------------------------------

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\r\x9b31m\u202e"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\r\\x9b31m\\u202e"


def test_terminal_control_characters_are_escaped_in_human_output(
    tmp_path: Path, ledger_url: str
) -> None:
    model = write_model(tmp_path / "acme.yaml", title=f"Acme {ESCAPES}")
    charter = write_charter(tmp_path / "charter.yaml", title=f"CRM {ESCAPES}")
    with Ledger(ledger_url) as ledger:
        ledger.add_task(
            GateTaskIn(
                project_id="new-crm",
                key="idea_gate/1/x",
                title=f"Review {ESCAPES}\tand\nmore",
                assignee="anna",
                role="bestallare",
                gate="idea_gate",
                due=T0,
                created_at=T0,
            )
        )
    # A model or charter carrying them is refused (a title is one line of text); the
    # refusal shows the value escaped.
    for name, result in {
        "model validate": cli("model", "validate", model),
        "charter validate": cli("charter", "validate", charter, "--model", model),
    }.items():
        assert result.exit_code == 1, (name, result.output)
        assert "must not contain control characters" in result.output, (name, result.output)
        assert not set(result.output) & set("\x1b\x07\r\x9b\u202e"), (name, result.output)
    # Text that reached the ledger some other way is escaped when shown.
    tasks = cli("tasks", "--ledger-url", ledger_url)
    assert tasks.exit_code == 0, tasks.output
    assert not set(tasks.stdout) & set("\x1b\x07\r\x9b\u202e")
    [line] = tasks.stdout.splitlines()
    head, _, rest = line.partition(" (")  # "(in N days)": N depends on today
    assert head == "1\tnew-crm\tanna\topen\tdue 2027-01-11"  # its id first
    assert rest.split(")\t", 1)[1] == f"Review {SHOWN}\\tand\\nmore"


def test_an_error_message_escapes_control_characters_too(tmp_path: Path) -> None:
    model = write_model(tmp_path / "acme.yaml", name=f"acme{ESCAPES}")
    result = cli("model", "validate", model)
    assert result.exit_code == 1
    assert not set(result.output) & set("\x1b\x07\r\x9b\u202e")
    assert result.stdout.startswith("name: must be a lower-case identifier")
    assert '"acme\\u001b]0;pwned\\u0007' in result.stdout  # the value, escaped


def test_csv_export_neutralises_formula_cells(ledger_url: str) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.append(event(3, comment='=HYPERLINK("http://evil.example","open")', actor="@bo"))
    result = cli("audit", "export", "--ledger-url", ledger_url, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert rows[2]["comment"] == '\'=HYPERLINK("http://evil.example","open")'
    assert rows[2]["actor"] == "'@bo"
    assert rows[0]["comment"] == "vote 1"
    assert "ok: 3 events" in cli("audit", "verify", "--ledger-url", ledger_url).stdout


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """The console script itself, not the test runner: exit codes and stderr as a user sees."""
    cases = [
        (["audit", "verify", "--ledger-url", "notaurl"], 1, "error: setting ledger_url"),
        (["audit", "export", "-o", str(tmp_path / "a" / "b.csv")], 2, "does not exist"),
        (["audit", "verify", "--ledger-url", f"sqlite:///{tmp_path}/x.db"], 1, "no ledger at"),
    ]
    for args, code, words in cases:
        proc = subprocess.run(
            [PHASEGATE, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "PHASEGATE_DATA_DIR": str(tmp_path / "data")},
        )
        assert proc.returncode == code, (args, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


# -- pydantic's "Value error, " never reaches a user --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["project", "list", "--state", "bogus"],
            "Invalid value for '--state': 'bogus' is not one of 'open', 'closed', 'rejected', "
            "'cancelled'.",
        ),
        (
            ["project", "list", "--rag", "pink"],
            "Invalid value for '--rag': 'pink' is not one of 'red', 'amber', 'green'.",
        ),
    ],
    ids=["state", "rag"],
)
def test_a_bad_choice_is_said_without_value_error(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # the message on one line of the error box
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
    assert "Value error" not in result.stderr


def test_a_bad_value_checked_by_a_validator_is_said_without_value_error(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    result = cli(
        "deliverable", "submit", "new-crm", "Plan", "--as", "david", "--url", "javascript://x"
    )
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: invalid request: url: a javascript: URL is not a document's address\n"
    )
    assert snapshot(tmp_path) == before
