"""The registry of a SQLite ledger read with sqlite3 alone (``RegistryFile``): the same entries,
in the same order, and the same errors as the SQLAlchemy ledger gives for the same file."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

import governance as g
import ledger
from ledger import Ledger, LedgerMissing, PublishedModel, RegistryFile
from ledger._ledger import _alembic_config
from ledger._revisions import HEAD, REVISIONS, VERSION_TABLE
from tests.governance.gov_cases import PF_MODEL

AT = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)


def model(name: str, version: str, **changes: object) -> g.GovernanceModel:
    data = copy.deepcopy(PF_MODEL)
    data.update({"name": name, "version": version, "title": f"{name} delivery", **changes})
    return g.parse_model(data)


@pytest.fixture(params=["plain", "q?mark %25 #hash ü"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a SQLite ledger file, not yet made (its folder's name escaped in the URL)."""
    folder = tmp_path / request.param
    folder.mkdir()
    return ledger.sqlite_url(str(folder / "ledger.db"))


@pytest.fixture
def published(url: str) -> str:
    """``url`` with a migrated ledger holding several published models."""
    with Ledger(url) as made:
        made.migrate()
        for name, version in [("acme", "1.10"), ("beta", "1.0"), ("acme", "1.2"), ("acme", "2")]:
            made.publish_model(model(name, version), "eva", at=AT)
    return url


def sql(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def through_sqlalchemy(url: str, read: Callable[[Any], Any]) -> Any:
    with Ledger.existing(url) as opened:
        return read(opened)


def through_sqlite3(url: str, read: Callable[[Any], Any]) -> Any:
    with RegistryFile.existing(url) as opened:
        return read(opened)


def outcome(url: str, read: Callable[[Any], Any]) -> list[object]:
    """What each reader gives: its result, or its error's type and message."""
    found: list[object] = []
    for reader in (through_sqlalchemy, through_sqlite3):
        try:
            found.append(reader(url, read))
        except Exception as exc:  # the comparison is the test: any error, the same one
            found.append((type(exc), str(exc)))
    return found


def all_models(opened: Any) -> list[PublishedModel]:
    return list(opened.published_models())


def test_the_known_revisions_are_alembics_history() -> None:
    """A new migration cannot be forgotten here: the reader would refuse every new ledger."""
    script = ScriptDirectory.from_config(_alembic_config())
    assert script.get_current_head() == HEAD
    assert list(REVISIONS) == [r.revision for r in reversed(list(script.walk_revisions()))]


def test_both_readers_give_the_same_entries_in_the_same_order(published: str) -> None:
    via_sqlalchemy, via_sqlite3 = outcome(published, all_models)
    assert via_sqlite3 == via_sqlalchemy
    assert [e.ref for e in via_sqlite3] == ["acme@1.2", "acme@1.10", "acme@2", "beta@1.0"]
    assert {e.published_at for e in via_sqlite3} == {AT}  # aware, UTC, to the microsecond
    assert via_sqlite3[0].published_at.tzinfo is UTC


@pytest.mark.parametrize("ref", ["acme@1.10", "beta@1.0", "acme@1.3", "gamma@1.0"])
def test_both_readers_find_the_same_entry(published: str, ref: str) -> None:
    name, _, version = ref.partition("@")
    via_sqlalchemy, via_sqlite3 = outcome(published, lambda r: r.published_model(name, version))
    assert via_sqlite3 == via_sqlalchemy
    assert (via_sqlite3 is None) == (ref in ("acme@1.3", "gamma@1.0"))


def test_a_ledger_without_models_publishes_none(url: str) -> None:
    with Ledger(url) as made:
        made.migrate()
    assert outcome(url, all_models) == [[], []]
    assert outcome(url, lambda r: r.published_model("acme", "1.0")) == [None, None]


@pytest.mark.parametrize(
    "assignment",
    [
        "content = :weaker",
        "sha256 = :zeros",
        "content = :other, sha256 = :other_hash",
        "content = :broken, sha256 = :broken_hash",
    ],
    ids=["content changed", "hash changed", "content and hash changed", "no model, hash to match"],
)
def test_a_tampered_row_is_refused_alike(published: str, assignment: str) -> None:
    other = model("acme", "1.3")
    broken = '{"name": "acme"}'
    params = {
        "weaker": model("acme", "1.2", title="weaker").canonical_json(),
        "zeros": "0" * 64,
        "other": other.canonical_json(),
        "other_hash": other.content_hash(),
        "broken": broken,
        "broken_hash": hashlib.sha256(broken.encode()).hexdigest(),
    }
    sql(published, f"UPDATE models SET {assignment} WHERE version = '1.2'", **params)
    for read in (all_models, lambda r: r.published_model("acme", "1.2")):
        via_sqlalchemy, via_sqlite3 = outcome(published, read)
        assert via_sqlite3 == via_sqlalchemy
        assert isinstance(via_sqlite3, tuple) and via_sqlite3[0] is ledger.LedgerError
        assert "registry entry acme@1.2" in via_sqlite3[1]


@pytest.mark.parametrize("revision", ["0002", "0003", "0006", None, "9999"])
def test_a_ledger_at_another_migration_is_refused_alike(url: str, revision: str | None) -> None:
    """Older (with and without the registry's table), empty, unknown: the same refusal."""
    with Ledger(url) as made:
        made.migrate()
        if revision in REVISIONS:
            config = _alembic_config()
            with made._transaction(write=True) as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, revision)
    if revision not in REVISIONS:
        sql(url, f"DELETE FROM {VERSION_TABLE}")
        if revision is not None:
            sql(url, f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:r)", r=revision)
    via_sqlalchemy, via_sqlite3 = outcome(url, all_models)
    assert via_sqlite3 == via_sqlalchemy
    assert isinstance(via_sqlite3, tuple) and via_sqlite3[0] is ledger.LedgerSchemaError


