"""The iteration and deliverable commands' own input: ITEMS.yaml, "who: text" pairs, durations,
files to hash. Every problem is refused before anything is sent (no server runs here: a
command that got past its input would say that no dev server runs), names the file, item or
option, and leaves the folder as it was."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cli_support import cli, snapshot

import governance as g
from phasegate import deliverables
from phasegate.cli._iteration import split_pair
from phasegate.service import ProjectError

NO_SERVER = "error: no phasegate dev server runs for data dir"
GOOD_ITEMS = """\
- {id: CRM-1, title: Import the customer register, owner: erik, estimate: 2}
- id: CRM-2
  title: Sales pipeline view
  owner: cecilia
  estimate: 1.5
"""


def items_file(tmp_path: Path, text: str, name: str = "items.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- ITEMS.yaml ---------------------------------------------------------------------------------


def test_a_good_items_file_reads_as_work_items_and_the_command_goes_on_to_the_server(
    tmp_path: Path,
) -> None:
    path = items_file(tmp_path, GOOD_ITEMS)
    assert [(i.id, i.owner, i.estimate) for i in g.load_work_items(path)] == [
        ("CRM-1", "erik", 2.0),
        ("CRM-2", "cecilia", 1.5),
    ]
    result = cli("iteration", "plan", "new-crm", "--as", "erik", "--file", path, "--length", "P3W")
    assert result.exit_code == 1
    assert result.stderr.startswith(NO_SERVER)


def test_the_example_plan_is_one_projektflodet_accepts_for_the_example_charter() -> None:
    examples = Path(__file__).parents[2] / "examples"
    items = g.load_work_items(examples / "iteration-items.yaml")
    charter, model = g.load_project(examples / "projektflodet-charter.yaml")
    policy = model.phase("execution").iteration
    assert policy is not None
    assert g.plan_problem(items, policy=policy, charter=charter) is None
    assert [i.id for i in items] == ["CRM-1", "CRM-2", "CRM-3"]


def test_bad_items_are_refused_naming_the_file_and_each_item_and_field(tmp_path: Path) -> None:
    path = items_file(
        tmp_path,
        "- {id: CRM-1, title: Import, owner: erik, estimate: 2}\n"
        "- {id: CRM 2, titel: Pipeline, owner: Erik, estimate: -1}\n"
        "- just a line\n",
    )
    before = snapshot(tmp_path)
    result = cli("iteration", "plan", "new-crm", "--as", "erik", "--file", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {path}: [1].id: String should match pattern")
    assert lines[0].endswith('got "CRM 2"')
    assert lines[1:] == [
        f"error: {path}: [1].title: is required",
        f"error: {path}: [1].owner: must be a slug (lower-case letters, digits and inner "
        'hyphens, at most 63), got "Erik"',
        f"error: {path}: [1].estimate: Input should be greater than 0, got -1",
        f'error: {path}: [1].titel: unknown key (did you mean "title"?); unknown keys are '
        "errors so that a typo cannot drop a rule",
        f"error: {path}: [2]: must be a mapping of keys to values",
    ]
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "id: CRM-1\ntitle: One item, not a list\n",
            "(document): must be a YAML list (- ... lines)",
        ),
        ("", "(document): must be a YAML list (- ... lines)"),
        ("- {id: CRM-1, title: [unclosed\n", "line 2, column 1: not valid YAML:"),
        (
            "- {id: CRM-1, title: x, owner: erik, estimate: 2, estimate: 3}\n",
            'line 1, column 51: not valid YAML: duplicate key "estimate"',
        ),
        ("- {id: CRM-1, title: x, owner: erik, estimate: two}\n", "[0].estimate: Input should be"),
        ("- {id: 2027, title: x, owner: erik, estimate: 1}\n", "[0].id: must be text, got 2027"),
    ],
    ids=["mapping", "empty", "broken-yaml", "duplicate-key", "estimate-text", "id-number"],
)
def test_an_items_file_that_is_not_a_list_of_items_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = items_file(tmp_path, text)
    before = snapshot(tmp_path)
    for command in ("plan", "add"):
        result = cli("iteration", command, "new-crm", "--as", "erik", "--file", path)
        assert result.exit_code == 1, result.stderr
        assert result.stderr.startswith(f"error: {path}: {problem}"), result.stderr
        assert NO_SERVER not in result.stderr
    assert snapshot(tmp_path) == before


def test_a_missing_or_oversized_items_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = cli("iteration", "plan", "new-crm", "--as", "erik", "--file", missing)
    assert result.exit_code == 1
    assert result.stderr == f"error: {missing}: (file): No such file or directory\n"
    big = items_file(tmp_path, "# padding\n" * 200_000)
    result = cli("iteration", "add", "new-crm", "--as", "erik", "--file", big)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {big}: (document): is 2000000 bytes; the limit is {g.MAX_DOCUMENT_BYTES}\n"
    )


def test_a_length_that_is_no_duration_is_a_usage_error(tmp_path: Path) -> None:
    path = items_file(tmp_path, GOOD_ITEMS)
    result = cli("iteration", "plan", "new-crm", "--as", "erik", "--file", path, "--length", "3w")
    assert result.exit_code == 2
    assert result.stderr == ("error: --length 3w: not an ISO-8601 duration (e.g. P2W, P3W, P21D)\n")


# -- "who: text" and "role: text" ---------------------------------------------------------------


def test_a_pair_splits_on_the_first_colon_and_trims_both_sides() -> None:
    assert split_pair("--feedback", "bo:  Import works: mostly ", "who") == (
        "bo",
        "Import works: mostly",
    )
    assert split_pair("--obstacle", "leverantor:Test server missing", "role") == (
        "leverantor",
        "Test server missing",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["demo", "--feedback", "bo liked it"],
            'error: --feedback "bo liked it": write it as "who: text" (who, a colon, then '
            "the text)\n",
        ),
        (
            ["demo", "--feedback", "bo: fine", "--feedback", ": nobody said this"],
            'error: --feedback ": nobody said this": write it as "who: text" (who, a colon, '
            "then the text)\n",
        ),
        (
            ["demo", "--feedback", "bo:   "],
            'error: --feedback "bo:   ": write it as "who: text" (who, a colon, then the text)\n',
        ),
        (
            ["retro", "--keep", "Pairing", "--obstacle", "no test server"],
            'error: --obstacle "no test server": write it as "role: text" (role, a colon, '
            "then the text)\n",
        ),
    ],
    ids=["no-colon", "no-who", "no-text", "obstacle-no-colon"],
)
def test_a_pair_without_both_sides_is_a_usage_error(args: list[str], message: str) -> None:
    result = cli("iteration", args[0], "new-crm", "--as", "erik", *args[1:])
    assert result.exit_code == 2
    assert result.stderr == message


def test_a_pair_the_message_refuses_names_the_option_and_its_value() -> None:
    long_text = "x" * 501
    result = cli("iteration", "retro", "new-crm", "--as", "erik", "--obstacle", f"pmo: {long_text}")
    assert result.exit_code == 2
    assert result.stderr.startswith(f'error: --obstacle "pmo: {long_text}": invalid request: text:')
    assert "at most 500 characters" in result.stderr
    control = cli("iteration", "demo", "new-crm", "--as", "erik", "--feedback", "bo: a\x1b[2Jb")
    assert control.exit_code == 2
    assert "\x1b" not in control.stderr and "\\x1b" in control.stderr


def test_good_pairs_go_on_to_the_server() -> None:
    demo = cli(
        "iteration", "demo", "new-crm", "--as", "erik", "--attendee", "bo",
        "--feedback", "bo: Import works", "--feedback", "anna: Ship it",
    )  # fmt: skip
    retro = cli(
        "iteration", "retro", "new-crm", "--as", "erik", "--keep", "Pairing",
        "--change", "Smaller items", "--obstacle", "leverantor: no test server",
    )  # fmt: skip
    for result in (demo, retro):
        assert result.exit_code == 1
        assert result.stderr.startswith(NO_SERVER)


# -- deliverable files --------------------------------------------------------------------------


def test_a_file_is_hashed_in_chunks_to_its_sha256_and_size(tmp_path: Path) -> None:
    data = os.urandom(deliverables.CHUNK * 2 + 12345)  # over chunk boundaries
    path = tmp_path / "projektplan.pdf"
    path.write_bytes(data)
    assert deliverables.digest(path) == deliverables.FileDigest(
        hashlib.sha256(data).hexdigest(), len(data)
    )
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert deliverables.digest(empty) == deliverables.FileDigest(hashlib.sha256(b"").hexdigest(), 0)
    inp = deliverables.submission("david", "Projektplan", file=path, comment="v1")
    assert (inp.sha256, inp.size, inp.url, inp.comment) == (
        hashlib.sha256(data).hexdigest(),
        len(data),
        None,
        "v1",
    )


def test_a_url_is_taken_as_given_and_must_be_one() -> None:
    inp = deliverables.submission("david", "Projektplan", url="https://wiki.example.se/plan")
    assert (inp.url, inp.sha256, inp.size) == ("https://wiki.example.se/plan", None, None)
    with pytest.raises(ProjectError, match="invalid request: url:") as exc:
        deliverables.submission("david", "Projektplan", url="wiki/plan")
    assert exc.value.kind == "InvalidInput"


@pytest.mark.parametrize(
    "args",
    [[], ["--file", "README.md", "--url", "https://example.se/x"]],
    ids=["neither", "both"],
)
def test_a_deliverable_is_exactly_one_file_or_url(args: list[str]) -> None:
    result = cli("deliverable", "submit", "new-crm", "Projektplan", "--as", "david", *args)
    assert result.exit_code == 2
    assert result.stderr == "error: give exactly one of --file PATH or --url URL\n"


def test_a_file_that_cannot_be_hashed_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = {
        tmp_path / "missing.pdf": "no such file or directory",
        folder: "is a directory; a deliverable is one file (or give a --url)",
        fifo: "is not a regular file",
    }
    before = snapshot(tmp_path)
    for path, problem in cases.items():
        result = cli(
            "deliverable", "submit", "new-crm", "Projektplan", "--as", "david", "--file", path
        )
        assert result.exit_code == 1
        assert result.stderr == f"error: --file {path}: {problem}\n"
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    path.write_bytes(b"x")
    path.chmod(0)
    result = cli("deliverable", "submit", "new-crm", "Projektplan", "--as", "david", "--file", path)
    assert result.exit_code == 1
    assert result.stderr == f"error: --file {path}: permission denied\n"


def test_a_good_file_goes_on_to_the_server(tmp_path: Path) -> None:
    path = tmp_path / "plan.pdf"
    path.write_bytes(b"%PDF-1.7\n")
    result = cli("deliverable", "submit", "new-crm", "Projektplan", "--as", "david", "--file", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(NO_SERVER)
