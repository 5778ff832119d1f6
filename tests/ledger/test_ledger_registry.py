"""The model registry in the ledger's database: publish once per name@version, read back whole."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from ledger_support import EventFactory, RawSql

import governance as g
from governance.audit import GENESIS_HASH, AuditEventIn, event_hash
from ledger import Ledger, LedgerError, LedgerMissing, ModelRefused
from tests.governance.gov_cases import PF_MODEL

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def acme(version: str = "1.0", **changes: object) -> g.GovernanceModel:
    data = copy.deepcopy(PF_MODEL)
    data.update({"name": "acme", "version": version, "title": "Acme delivery model", **changes})
    return g.parse_model(data)


def test_a_published_model_reads_back_with_its_hash_and_publisher(ledger: Ledger) -> None:
    model = acme()
    entry, new = ledger.publish_model(model, "eva", at=AT)
    assert new and entry.sha256 == model.content_hash() and entry.ref == "acme@1.0"
    stored = ledger.published_model("acme", "1.0")
    assert stored is not None
    assert stored.model == model and stored.model.content_hash() == model.content_hash()
    assert (stored.published_by, stored.published_at) == ("eva", AT)
    assert ledger.published_model("acme", "2.0") is None
    ledger.publish_model(acme("1.10"), "eva", at=AT)
    ledger.publish_model(acme("1.9"), "eva", at=AT)
    assert [p.ref for p in ledger.published_models()] == ["acme@1.0", "acme@1.9", "acme@1.10"]


def test_publishing_the_same_content_again_changes_nothing(ledger: Ledger, raw_sql: RawSql) -> None:
    first, _ = ledger.publish_model(acme(), "eva", at=AT)
    again, new = ledger.publish_model(acme(), "olof", at=datetime.now(UTC))
    assert not new and again == first
    assert raw_sql("SELECT count(*) FROM models") == [(1,)]


def test_the_same_name_and_version_with_other_content_is_refused_naming_both_hashes(
    ledger: Ledger,
) -> None:
    original = acme()
    ledger.publish_model(original, "eva", at=AT)
    weaker = acme(title="Acme, without the board")
    with pytest.raises(ModelRefused) as info:
        ledger.publish_model(weaker, "mallory")
    message = str(info.value)
    assert "acme@1.0 is already published with other content" in message
    assert original.content_hash() in message and weaker.content_hash() in message
    stored = ledger.published_model("acme", "1.0")
    assert stored is not None and stored.model == original


@pytest.mark.parametrize("version", ["1.0", "9.9"])
def test_builtin_names_are_reserved(ledger: Ledger, version: str, raw_sql: RawSql) -> None:
    data = copy.deepcopy(PF_MODEL)
    data.update(version=version)
    data["phases"][0]["gate"]["forbid_self_approval"] = False
    with pytest.raises(ModelRefused, match='"projektflodet" is the name of a built-in model'):
        ledger.publish_model(g.parse_model(data), "mallory")
    assert raw_sql("SELECT count(*) FROM models") == [(0,)]


def test_an_entry_altered_behind_the_ledgers_back_is_refused_on_read(
    ledger: Ledger, raw_sql: RawSql
) -> None:
    ledger.publish_model(acme(), "eva", at=AT)
    content = json.loads(raw_sql("SELECT content FROM models")[0][0])
    content["phases"][0]["gate"]["forbid_self_approval"] = False
    raw_sql("UPDATE models SET content = :c", c=json.dumps(content))
    with pytest.raises(LedgerError, match=r"registry entry acme@1\.0 was altered"):
        ledger.published_model("acme", "1.0")


def test_existing_creates_nothing_where_there_is_no_ledger(tmp_path: Path, ledger_url: str) -> None:
    missing = tmp_path / "nowhere" / "ledger.db"
    with pytest.raises(LedgerMissing, match="no such database file"):
        Ledger.existing(f"sqlite:///{missing}")
    assert not missing.parent.exists()
    # A database without the ledger's tables (not migrated) is no ledger either.
    if sa.make_url(ledger_url).get_backend_name() == "sqlite":
        Path(ledger_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
        sa.create_engine(ledger_url).connect().close()
    with pytest.raises(LedgerMissing, match="holds no ledger tables"):
        Ledger.existing(ledger_url)
    with Ledger(ledger_url) as made:
        made.migrate()
    with Ledger.existing(ledger_url) as found:
        assert found.published_models() == []


def test_csv_export_neutralises_formulas_and_stays_verifiable(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """Cells starting with = + - @ (and ' itself) get a leading '; dropping it gives back the
    recorded text, whose hashes are the stored ones."""
    texts = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "'quoted", "plain"]
    for seq, text in enumerate(texts, 1):
        ledger.append(make_event("p", seq, comment=text, actor="@mallory"))
    out = io.StringIO(newline="")
    ledger.export(out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [r["comment"] for r in rows] == ["'" + t if t[0] in "=+-@'" else t for t in texts]
    assert all(r["actor"] == "'@mallory" for r in rows)
    prev = GENESIS_HASH
    for row in rows:
        raw = {k: v[1:] if v.startswith("'") else v for k, v in row.items()}
        assert raw["prev_hash"] == prev
        fields = {k: (v if v != "" else None) for k, v in raw.items() if "hash" not in k}
        event = AuditEventIn.model_validate(
            {**fields, "model_hash": raw["model_hash"], "payload": json.loads(raw["payload"])}
        )
        assert event_hash(event, prev) == raw["hash"]
        prev = raw["hash"]