def test_no_file_and_an_empty_file_are_no_ledger_alike(url: str) -> None:
    missing = outcome(url, all_models)
    assert missing[1] == missing[0] and missing[1][0] is LedgerMissing
    path = ledger.plain_sqlite_file(url)
    assert path is not None
    path.write_bytes(b"")
    empty = outcome(url, all_models)
    assert empty[1] == empty[0] and empty[1][0] is LedgerMissing
    assert path.read_bytes() == b"" and sorted(path.parent.iterdir()) == [path]


def test_reading_leaves_the_ledger_files_as_they_were(published: str) -> None:
    path = ledger.plain_sqlite_file(published)
    assert path is not None
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    through_sqlite3(published, all_models)
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    assert after == before


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/plain/ledger.db",
        "sqlite:///relative/ledger.db",
        "sqlite:///a b.db",
        "sqlite:////tmp/q%3Fmark/p%25c/h%23t/%C3%BC/ledger.db",
        "sqlite:////tmp/h#t/ü/x@y/ledger.db",
        "sqlite:////tmp/a%2Fb.db",
        "sqlite:////tmp/x.db?timeout=5",
        "sqlite+pysqlite:////tmp/x.db",
        "sqlite://",
        "sqlite:///",
        "sqlite:///:memory:",
        "postgresql+psycopg://u:p@db/ledger",
    ],
)
def test_a_plain_sqlite_url_is_parsed_and_rendered_as_sqlalchemy_does(url: str) -> None:
    """The reader takes only the URLs it reads as SQLAlchemy would (the rest go to it)."""
    path = ledger.plain_sqlite_file(url)
    parsed = sa.make_url(url)
    if path is None:
        assert (
            parsed.drivername != "sqlite"
            or parsed.query
            or parsed.database
            in (
                None,
                "",
                ":memory:",
            )
        )
        return
    assert str(path) == parsed.database
    assert ledger.sqlite_url(str(path)) == parsed.render_as_string()


