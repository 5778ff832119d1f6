"""``phasegate project history``: a project's timeline, read from the ledger (filled here
directly through ``Ledger.record`` with events as the workflows record them; no Temporal
server involved)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli, snapshot

from governance.audit import AuditEvent, AuditEventIn, EventKind
from ledger import Ledger
from phasegate import history
from phasegate.settings import Settings

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def event(seq: int, kind: EventKind, project_id: str = "new-crm", **fields: Any) -> AuditEventIn:
    values: dict[str, Any] = {
        "project_id": project_id,
        "seq": seq,
        "at": T0 + timedelta(days=seq, minutes=seq, seconds=30),
        "kind": kind,
        "from_state": "idea",
        "to_state": "idea",
        "model": "projektflodet@1.0",
        "model_hash": "ab" * 32,
        "workflow_id": f"project-{project_id}",
        "run_id": "run-1",
    }
    values.update(fields)
    return AuditEventIn(**values)


def stored(e: AuditEventIn) -> AuditEvent:
    return AuditEvent(**e.model_dump(), prev_hash="0" * 64, hash="0" * 64)


K = EventKind
ANNA = {"actor": "anna", "role": "project_manager"}
EVA = {"actor": "eva", "role": "executive"}
# (kind, fields, the line's phrase): events as the workflows record them, in chain order.
STORY: list[tuple[EventKind, dict[str, Any], str]] = [
    (K.project_started, {"from_state": None, "payload": {"title": "Nytt CRM"}},
     'project started "Nytt CRM"'),
    (K.phase_started, {"from_state": None, "payload": {"phase": "idea", "opens_at": None}},
     "phase idea started"),
    (K.deliverable_submitted, {**ANNA, "payload": {"phase": "idea", "name": "business_case",
     "version": 1, "sha256": "cd" * 32, "size": 10, "url": None}},
     "submitted deliverable business_case v1 (phase idea)"),
    (K.gate_opened, {**ANNA, "to_state": "idea_gate", "comment": "ready",
     "payload": {"round": 1, "deadline": "2027-01-20T09:00:00+00:00", "deliverables": []}},
     "requested gate idea_gate (round 1): ready"),
    (K.reminder_sent, {"from_state": "idea_gate", "to_state": "idea_gate",
     "payload": {"awaited": ["eva"], "deadline": "2027-01-20T09:00:00+00:00"}},
     "reminder about gate idea_gate (awaiting eva, due 2027-01-20T09:00Z)"),
    (K.vote_cast, {**EVA, "from_state": "idea_gate", "to_state": "idea_gate",
     "comment": "the costs are unclear",
     "payload": {"decision": "rework", "round": 1, "level": None}},
     "voted rework on gate idea_gate round 1: the costs are unclear"),
    (K.gate_rework, {"actor": "eva", "from_state": "idea_gate", "to_state": "idea",
     "payload": {"round": 1, "votes": 1, "level": None}},
     "gate idea_gate round 1: rework, back to idea"),
    (K.gate_opened, {**ANNA, "to_state": "idea_gate", "payload": {"round": 2}},
     "requested gate idea_gate (round 2)"),
    (K.vote_cast, {"actor": "bo", "role": "mottagare", "from_state": "idea_gate",
     "to_state": "idea_gate", "comment": "users are not ready",
     "payload": {"decision": "reject", "round": 2, "level": None, "counted": False}},
     "advised reject on gate idea_gate round 2: users are not ready"),
    (K.reminder_sent, {"from_state": "idea_gate", "to_state": "idea_gate",
     "payload": {"awaited": ["eva"], "advice_awaited": ["cecilia", "dan"],
                 "deadline": "2027-01-30T09:00:00+00:00"}},
     "reminder about gate idea_gate (awaiting eva, advice awaited from cecilia, dan, "
     "due 2027-01-30T09:00Z)"),
    (K.escalated, {"from_state": "idea_gate", "to_state": "idea_gate", "role": "sponsor",
     "payload": {"from_level": None, "to_level": "board", "deadline": "2027-02-01"}},
     "escalated gate idea_gate to level board (decides: sponsor, due 2027-02-01)"),
    (K.escalated, {"from_state": "idea_gate", "to_state": "idea_gate",
     "payload": {"from_level": "board", "to_level": None,
                 "note": "SLA passed at the top of the escalation chain"}},
     "gate idea_gate not escalated further: SLA passed at the top of the escalation chain"),
    (K.vote_cast, {**EVA, "from_state": "idea_gate", "to_state": "idea_gate",
     "payload": {"decision": "approve", "round": 2, "level": "board"}},
     "voted approve on gate idea_gate round 2 (at level board)"),
    (K.gate_passed, {"actor": "eva", "from_state": "idea_gate", "to_state": "pre_study",
     "payload": {"round": 2, "votes": 1, "level": "board"}},
     "gate idea_gate round 2 passed: pre_study started"),
    (K.phase_started, {"actor": "eva", "to_state": "pre_study",
     "payload": {"phase": "pre_study", "opens_at": "2027-03-01T00:00:00+00:00"}},
     "phase pre_study opens 2027-03-01T00:00Z"),
    (K.held, {**EVA, "from_state": "pre_study", "to_state": "on_hold",
     "comment": "budget freeze"}, "held the project: budget freeze"),
    (K.resumed, {**EVA, "from_state": "on_hold", "to_state": "pre_study",
     "payload": {"paused_seconds": 7 * 86400.0}}, "resumed the project (held 7.0 days)"),
    (K.iteration_started, {"payload": {"number": 1, "chain": "new-crm/it-1", "backlog": []}},
     "iteration 1 started"),
    (K.iteration_closed, {"actor": "anna", "payload": {"number": 1, "reason": "gate requested"}},
     "iteration 1 closed: gate requested"),
    (K.iteration_finished, {"payload": {"number": 1, "outcome": "delivered",
     "committed_items": 4, "completed_items": 3}},
     "iteration 1 finished: delivered (3/4 items done)"),
    (K.progress_reported, {**ANNA, "payload": {"number": 2, "as_of": "2027-02-01",
     "actual_cost": 1000.0, "earned_scope": 0.25}},
     "progress report #2 (as of 2027-02-01, actual cost 1000, earned scope 0.25)"),
    (K.rag_changed, {"actor": "anna", "payload": {"from": "green", "to": "amber"}},
     "RAG green -> amber"),
    (K.rag_changed, {"actor": "bo", "payload": {"work_package": "wp-1", "from": None,
     "to": "red"}}, "work package wp-1: RAG none -> red"),
    (K.change_requested, {**ANNA, "payload": {"id": "CR-1", "title": "SSO login",
     "classification": "formal"}}, "requested change CR-1: SSO login (formal)"),
    (K.vote_cast, {**EVA, "payload": {"decision": "approve", "round": 1,
     "decision_kind": "change", "decision_id": "CR-1"}},
     "voted approve on change CR-1 round 1"),
    (K.change_decided, {"actor": "eva", "payload": {"id": "CR-1", "outcome": "approved",
     "classification": "formal", "operational": False}}, "change CR-1 approved"),
    (K.change_decided, {"actor": "anna", "payload": {"id": "CR-2", "outcome": "approved",
     "classification": "minor", "operational": True}},
     "change CR-2 approved (minor, decided by the project manager)"),
    (K.baseline_changed, {"actor": "eva", "payload": {"version": 2, "old": {}, "new": {},
     "change": "CR-1"}}, "baseline changed to version 2 (change CR-1)"),
    (K.exception_raised, {"actor": "anna", "payload": {"id": "EX-1", "cause": "tolerance",
     "levels": ["stage"], "aspects": ["cost", "time"], "to_level": "board"}},
     "exception EX-1 raised (tolerance, cost, time, to level board)"),
    (K.report_issued, {"payload": {"kind": "exception", "number": 1, "sha256": "ef" * 32}},
     "exception report #1 issued"),
    (K.exception_raised, {"actor": "anna", "payload": {"id": "EX-1", "added_aspects": ["scope"],
     "added_levels": []}}, "exception EX-1 widened to scope"),
    (K.tolerance_widened, {**EVA, "payload": {"exception": "EX-1", "levels": ["stage"]}},
     "tolerances widened at stage (exception EX-1)"),
    (K.exception_resolved, {**EVA, "comment": "accepted once",
     "payload": {"id": "EX-1", "outcome": "widen_tolerance", "level": "board"}},
     "exception EX-1 decided: widen_tolerance (at level board): accepted once"),
    (K.exception_decided, {"actor": "eva", "payload": {"id": "EX-2", "outcome": "close"}},
     "exception EX-2 decided (close)"),
    (K.task_created, {"payload": {"title": "Review the business case"}},
     "task created (Review the business case)"),
    (K.task_completed, {**ANNA, "comment": "read it twice", "payload": {
     "task": "idea_gate/2/task1/anna", "title": "Review the business case", "assignee": "anna",
     "round": 2}}, "completed task: Review the business case: read it twice"),
    (K.task_completed, {**ANNA, "payload": {"task": "idea_gate/2/task1/eva",
     "title": "Review the business case", "assignee": "eva", "round": 2}},
     "completed task: Review the business case (assigned to eva)"),
    (K.delegation_granted, {**ANNA, "payload": {"delegation": 1, "delegator": "anna",
     "substitute": "bo", "roles": ["bestallare"], "starts_at": "2027-03-01T00:00:00+01:00",
     "ends_at": "2027-03-06T00:00:00+01:00"}},
     "delegated to bo from 2027-02-28T23:00Z until 2027-03-05T23:00Z "
     "(delegation 1, bestallare)"),
    (K.delegation_revoked, {**ANNA, "payload": {"delegation": 1, "delegator": "anna",
     "substitute": "bo"}}, "delegation 1 revoked (of anna, to bo)"),
    (K.delegation_ended, {"payload": {"delegation": 2, "delegator": "anna",
     "substitute": "bo"}}, "delegation 2 ended (of anna, to bo)"),
    (K.history_reset, {"actor": "temporal", "payload": {"superseded_from": 30,
     "superseded_to": 31, "run_id": "run-2"}},
     "workflow reset in Temporal: events 30 to 31 superseded"),
    (K.iteration_opened, {"payload": {"iteration": 2, "number": 2, "phase": "execution"}},
     "iteration 2 opened for planning"),
    (K.iteration_planned, {**ANNA, "payload": {"iteration": 2, "goal": "Login works",
     "items": [{"id": "a"}, {"id": "b"}]}}, "planned iteration 2: Login works (2 items)"),
    (K.items_added, {**ANNA, "payload": {"iteration": 2, "items": [{"id": "c"}]}},
     "added 1 item to iteration 2"),
    (K.items_done, {"actor": "bo", "payload": {"iteration": 2, "items": ["a", "c"]}},
     "reported done: a, c"),
    (K.standup, {"payload": {"iteration": 2, "n": 3, "team": ["bo"]}},
     "stand-up 3 of iteration 2"),
    (K.execution_ended, {**ANNA, "payload": {"iteration": 2, "reason": "timebox over"}},
     "execution of iteration 2 ended: timebox over"),
    (K.demo_recorded, {**ANNA, "payload": {"iteration": 2, "attendees": ["eva", "bo"]}},
     "recorded the demo of iteration 2 (attendees: eva, bo)"),
    (K.delivery_decided, {**EVA, "payload": {"iteration": 2, "decision": "deliver"}},
     "decided delivery of iteration 2: deliver"),
    (K.retro_recorded, {**ANNA, "payload": {"iteration": 2, "keep": ["pairing"]}},
     "recorded the retrospective of iteration 2"),
    (K.iteration_ended, {"payload": {"iteration": 2, "outcome": "delivered"}},
     "iteration 2 ended: delivered"),
    (K.cancelled, {**EVA, "to_state": "cancelled", "comment": "no money left"},
     "cancelled the project: no money left"),
    (K.closed, {"actor": "eva", "to_state": "closed", "payload": {"outcome": "rejected"}},
     "project closed (rejected)"),
    (K.gate_rejected, {"actor": "eva", "from_state": "idea_gate", "to_state": "closed",
     "payload": {"round": 3}}, "gate idea_gate round 3 rejected: project closed"),
]  # fmt: skip
EVENTS = [event(seq, kind, **fields) for seq, (kind, fields, _) in enumerate(STORY, start=1)]


def who(e: AuditEventIn) -> str:
    if e.actor is None:
        return "phasegate"
    return f"{e.actor} ({e.role})" if e.role else e.actor


WIDTH = max(len(who(e)) for e in EVENTS)
EXPECTED = [
    f"{e.at:%Y-%m-%dT%H:%M}Z  {who(e).ljust(WIDTH)}  {text}"
    for e, (_, _, text) in zip(EVENTS, STORY, strict=True)
]


def fill(url: str, events: list[AuditEventIn]) -> None:
    with Ledger(url) as ledger:
        ledger.migrate()
        ledger.record(events)


@pytest.fixture
def ledger_url(data_dir: Path) -> str:
    """The data dir's ledger: the story of new-crm, recorded in two writes as a workflow's
    writer does, and another project's first event."""
    url = Settings(data_dir=data_dir).effective_ledger_url()
    fill(url, EVENTS[:10])
    fill(url, EVENTS[10:])
    fill(url, [event(1, K.project_started, "other", payload={"title": "Other"})])
    return url


