"""A simulated year of one Projektflödet project, driven as its people drive it. Shared by
tests/workflows/test_year.py (nothing was lost) and bench/bench_year.py (how long it takes).

From start to closure in about twelve months of server time: the idea, pre-study and planning
gates with weeks of work between them; the execution phase as iterations of two or three weeks
(``YEAR``), each planned, worked (items reported done on the way, sometimes work added), ended
by its timer or closed early, demonstrated, delivered or held, and ended by its retro; then
the execution gate (which closes the iteration open for planning by then), a week of closure,
the closure gate, and six months later the benefits review, which closes the project.

Time passes only through ``Project.sleep`` (the test server skips it), so every stand-up of
every timebox fires as a timer on the way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.audit import EventKind
from governance.messages import Feedback, Obstacle, ProjectResult, WorkItem
from tests.workflows.scenario import (
    PF_APPROVERS,
    Iteration,
    Project,
    eventually,
    items,
    open_iteration,
)

PM = "david"
OWNERS = ("erik", "david", "erik", "cecilia")
ESTIMATES = (2.0, 1.5, 1.0, 0.5, 2.0, 1.0, 1.5)
WEEKS_BEFORE_EXECUTION = {"idea": 1, "pre_study": 3, "planning": 2}
"""Server time spent in each phase before its gate is requested."""
CLOSURE_WEEKS = 1
PAUSE = 0.01
QUICK = {"attempts": 500, "pause": PAUSE}
"""How the driver's own waits poll (5 s in all): they ask the ledger or an iteration, never
the project while it may continue as new (see ``_next_started``)."""


@dataclass(frozen=True)
class Sprint:
    """One iteration's script."""

    weeks: int
    planned: int
    """Items planned."""
    done: int
    """How many of the planned items are reported done (the first ones)."""
    added: int = 0
    """Items added mid-iteration (a scope change); all of them are done."""
    close_after_days: int | None = None
    """End the timebox early, this many days after planning; None: its timer ends it."""
    deliver: bool = True


YEAR: tuple[Sprint, ...] = (
    Sprint(3, 8, 6),
    Sprint(2, 6, 6, close_after_days=11),
    Sprint(3, 9, 5, added=1),
    Sprint(3, 8, 8),
    Sprint(2, 7, 4, deliver=False),
    Sprint(3, 9, 9, close_after_days=18),
    Sprint(3, 10, 7, added=2),
    Sprint(2, 6, 3),
    Sprint(3, 8, 8, close_after_days=16),
    Sprint(3, 9, 6),
    Sprint(2, 5, 5, added=1, deliver=False),
    Sprint(3, 8, 7),
    Sprint(3, 10, 9, close_after_days=19),
    Sprint(2, 6, 2),
    Sprint(3, 9, 8, added=1),
    Sprint(3, 8, 8, close_after_days=17),
    Sprint(2, 6, 5),
)
"""Seventeen iterations, 45 weeks of timeboxes; velocities from 3 to 13 points."""


@dataclass
class IterationFacts:
    """What the driver did in one iteration: what the project must have kept of it."""

    number: int
    outcome: str
    planned_at: datetime | None
    timebox: timedelta | None
    closed_early: bool
    committed_items: int
    committed_effort: float
    completed_items: int
    completed_effort: float
    added_items: int
    added_effort: float
    delivered: bool


@dataclass
class Timing:
    """Wall seconds per kind of step, to see where a simulated year's time goes."""

    spent: dict[str, float] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[what] = self.spent.get(what, 0.0) + time.perf_counter() - t0
            self.count[what] = self.count.get(what, 0) + 1


@dataclass
class Year:
    project: Project
    iterations: list[IterationFacts]
    """Every iteration, the last one closed (unplanned) by the execution gate's request."""
    started_at: datetime
    closed_at: datetime
    """When the closure gate passed: the end of the project's work."""
    reviewed_at: datetime
    """When the benefits review passed and the project closed."""
    result: ProjectResult
    timing: Timing

    @property
    def done(self) -> list[IterationFacts]:
        return [f for f in self.iterations if f.outcome == "done"]


def work(number: int, count: int, *, added: bool = False) -> list[WorkItem]:
    """``count`` items of iteration ``number``, owners and estimates varying."""
    kind = "X" if added else "W"
    return items(
        *(
            (f"{number}.{k}", OWNERS[(number + k) % len(OWNERS)], ESTIMATES[(number + k) % 7])
            for k in range(count)
        ),
        prefix=kind,
    )


