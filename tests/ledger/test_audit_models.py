"""The pure audit models: validation and the canonical event hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from ledger_support import EventFactory
from pydantic import ValidationError

from governance.audit import GENESIS_HASH, AuditEvent, EventKind, event_hash


def test_event_hash_is_sha256_hex_and_depends_on_prev_hash(make_event: EventFactory) -> None:
    event = make_event()
    first = event_hash(event, GENESIS_HASH)
    assert len(first) == 64 and int(first, 16) >= 0
    assert event_hash(event, GENESIS_HASH) == first
    assert event_hash(event, "1" * 64) != first


def test_event_hash_is_the_same_for_the_same_instant_in_any_timezone(
    make_event: EventFactory,
) -> None:
    at = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    cet = make_event(at=at.astimezone(timezone(timedelta(hours=1))))
    utc = make_event(at=at)
    assert cet.at.tzinfo == UTC
    assert event_hash(cet, GENESIS_HASH) == event_hash(utc, GENESIS_HASH)


def test_event_hash_changes_with_any_content_field(make_event: EventFactory) -> None:
    base = event_hash(make_event(), GENESIS_HASH)
    changed = [
        make_event(comment="other"),
        make_event(payload={"decision": "no-go"}),
        make_event(at=make_event().at + timedelta(microseconds=1)),
        make_event(kind=EventKind.gate_passed),
        make_event(actor=None),
        make_event(run_id="run-2"),
    ]
    assert all(event_hash(e, GENESIS_HASH) != base for e in changed)


def test_event_hash_of_a_stored_event_covers_only_its_content(make_event: EventFactory) -> None:
    event = make_event()
    digest = event_hash(event, GENESIS_HASH)
    stored = AuditEvent(**event.model_dump(), prev_hash=GENESIS_HASH, hash=digest)
    assert event_hash(stored, GENESIS_HASH) == digest


def test_event_hash_is_sha256_of_the_documented_canonical_json(make_event: EventFactory) -> None:
    """The canonical form is a storage format: stored chains stop verifying if it changes."""
    event = make_event(
        at=datetime(2025, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1))),
        payload={"b": 1, "a": "é"},
        comment=None,
    )
    canonical = (
        '{"actor":"alice","at":"2025-01-02T03:04:05.000000+00:00","comment":null,'
        '"from_state":"idea","kind":"vote_cast","model":"projektflodet@1.0.0",'
        f'"model_hash":"{"ab" * 32}","payload":{{"a":"é","b":1}},"prev_hash":"{GENESIS_HASH}",'
        '"project_id":"proj-a","role":"executive","run_id":"run-1","seq":1,"to_state":"idea",'
        '"workflow_id":"project-proj-a"}'
    )
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert event_hash(event, GENESIS_HASH) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("at", datetime(2025, 1, 1, 12, 0)),  # naive
        ("seq", 0),
        ("comment", "x" * 4001),
        ("payload", {"when": datetime(2025, 1, 1, tzinfo=UTC)}),
        ("payload", {"nan": float("nan")}),
        ("model", "projektflodet"),
        ("model_hash", "not-a-sha"),
        ("kind", "gate_exploded"),
        ("unknown_field", 1),
    ],
)
def test_audit_event_in_rejects_invalid_field(
    make_event: EventFactory, field: str, value: object
) -> None:
    with pytest.raises(ValidationError):
        make_event(**{field: value})


def test_audit_event_in_is_frozen(make_event: EventFactory) -> None:
    with pytest.raises(ValidationError):
        make_event().seq = 2
