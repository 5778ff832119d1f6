"""The dashboard's parts that need no server: the SVG pictures, the signed session."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from structlog.testing import capture_logs

import governance as g
from governance.audit import Task
from governance.messages import BurnUp, ExecutionStatus, Velocity
from phasegate.settings import Settings
from phasegate.web import _session, _svg
from phasegate.web._core import local_path
from phasegate.web._work import WorkItem, ordered

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: object) -> ET.Element:
    return ET.fromstring(str(svg))


@pytest.mark.parametrize("name", ["projektflodet", "prince2"])
def test_the_lifecycle_draws_every_phase_and_marks_the_current_state(name: str) -> None:
    model = g.builtin_models()[name]
    gate = model.phases[1].gate_state
    root = parsed(_svg.lifecycle(model, gate))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for phase in model.phases:
        assert (phase.title or phase.id) in texts
    current = [e for e in root.iter() if "current" in (e.get("class") or "")]
    assert len(current) == 1 and current[0].tag == f"{SVG}path"  # the gate's diamond
    assert root.find(f"{SVG}title").text == f"Lifecycle of {model.ref}"  # type: ignore[union-attr]


def test_the_lifecycle_escapes_titles() -> None:
    model = g.builtin_models()["projektflodet"]
    evil = model.model_copy(
        update={
            "phases": [
                model.phases[0].model_copy(update={"title": '<script>alert("x")</script>'}),
                *model.phases[1:],
            ]
        }
    )
    svg = str(_svg.lifecycle(evil, None))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    parsed(svg)


def _velocity(n: int, completed: float, added: float) -> Velocity:
    at = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(weeks=2 * n)
    return Velocity(
        number=n,
        outcome="done",
        opened_at=at,
        ended_at=at + timedelta(weeks=2),
        completed_points=completed,
        added_points=added,
    )


def test_the_burn_up_counts_completed_and_added_scope() -> None:
    execution = ExecutionStatus(
        phase="execution",
        open_iteration=3,
        iterations=3,
        history=[_velocity(1, 10, 0), _velocity(2, 15, 5)],
        backlog=[],
        burn_up=BurnUp(unit="points", baseline=240, added=5, total=245, completed=25),
        forecast=None,
    )
    root = parsed(_svg.burn_up(execution))
    assert "25 of 245 points completed after 2 iteration(s)" in root.find(f"{SVG}desc").text  # type: ignore[union-attr, operator]
    lines = {p.get("class"): p.get("points") for p in root.iter(f"{SVG}polyline")}
    assert len(lines["series done"].split()) == len(lines["series scope"].split()) == 3  # type: ignore[union-attr]
    empty = execution.model_copy(update={"history": []})
    assert _svg.burn_up(empty) is None


def test_the_earned_value_chart_has_planned_earned_and_actual() -> None:
    charter = g.load_charter("examples/projektflodet-charter.yaml")
    baseline = charter.baseline
    points = [
        _svg.EvPoint(date(2027, 3, 1), 100_000, 120_000),
        _svg.EvPoint(date(2027, 4, 1), 180_000, 210_000),
    ]
    root = parsed(_svg.earned_value(baseline, points))
    classes = {p.get("class") for p in root.iter(f"{SVG}polyline")}
    assert classes == {"series pv", "series ev", "series ac"}
    assert "earned value 180,000, actual cost 210,000" in root.find(f"{SVG}desc").text  # type: ignore[union-attr, operator]
    assert _svg.earned_value(baseline, []) is None


def test_a_signed_value_cannot_be_altered_or_moved_to_another_cookie() -> None:
    key = b"k" * 32
    value = _session.sign(key, "pg_session", {"p": "anna"})
    assert _session.unsign(key, "pg_session", value) == {"p": "anna"}
    assert _session.unsign(key, "pg_login", value) is None
    assert _session.unsign(b"x" * 32, "pg_session", value) is None
    _, mac = value.split(".")
    forged = _session.sign(key, "pg_session", {"p": "bo"}).split(".")[0]
    assert _session.unsign(key, "pg_session", f"{forged}.{mac}") is None


def test_an_expired_or_malformed_session_is_none() -> None:
    now = datetime.now(UTC)
    live = _session.Session(
        "anna", "token", "3f9c1a7e02bd", now + timedelta(hours=1), "c", sid="s" * 43
    )
    assert _session.Session.of(live.data(), now) == live.__class__(
        "anna",
        "token",
        "3f9c1a7e02bd",
        datetime.fromtimestamp(int(live.expires.timestamp()), UTC),
        "c",
        sid="s" * 43,
    )
    assert _session.Session.of({**live.data(), "s": ""}, now) is None  # no session id
    assert _session.Session.of({**live.data(), "s": None}, now) is None
    assert _session.Session.of(live.data(), now + timedelta(hours=2)) is None
    assert (
        _session.Session.of({**live.data(), "k": None}, now) is None
    )  # a token session needs its id
    assert _session.Session.of({**live.data(), "exp": "soon"}, now) is None


def test_an_unset_session_secret_is_random_per_process_with_a_warning() -> None:
    _session._process_secret = None
    with capture_logs() as logs:
        first = _session.secret_of(Settings())
        second = _session.secret_of(Settings())
    assert first == second and len(first) == 32
    assert [e["event"] for e in logs] == ["web.session_secret_unset"]
    given = Settings(session_secret="s" * 32)
    assert _session.secret_of(given) == b"s" * 32
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(session_secret="short")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/work", "/work"),
        ("/projects/a?page=2", "/projects/a?page=2"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/work\r\nSet-Cookie: x", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_a_next_path_never_leaves_the_site(value: str | None, expected: str) -> None:
    assert local_path(value) == expected


def test_my_work_lists_overdue_tasks_first_then_by_due_date() -> None:
    now = datetime.now(UTC)

    def item(task_id: int, due: timedelta | None) -> WorkItem:
        task = Task(
            id=task_id,
            project_id="p",
            key=f"k{task_id}",
            title=f"t{task_id}",
            role="r",
            due=now + due if due is not None else None,
            created_at=now,
        )
        return WorkItem(task, "review", None, [])

    items = [item(1, None), item(2, timedelta(days=3)), item(3, -timedelta(days=1)),
             item(4, timedelta(days=1)), item(5, -timedelta(days=5))]  # fmt: skip
    assert [i.task.id for i in ordered(items)] == [5, 3, 4, 2, 1]
    assert [i.overdue for i in ordered(items)] == [True, True, False, False, False]
