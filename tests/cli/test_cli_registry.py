"""``phasegate model publish`` / ``model list`` and how commands resolve a model by name: the
built-ins and the ledger's registry only; a file only when it is named as one."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from cli_support import cli, snapshot, write_charter, write_model

import governance as g
from ledger import Ledger
from tests.governance.gov_cases import PF_MODEL, dump


def hash_of(path: Path) -> str:
    return g.load_model(path).content_hash()


def test_publish_records_the_publisher_and_list_shows_it_with_its_hash(
    tmp_path: Path, data_dir: Path
) -> None:
    model = write_model(tmp_path / "acme.yaml")
    result = cli("model", "publish", model, "--as", "eva")
    digest = hash_of(model)
    assert result.exit_code == 0, result.output
    ledger_db = data_dir.resolve() / "ledger.db"
    assert result.stdout == (
        f"published acme@1.0 (sha256 {digest}) in the ledger at sqlite:///{ledger_db}\n"
    )
    listed = cli("model", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed[:2]] == [
        ["prince2@2.0", "built-in"],
        ["projektflodet@1.0", "built-in"],
    ]
    with Ledger.existing(f"sqlite:///{ledger_db}") as ledger:
        today = ledger.published_models()[0].published_at
    assert listed[2] == (
        f"acme@1.0\tpublished by eva on {today.date().isoformat()}\tsha256 {digest[:12]}\t"
        "Acme delivery\tidea -> pre_study -> planning -> execution -> closure "
        "-> benefits_realisation"
    )


def test_publishing_the_same_content_again_changes_nothing(tmp_path: Path) -> None:
    model = write_model(tmp_path / "acme.yaml")
    assert cli("model", "publish", model, "--as", "eva").exit_code == 0
    again = cli("model", "publish", model, "--as", "olof")
    assert again.exit_code == 0
    assert again.stdout.startswith(f"already published: acme@1.0 (sha256 {hash_of(model)}), by eva")
    assert again.stdout.rstrip().endswith("nothing changed")


def test_other_content_under_a_published_version_is_refused_naming_both_hashes(
    tmp_path: Path, data_dir: Path
) -> None:
    first = write_model(tmp_path / "acme.yaml")
    cli("model", "publish", first, "--as", "eva")
    weaker = write_model(tmp_path / "weaker.yaml", title="Acme, lighter")
    before = snapshot(data_dir)
    refused = cli("model", "publish", weaker, "--as", "mallory")
    assert refused.exit_code == 1
    assert "acme@1.0 is already published with other content" in refused.stderr
    assert hash_of(first) in refused.stderr and hash_of(weaker) in refused.stderr
    assert refused.stdout == ""
    assert snapshot(data_dir) == before
    shown = cli("model", "show", "acme@1.0").stdout
    assert shown.startswith(f"acme@1.0  Acme delivery  (sha256 {hash_of(first)[:12]})")


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_a_builtin_name_cannot_be_published_and_nothing_is_created(
    tmp_path: Path, data_dir: Path, version: str
) -> None:
    weak = copy.deepcopy(PF_MODEL)
    weak["version"] = version
    weak["phases"][0]["gate"]["forbid_self_approval"] = False
    (tmp_path / "projektflodet.yaml").write_text(dump(weak), encoding="utf-8")
    refused = cli("model", "publish", tmp_path / "projektflodet.yaml", "--as", "mallory")
    assert refused.exit_code == 1
    assert '"projektflodet" is the name of a built-in model and is reserved' in refused.stderr
    assert not data_dir.exists()


def test_an_invalid_model_is_not_published_and_nothing_is_created(
    tmp_path: Path, data_dir: Path
) -> None:
    bad = write_model(tmp_path / "acme.yaml", version="one")
    refused = cli("model", "publish", bad, "--as", "eva")
    assert refused.exit_code == 1
    assert refused.stdout.startswith(
        'version: must be a version in quotes, like "1", "1.2" or "1.10"'
    )
    assert not data_dir.exists()


def test_a_charter_resolves_a_published_model_by_its_name_and_version(tmp_path: Path) -> None:
    model = write_model(tmp_path / "models" / "acme.yaml")
    cli("model", "publish", model, "--as", "eva")
    charter = write_charter(tmp_path / "project" / "charter.yaml")
    ok = cli("charter", "validate", charter)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith(
        f"ok: new-crm (Nytt CRM-system) under acme@1.0 (published, sha256 {hash_of(model)[:12]})"
    )
    for command in (["model", "validate"], ["model", "show"], ["model", "diagram"]):
        assert cli(*command, "acme@1.0").exit_code == 0
    assert cli("model", "validate", "acme").stdout.startswith("ok: acme@1.0 (Acme delivery)")


def test_a_weakened_builtin_copy_beside_the_charter_or_in_the_working_directory_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = copy.deepcopy(PF_MODEL)
    weak["phases"][0]["gate"]["forbid_self_approval"] = False
    for name in ("projektflodet.yaml", "projektflodet@1.0"):
        (tmp_path / name).write_text(dump(weak), encoding="utf-8")
    charter = write_charter(tmp_path / "charter.yaml", model="projektflodet@1.0")
    monkeypatch.chdir(tmp_path)
    builtin = g.builtin_models()["projektflodet"].content_hash()[:12]
    ok = cli("charter", "validate", charter)
    assert f"under projektflodet@1.0 (built-in, sha256 {builtin})" in ok.stdout
    assert f"sha256 {builtin}" in cli("model", "validate", "projektflodet@1.0").stdout
    # Named as a file, the copy is what it is: a local file, with its own hash.
    local = cli("charter", "validate", charter, "--model", tmp_path / "projektflodet.yaml")
    digest = hash_of(tmp_path / "projektflodet.yaml")[:12]
    assert f"(local file {tmp_path / 'projektflodet.yaml'}, sha256 {digest})" in local.stdout


# -- item 7: a model not found says what was found instead, and where it looked ----------------


@pytest.mark.parametrize(
    ("where", "inside", "says"),
    [
        ("acme.yaml", ("acme", "1.0"), 'it holds "acme@1.0" (version 1.0, not 1.1)'),
        ("acme.yml", ("other", "1.1"), 'it holds "other@1.1" (another name inside)'),
        ("models/acme.yaml", ("acme", "1.1"), 'it holds "acme@1.1", but a file is not used'),
        ("acme-v2.yaml", ("acme", "2.0"), 'it holds "acme@2.0" (version 2.0, not 1.1)'),
    ],
    ids=["other-version", "other-name-inside", "other-directory", "similar-file-name"],
)
def test_a_model_not_found_names_what_was_found_and_where_it_looked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    inside: tuple[str, str],
    says: str,
    data_dir: Path,
) -> None:
    charter = write_charter(tmp_path / "project" / "charter.yaml", model="acme@1.1")
    found = write_model(tmp_path / "project" / where, *inside)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = cli("charter", "validate", charter)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        'model: "acme@1.1" is neither a built-in model (prince2@2.0, projektflodet@1.0) nor '
        f"published in the ledger (no ledger at sqlite:///{data_dir.resolve() / 'ledger.db'}, "
        "so nothing is published)"
    )
    assert lines[1].startswith(f"model: found {found}: {says}")
    assert lines[2] == (
        "model: looked for model files named acme*.yaml or *.yml in "
        f"{charter.parent} (and its subfolders), {work} (and its subfolders)"
    )
    assert lines[3].startswith("model: a model file is used only when named: publish it")
    assert len(lines) == 4


def test_a_missing_version_names_the_published_ones(tmp_path: Path) -> None:
    cli("model", "publish", write_model(tmp_path / "acme.yaml"), "--as", "eva")
    cli("model", "publish", write_model(tmp_path / "acme2.yaml", version="2.0"), "--as", "eva")
    result = cli("charter", "validate", write_charter(tmp_path / "c.yaml", model="acme@1.1"))
    assert result.exit_code == 1
    assert "(published there: acme@1.0, acme@2.0)" in result.stdout.splitlines()[0]


def test_a_builtin_name_with_another_version_says_names_are_reserved(tmp_path: Path) -> None:
    write_model(tmp_path / "projektflodet.yaml", name="projektflodet", version="1.1")
    result = cli("charter", "validate", write_charter(tmp_path / "c.yaml", "projektflodet@1.1"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == 'model: built-in "projektflodet" is version 1.0, not 1.1'
    assert lines[1].startswith(f"model: found {tmp_path / 'projektflodet.yaml'}: it holds")
    assert lines[-1].startswith("model: built-in names are reserved")


# -- --ledger-url on every command that reads the ledger ---------------------------------------


def test_every_command_that_reads_the_ledger_takes_ledger_url(
    tmp_path: Path, data_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'ledger.db'}"
    model = write_model(tmp_path / "acme.yaml")
    charter = write_charter(tmp_path / "charter.yaml")
    assert cli("model", "publish", model, "--as", "eva", "--ledger-url", url).exit_code == 0
    assert "acme@1.0\tpublished by eva" in cli("model", "list", "--ledger-url", url).stdout
    for args in (
        ["model", "validate", "acme@1.0"],
        ["model", "show", "acme@1.0"],
        ["model", "diagram", "acme@1.0"],
        ["charter", "validate", charter],
        ["model", "validate", charter],
        ["tasks"],
        ["audit", "export"],
        ["audit", "verify"],
    ):
        result = cli(*args, "--ledger-url", url)
        assert result.exit_code == 0, (args, result.output)
    assert not data_dir.exists()  # the default ledger was never made


def test_model_list_json_has_source_and_full_hash(tmp_path: Path) -> None:
    model = write_model(tmp_path / "acme.yaml")
    cli("model", "publish", model, "--as", "eva")
    rows = json.loads(cli("model", "list", "--json").stdout)
    assert [(r["ref"], r["source"]) for r in rows] == [
        ("prince2@2.0", "built-in"),
        ("projektflodet@1.0", "built-in"),
        ("acme@1.0", "published"),
    ]
    assert rows[2]["sha256"] == hash_of(model) and rows[2]["published_by"] == "eva"
