"""The commands that only read models read a SQLite ledger's registry with sqlite3 alone: what
they answer, and how they fail, is what they answered through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cli_support import cli, registry_through_ledger, write_charter, write_model

from phasegate.cli import _model

COMMANDS = [
    ("model", "list"),
    ("model", "list", "--json"),
    ("model", "validate", "acme@1.2"),
    ("model", "validate", "acme"),
    ("model", "validate", "acme@9.9"),
    ("model", "show", "acme@1.10"),
]


def both_ways(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> list[tuple[int, str, str]]:
    """``phasegate ARGS`` as it runs, then with the registry read through SQLAlchemy."""
    answers = []
    for through_ledger in (False, True):
        if through_ledger:
            monkeypatch.setattr(_model, "registry", registry_through_ledger)
        result = cli(*args)
        answers.append((result.exit_code, result.stdout, result.stderr))
    monkeypatch.undo()
    return answers


@pytest.fixture
def published(tmp_path: Path, data_dir: Path) -> Path:
    """The default ledger, holding acme@1.2 and acme@1.10; its file."""
    for version in ("1.2", "1.10"):
        model = write_model(tmp_path / f"acme-{version}.yaml", version=version)
        assert cli("model", "publish", model, "--as", "eva").exit_code == 0
    return data_dir / "ledger.db"


def raw(path: Path, statement: str, *params: object) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(statement, params)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_answers_as_through_sqlalchemy(
    args: tuple[str, ...], published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    light, heavy = both_ways(monkeypatch, *args)
    assert light == heavy
    assert light[0] == (1 if args[-1] == "acme@9.9" else 0)


def test_a_charter_is_validated_as_through_sqlalchemy(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    charter = write_charter(tmp_path / "charter.yaml", model="acme@1.10")
    light, heavy = both_ways(monkeypatch, "charter", "validate", charter)
    assert light == heavy and light[0] == 0 and "under acme@1.10" in light[1]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("UPDATE models SET sha256 = '" + "0" * 64 + "' WHERE version = '1.2'", "was altered"),
        ("UPDATE ledger_alembic_version SET version_num = '0006'", "older than"),
        ("UPDATE ledger_alembic_version SET version_num = '9999'", "does not know"),
        ("DELETE FROM ledger_alembic_version", "is empty"),
        ("INSERT INTO ledger_alembic_version VALUES ('0006')", "records several migrations"),
    ],
    ids=["tampered row", "older migration", "unknown migration", "empty", "two revisions"],
)
@pytest.mark.parametrize("args", COMMANDS[:3], ids=" ".join)
def test_a_bad_ledger_fails_as_through_sqlalchemy(
    published: Path,
    change: str,
    said: str,
    args: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw(published, change)
    light, heavy = both_ways(monkeypatch, *args)
    assert light == heavy
    code, stdout, stderr = light
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"error: ledger sqlite:///{published.resolve()}: ")
    assert said in stderr
    assert len(stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "content", [b"", b"this is not a database" * 100], ids=["empty file", "not a database"]
)
def test_a_file_that_is_no_ledger_reads_as_through_sqlalchemy(
    data_dir: Path, content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty file is no ledger (nothing published); another file is a database error, one
    line naming the ledger, exit 1."""
    data_dir.mkdir(parents=True)
    (data_dir / "ledger.db").write_bytes(content)
    light, heavy = both_ways(monkeypatch, "model", "list")
    assert light == heavy
    if content:
        assert light[0] == 1 and light[1] == ""
        assert light[2] == (
            f"error: ledger sqlite:///{(data_dir / 'ledger.db').resolve()}: DatabaseError: "
            "(sqlite3.DatabaseError) file is not a database\n"
        )
    else:
        assert light[0] == 0 and "published" not in light[1]
    assert (data_dir / "ledger.db").read_bytes() == content


@pytest.mark.parametrize("folder", ["q?mark", "per%cent", "hash#tag", "ünï"])
def test_an_explicit_sqlite_url_reads_alike(
    published: Path, tmp_path: Path, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--ledger-url sqlite:///...`` (escaped) is read with sqlite3 too, and a missing file
    there is no ledger, named as SQLAlchemy renders its URL."""
    moved = tmp_path / folder / "ledger.db"
    moved.parent.mkdir()
    published.rename(moved)
    from ledger import sqlite_url

    url = sqlite_url(str(moved))
    light, heavy = both_ways(monkeypatch, "model", "list", "--ledger-url", url)
    assert light == heavy and light[0] == 0 and "acme@1.10" in light[1]
    missing = sqlite_url(str(moved.with_name("none.db")))
    light, heavy = both_ways(monkeypatch, "model", "validate", "acme", "--ledger-url", missing)
    assert light == heavy and light[0] == 1
    assert f"no ledger at {missing}, so nothing is published" in light[1]


@pytest.mark.parametrize("args", COMMANDS[:3], ids=" ".join)
def test_a_published_at_that_is_no_time_fails_as_one_line(
    published: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw(published, "UPDATE models SET published_at = 'yesterday' WHERE version = '1.2'")
    light, heavy = both_ways(monkeypatch, *args)
    assert light == heavy
    code, stdout, stderr = light
    assert (code, stdout) == (1, "")
    assert "registry entry acme@1.2" in stderr and len(stderr.splitlines()) == 1