async def simulate_year(
    p: Project, sprints: tuple[Sprint, ...] = YEAR, *, timing: Timing | None = None
) -> Year:
    """Drive ``p`` (a Projektflödet project just started) from its start to its close."""
    t = timing or Timing()
    env = p.harness.env
    started_at = (await p.status()).started_at
    for phase, weeks in WEEKS_BEFORE_EXECUTION.items():
        with t("sleep"):
            await p.sleep(weeks=weeks)
        with t("gate"):
            await p.pass_gate(PF_APPROVERS[phase], pm=PM)

    facts = [await _iteration(p, n, sprint, t) for n, sprint in enumerate(sprints, 1)]

    # The next iteration has opened for planning; requesting the gate closes it first.
    last = len(sprints) + 1
    with t("open"):
        await open_iteration(p, last, pause=PAUSE)
    with t("gate"):
        await p.pass_gate(PF_APPROVERS["execution"], pm=PM)
    facts.append(IterationFacts(last, "closed", None, None, False, 0, 0.0, 0, 0.0, 0, 0.0, False))
    with t("sleep"):
        await p.sleep(weeks=CLOSURE_WEEKS)
    with t("gate"):
        st = await p.pass_gate(PF_APPROVERS["closure"], pm=PM)
    closed_at = await env.get_current_time()
    assert st.phase == "benefits_realisation" and st.phase_opens_at is not None
    with t("sleep"):
        await p.sleep(seconds=(st.phase_opens_at - closed_at).total_seconds() + 3600)
    with t("gate"):
        st = await p.pass_gate(PF_APPROVERS["benefits_realisation"], pm=PM)
    assert st.state == "closed", st.state
    reviewed_at = await env.get_current_time()
    with t("result"):
        result = await p.result()
    return Year(p, facts, started_at, closed_at, reviewed_at, result, t)


async def _iteration(p: Project, n: int, sprint: Sprint, t: Timing) -> IterationFacts:
    with t("open"):
        it = await open_iteration(p, n, pause=PAUSE)
    planned = work(n, sprint.planned)
    with t("plan"):
        st = await it.plan(PM, planned, weeks=sprint.weeks, goal=f"Increment {n}", pause=PAUSE)
    assert st.planned_at is not None
    done = planned[: sprint.done]
    half = len(done) // 2
    with t("sleep"):
        await p.sleep(days=3)
    await _report(it, done[:half], t)
    rest = done[half:]
    added = work(n, sprint.added, added=True)
    if added:
        with t("update"):
            await it.add(PM, added)
        rest += added
    if sprint.close_after_days is not None:
        with t("sleep"):
            await p.sleep(days=sprint.close_after_days - 3)
        await _report(it, rest, t)
        with t("wait"):
            await _standups_caught_up(p, it)
        with t("update"):
            await it.close_execution(PM)
    else:
        with t("sleep"):
            await p.sleep(days=sprint.weeks * 7 - 6)
        await _report(it, rest, t)
        with t("sleep"):
            await p.sleep(days=3, hours=1)  # past the end of the timebox
        with t("wait"):
            await _in_state(it, "demo")
    with t("sleep"):
        await p.sleep(days=1)
    with t("update"):
        await it.demo(
            PM,
            attendees=["anna", "bo", "erik", "Kim from sales"],
            feedback=[Feedback(person="bo", text=f"Increment {n}: looks right")],
        )
        await it.deliver("bo", "deliver" if sprint.deliver else "hold")
        obstacles = [Obstacle(text=f"Test data for {n}", role="leverantor")] if n % 5 == 0 else []
        await it.retro("erik", keep=["pairing"], change=[f"change {n}"], obstacles=obstacles)
    with t("wait"):
        await _next_started(p, n)
    completed = done + added
    return IterationFacts(
        number=n,
        outcome="done",
        planned_at=st.planned_at,
        timebox=timedelta(weeks=sprint.weeks),
        closed_early=sprint.close_after_days is not None,
        committed_items=len(planned),
        committed_effort=sum(i.estimate for i in planned),
        completed_items=len(completed),
        completed_effort=sum(i.estimate for i in completed),
        added_items=len(added),
        added_effort=sum(i.estimate for i in added),
        delivered=sprint.deliver,
    )


async def _report(it: Iteration, done: list[WorkItem], t: Timing) -> None:
    """Each owner reports their own items done, in one request."""
    for owner in dict.fromkeys(i.owner for i in done):
        with t("update"):
            await it.done(owner, *(i.id for i in done if i.owner == owner))


async def _standups_caught_up(p: Project, it: Iteration) -> None:
    """Every stand-up due by the server's clock has fired and is in the iteration's chain."""
    now = await p.harness.env.get_current_time()
    ledger = p.harness.ledger

    async def caught_up() -> bool:
        st = await it.status()
        due = st.next_standup is not None and st.next_standup <= now
        return not due and ledger.last_seq(it.chain) == st.last_seq

    await eventually(caught_up, **QUICK)


async def _in_state(it: Iteration, state: str) -> None:
    ledger = it.project.harness.ledger

    async def reached() -> bool:
        st = await it.status()
        return st.state == state and ledger.last_seq(it.chain) == st.last_seq

    await eventually(reached, **QUICK)


async def _next_started(p: Project, n: int) -> None:
    """The project has kept what iteration ``n`` returned and started iteration ``n + 1``.

    Read from the project's chain in the ledger, not asked of the project: in between, the
    project may continue as new, and on the time-skipping test server a query that arrives
    while it does is never answered, and leaves time skipping locked for the rest of the
    session (every later ``env.sleep`` hangs until its RPC fails). Once the next iteration
    has started, the project does not continue as new until that iteration has ended."""

    async def started() -> bool:
        return any(e.payload["number"] == n + 1 for e in p.of_kind(EventKind.iteration_started))

    await eventually(started, **QUICK)