def test_reading_the_registry_imports_neither_sqlalchemy_nor_alembic(published: str) -> None:
    probe = (
        "import sys, ledger\n"
        "with ledger.RegistryFile.existing(sys.argv[1]) as r:\n"
        "    assert len(r.published_models()) == 4\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'ledger._ledger') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, published], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_every_name_of_the_ledger_face_is_there() -> None:
    for name in ledger.__all__:
        assert getattr(ledger, name) is not None, name
    assert set(ledger.__all__) <= set(dir(ledger))
    with pytest.raises(AttributeError):
        ledger.NoSuchName  # noqa: B018


@pytest.mark.parametrize("second", ["0006", "9999"])
def test_a_version_table_with_two_rows_is_refused_alike(published: str, second: str) -> None:
    """Alembic records one revision; two rows (a copied or altered table) is no ledger this
    code reads: the same ``LedgerSchemaError`` from both readers, not Alembic's CommandError."""
    sql(published, f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:r)", r=second)
    via_sqlalchemy, via_sqlite3 = outcome(published, all_models)
    assert via_sqlite3 == via_sqlalchemy
    assert isinstance(via_sqlite3, tuple) and via_sqlite3[0] is ledger.LedgerSchemaError
    assert f"the ledger at {published} " in via_sqlite3[1]
    with Ledger(published) as opened, pytest.raises(ledger.LedgerSchemaError) as refused:
        opened.migrate()  # a worker starting on it is told the same
    assert str(refused.value) == via_sqlite3[1]


def test_registry_tables_made_views_read_alike(published: str) -> None:
    """SQLAlchemy's ``has_table`` counts a view as a table; so does the reader."""
    for table in ("models", VERSION_TABLE):
        sql(published, f"ALTER TABLE {table} RENAME TO {table}_rows")
        sql(published, f"CREATE VIEW {table} AS SELECT * FROM {table}_rows")
    via_sqlalchemy, via_sqlite3 = outcome(published, all_models)
    assert via_sqlite3 == via_sqlalchemy
    assert [e.ref for e in via_sqlite3] == ["acme@1.2", "acme@1.10", "acme@2", "beta@1.0"]


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01 10:00:00", 1700000000, 2461000.5, ""])
def test_a_published_at_that_is_no_time_is_an_altered_row_alike(published: str, at: object) -> None:
    """A hand-edited ``published_at`` is a tampered row, said as one (``LedgerError`` naming
    the entry), not a ``ValueError`` traceback from a datetime parser."""
    sql(published, "UPDATE models SET published_at = :at WHERE version = '1.2'", at=at)
    for read in (all_models, lambda r: r.published_model("acme", "1.2")):
        via_sqlalchemy, via_sqlite3 = outcome(published, read)
        assert via_sqlite3 == via_sqlalchemy
        assert isinstance(via_sqlite3, tuple) and via_sqlite3[0] is ledger.LedgerError
        assert "registry entry acme@1.2" in via_sqlite3[1]


@pytest.mark.parametrize(
    ("at", "utc_at"),
    [
        ("2026-11-28 10:00:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("2026-11-28T12:00:00+02:00", datetime(2026, 11, 28, 10, tzinfo=UTC)),
        ("2026-11-28 10:00:00Z", datetime(2026, 11, 28, 10, tzinfo=UTC)),
    ],
)
def test_a_hand_written_published_at_reads_alike(published: str, at: str, utc_at: datetime) -> None:
    sql(published, "UPDATE models SET published_at = :at WHERE version = '1.2'", at=at)
    via_sqlalchemy, via_sqlite3 = outcome(published, lambda r: r.published_model("acme", "1.2"))
    assert via_sqlite3 == via_sqlalchemy
    assert via_sqlite3.published_at == utc_at


AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
NOBODY_PROBE = """
import json, sys
from ledger import Ledger, RegistryFile
found = []
for reader in (Ledger, RegistryFile):
    try:
        with reader.existing(sys.argv[1]) as opened:
            found.append([e.ref for e in opened.published_models()])
    except Exception as exc:
        found.append([type(exc).__name__, str(exc).splitlines()[0]])
print(json.dumps(found))
"""


@pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root to read as another user (setpriv)",
)
def test_a_reader_that_cannot_write_never_reads_past_the_ledgers_wal(published: str) -> None:
    """Commits still in ``ledger.db-wal`` (a writer that crashed, a copy without its -shm),
    read by a user without write access to the folder: ``immutable=1`` would ignore the WAL
    and answer from the stale main file ("no ledger", nothing published). Both readers
    refuse instead, naming the WAL."""
    path = ledger.plain_sqlite_file(published)
    assert path is not None
    folder = Path(tempfile.mkdtemp())
    try:
        holder = sqlite3.connect(path)  # open on the WAL: the last to close would checkpoint
        holder.execute("SELECT count(*) FROM models").fetchall()
        with Ledger(published) as more:
            more.publish_model(model("gamma", "1.0"), "eva", at=AT)
        shutil.copy(path, folder / "ledger.db")
        shutil.copy(path.with_name("ledger.db-wal"), folder / "ledger.db-wal")
        holder.close()
        assert (folder / "ledger.db-wal").stat().st_size > 0
        folder.chmod(0o755)
        for file in folder.iterdir():
            file.chmod(0o644)
        copy_url = ledger.sqlite_url(str(folder / "ledger.db"))
        done = subprocess.run(
            [*AS_NOBODY, sys.executable, "-c", NOBODY_PROBE, copy_url],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[2],
            env={**os.environ, "HOME": str(folder)},
        )
        via_sqlalchemy, via_sqlite3 = json.loads(done.stdout)
        assert via_sqlite3[0] == via_sqlalchemy[0] == "OperationalError"
        assert via_sqlalchemy[1] == f"(sqlite3.OperationalError) {via_sqlite3[1]}"
        assert "ledger.db-wal" in via_sqlite3[1]
        assert sorted(p.name for p in folder.iterdir()) == ["ledger.db", "ledger.db-wal"]
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("recorded", ["head", "heads", "0006@head", "base"])
def test_a_symbolic_alembic_name_in_the_version_table_is_unknown_alike(
    published: str, recorded: str
) -> None:
    """Alembic writes revision ids there, never its symbols: 'head' is no migration of this
    code (the Ledger resolved it, called the ledger older and told to upgrade it)."""
    sql(published, f"UPDATE {VERSION_TABLE} SET version_num = :r", r=recorded)
    via_sqlalchemy, via_sqlite3 = outcome(published, all_models)
    assert via_sqlite3 == via_sqlalchemy
    assert isinstance(via_sqlite3, tuple) and via_sqlite3[0] is ledger.LedgerSchemaError
    assert "does not know" in via_sqlite3[1]
    with Ledger(published) as opened, pytest.raises(ledger.LedgerSchemaError) as refused:
        opened.migrate()
    assert str(refused.value) == via_sqlite3[1]
