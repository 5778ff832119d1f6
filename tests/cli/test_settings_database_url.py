"""``settings.database_of`` reads a ledger URL without SQLAlchemy: it must give SQLAlchemy's
verdict on every URL, so that no command accepts a ledger URL that SQLAlchemy would refuse to
open (or the other way round)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import SQLAlchemyError

from phasegate.settings import LEDGER_DATABASES, database_of


def by_sqlalchemy(url: str) -> tuple[str, str] | None:
    """The URL's (backend, driver) as SQLAlchemy opens it: the dialect it loads for the URL
    (``get_driver_name()`` alone names "pysqlite" for ``sqlite+pysqlite+extra``, whose
    dialect SQLAlchemy cannot load: every ledger command would fail on it)."""
    try:
        dialect = sa.make_url(url).get_dialect()
        return (dialect.name, dialect.driver)
    except (SQLAlchemyError, ValueError, TypeError):
        return None


def verdict(kind: tuple[str, str] | None) -> tuple[str, str] | None:
    return kind if kind in LEDGER_DATABASES else None


URLS = [
    "sqlite:///ledger.db",
    "sqlite:////abs/path/ledger.db",
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite+pysqlite:///x.db",
    "sqlite+pysqlite+extra:///x.db",
    "sqlite+pysqlite+:///x.db",
    "postgresql+psycopg+x://u@h/db",
    "sqlite+:///x.db",
    "sqlite+aiosqlite:///x.db",
    "sqlite:///a?b=c&d",
    "sqlite:///with space/and%20escape/l.db",
    "sqlite:///q%3Fmark/l.db#frag",
    "postgresql://u@h/db",
    "postgresql+psycopg://u:p@h:5432/db",
    "postgresql+psycopg://u:p%40ss@h/db?sslmode=require",
    "postgresql+psycopg://u@[::1]:5432/db",
    "postgresql+psycopg://u@h:/db",
    "postgresql+psycopg://u@h:abc/db",
    "postgresql+psycopg://u@h: 5432/db",
    "postgresql+psycopg://u@h:+5432/db",
    "postgresql+psycopg://u@h:5_432/db",
    "postgresql+psycopg://u@h:99999/db",
    "postgresql+psycopg2://u@h/db",
    "postgresql+asyncpg://u@h/db",
    "postgres://u@h/db",
    "POSTGRESQL+psycopg://u@h/db",
    "SQLITE:///x.db",
    "mysql://u@h/db",
    "mysql+pymysql://u@h/db",
    "oracle://u@h/db",
    "nosuchdb://u@h/db",
    "notaurl",
    "sqlite:/x.db",
    "sqlite:x.db",
    "://x",
    "",
    "sqlite:///x.db\n",
    "sqlite:///x.db\nfoo",
    "postgresql+psycopg://u@h:5432\n/db",
    " sqlite:///x.db",
    "sqlité:///x.db",
]


@pytest.mark.parametrize("url", URLS)
def test_the_ledger_url_verdict_is_sqlalchemys(url: str) -> None:
    assert verdict(database_of(url)) == verdict(by_sqlalchemy(url))


SCHEMES = st.sampled_from(
    ["sqlite", "postgresql", "mysql", "postgres", "SQLITE", "sqlite3", "oracle", "x"]
)
DRIVERS = st.sampled_from(["", "+pysqlite", "+psycopg", "+psycopg2", "+", "+aiosqlite", "+a+b"])
PIECE = st.text(alphabet=st.sampled_from("ab1:/@?[]%+ =#\n."), max_size=12)


@given(
    scheme=SCHEMES,
    driver=DRIVERS,
    sep=st.sampled_from(["://", ":/", "//", ":///", "://///"]),
    user=st.sampled_from(["", "u@", "u:p@", "u:p@@", ":@"]),
    host=st.sampled_from(["", "h", "[::1]", "[bad", "h.example.org"]),
    port=st.sampled_from(["", ":", ":5432", ":x", ": 1", ":1_0", ":٣"]),
    rest=PIECE,
)
def test_composed_urls_get_sqlalchemys_verdict(
    scheme: str, driver: str, sep: str, user: str, host: str, port: str, rest: str
) -> None:
    url = f"{scheme}{driver}{sep}{user}{host}{port}{rest}"
    assert verdict(database_of(url)) == verdict(by_sqlalchemy(url)), url


@given(st.text(max_size=40))
def test_any_text_gets_sqlalchemys_verdict(url: str) -> None:
    assert verdict(database_of(url)) == verdict(by_sqlalchemy(url))


PROBE = """
import json, sys
from typer.testing import CliRunner
from phasegate.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"code": result.exit_code, "output": result.output,
                  "sqlalchemy": "sqlalchemy" in sys.modules}))
"""


def probe(url: str, data_dir: Path, *args: str) -> dict[str, Any]:
    """``phasegate ARGS`` in a fresh interpreter with ``PHASEGATE_LEDGER_URL=url``: its exit
    code, its output, and whether it imported SQLAlchemy."""
    env = {**os.environ, "PHASEGATE_LEDGER_URL": url, "PHASEGATE_DATA_DIR": str(data_dir)}
    env.pop("PHASEGATE_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://pmo@db.example.org/phasegate", "sqlite:////srv/ledger.db"]
)
@pytest.mark.parametrize(
    "args", [("project", "status", "nothing-here"), ("project", "list")], ids=" ".join
)
def test_a_ledger_url_that_is_set_does_not_import_sqlalchemy(
    url: str, args: tuple[str, ...], tmp_path: Path
) -> None:
    """Production sets PHASEGATE_LEDGER_URL; the commands that never open the ledger (the
    project reads ask Temporal) still start without SQLAlchemy (~0.2 s)."""
    result = probe(url, tmp_path, *args)
    assert "setting ledger_url" not in result["output"]
    assert result["code"] == 1, result["output"]  # no Temporal server: nothing to ask
    assert result["sqlalchemy"] is False


def test_a_bad_ledger_url_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = probe("postgres://pmo@db/phasegate", tmp_path, "project", "status", "p1")
    assert result["code"] != 0
    assert "not a ledger database URL: postgres://pmo@db/phasegate" in result["output"]


@pytest.mark.parametrize("url", ["sqlite+pysqlite+extra:///{}", "postgresql+psycopg+x://u@h/db"])
def test_a_driver_sqlalchemy_cannot_load_is_refused_by_the_settings(
    url: str, tmp_path: Path
) -> None:
    """Accepted, it made every ledger command a traceback (ValueError: too many values to
    unpack) from deep inside SQLAlchemy."""
    (tmp_path / "ledger.db").write_bytes(b"")
    url = url.format(tmp_path / "ledger.db")
    result = probe(url, tmp_path, "model", "list")
    assert result["code"] != 0
    assert f"not a ledger database URL: {url}" in result["output"]
