"""Exporting the audit trail as JSON lines and CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from ledger_support import EventFactory

from governance.audit import AuditEvent
from ledger import Ledger


@pytest.fixture
def stored(ledger: Ledger, make_event: EventFactory) -> list[AuditEvent]:
    for seq in (1, 2, 3):
        ledger.append(make_event("proj-a", seq))
    ledger.append(make_event("proj-b", 1, comment=None, payload={"q": 'say "hi", ok'}))
    return ledger.events()


def test_export_jsonl_writes_one_parsable_event_per_line(
    ledger: Ledger, stored: list[AuditEvent]
) -> None:
    out = io.StringIO()
    assert ledger.export(out, "jsonl") == 4
    lines = out.getvalue().splitlines()
    assert [AuditEvent.model_validate_json(line) for line in lines] == stored
    assert json.loads(lines[0])["at"] == "2025-03-01T09:31:00.123456+00:00"


def test_export_csv_has_a_header_and_round_trips_every_field(
    ledger: Ledger, stored: list[AuditEvent]
) -> None:
    out = io.StringIO(newline="")
    assert ledger.export(out, "csv") == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert list(rows[0]) == list(AuditEvent.model_fields)
    parsed = [
        AuditEvent.model_validate(
            {
                **{k: (v if v != "" else None) for k, v in row.items()},
                "payload": json.loads(row["payload"]),
            }
        )
        for row in rows
    ]
    assert parsed == stored


def test_export_filters_by_project(ledger: Ledger, stored: list[AuditEvent]) -> None:
    out = io.StringIO()
    assert ledger.export(out, "jsonl", project_id="proj-b") == 1
    assert json.loads(out.getvalue())["project_id"] == "proj-b"


def test_export_rejects_an_unknown_format(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        ledger.export(io.StringIO(), "xml")  # type: ignore[arg-type]