def test_every_event_kind_has_a_phrase_of_its_own() -> None:
    assert {kind for kind, _, _ in STORY} == set(EventKind)
    for kind in EventKind:  # even with an empty payload: no fallback, no failure
        text = history.phrase(stored(event(1, kind)))
        assert text and text != str(kind), kind


def test_a_kind_without_a_phrase_falls_back_to_its_name() -> None:
    odd = stored(event(1, K.held)).model_copy(update={"kind": "audit_rotated"})
    assert history.phrase(odd) == "audit_rotated"


def test_history_prints_the_timeline_oldest_first_newest_last(ledger_url: str) -> None:
    result = cli("project", "history", "new-crm")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == EXPECTED
    assert result.stderr == ""
    assert EXPECTED[0].startswith("2027-01-12T09:01Z  phasegate ")
    assert EXPECTED[5].startswith("2027-01-17T09:06Z  eva (executive) ")


def test_the_timeline_is_in_chain_order_whatever_order_it_is_given_in() -> None:
    events = [stored(e) for e in EVENTS]
    assert history.lines(reversed(events)) == EXPECTED
    assert [e.seq for e in history.entries(reversed(events))] == list(range(1, len(EVENTS) + 1))


def test_history_as_json_is_one_object_per_event(ledger_url: str) -> None:
    result = cli("project", "history", "new-crm", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == len(EVENTS)
    vote = rows[5]
    assert vote == {
        "at": "2027-01-17T09:06:30+00:00",
        "seq": 6,
        "kind": "vote_cast",
        "actor": "eva",
        "role": "executive",
        "from_state": "idea_gate",
        "to_state": "idea_gate",
        "comment": "the costs are unclear",
        "text": "voted rework on gate idea_gate round 1",
        "payload": {"decision": "rework", "round": 1, "level": None},
    }
    assert [r["seq"] for r in rows] == list(range(1, len(EVENTS) + 1))


def test_control_characters_cannot_reach_the_terminal(data_dir: Path) -> None:
    url = Settings(data_dir=data_dir).effective_ledger_url()
    evil = "Evil\x1b]0;owned\x07 \u202eright\nsecond line"
    fill(url, [
        event(1, K.project_started, actor="x\x1b[2J", payload={"title": evil}),
        event(2, K.held, actor="eva", comment=evil),
    ])  # fmt: skip
    for args in (["new-crm"], ["new-crm", "--json"]):
        out = cli("project", "history", *args).stdout
        assert not {"\x1b", "\x07", "\u202e"} & set(out), args
    lines = cli("project", "history", "new-crm").stdout.splitlines()
    assert len(lines) == 2  # a newline in a comment does not start a line of its own
    assert lines[0].endswith('x\\x1b[2J  started the project "Evil\\x1b]0;owned\\x07 '
                             '\\u202eright\\nsecond line"')  # fmt: skip
    assert lines[1].endswith("held the project: Evil\\x1b]0;owned\\x07 \\u202eright\\nsecond line")


def test_an_unknown_project_is_one_line_and_exit_1(ledger_url: str, data_dir: Path) -> None:
    before = snapshot(data_dir)
    for args in (["nope"], ["nope", "--json"], ["new-crm/it-1"]):
        result = cli("project", "history", *args)
        message = f"error: no project {args[0]} in the ledger\n"
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert snapshot(data_dir) == before


def test_history_where_there_is_no_ledger_says_so_and_creates_none(data_dir: Path) -> None:
    result = cli("project", "history", "new-crm")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no ledger at sqlite:///")
    assert not data_dir.exists()


def test_history_reads_the_ledger_named_by_ledger_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    fill(url, EVENTS[:2])
    result = cli("project", "history", "new-crm", "--ledger-url", url)
    assert result.stdout.splitlines() == [
        '2027-01-12T09:01Z  phasegate  project started "Nytt CRM"',
        "2027-01-13T09:02Z  phasegate  phase idea started",
    ]


def test_the_history_service_does_not_import_temporal_or_sqlalchemy() -> None:
    code = (
        "import sys, phasegate.history; "
        "print('temporalio' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False False"
