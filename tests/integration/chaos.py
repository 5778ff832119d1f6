"""Chaos: projects taking votes while their worker is killed with SIGKILL, 0.3 to 2.5 s after
each start, and started again.

Shared by ``test_chaos.py`` (a short run in CI) and ``bench/chaos.py`` (a longer one, with
figures). A client loop per lane drives a project through its gates (the gate's deliverables,
one submission each, then the request and votes, now and then a rework) and starts a new
project once one has passed its planning gate (its first iteration opening as the lane leaves
it). A command that gets no answer is sent again, as a person would: "NoWorker" (no answer
within the window) and "RequestExpired" (a worker took it too late; nothing was applied) are
refused without effect, and a retry refused because the first try was applied after all
("DuplicateVote", or the gate already moved on) is fine; a submission is never refused as a
repeat (it would be a second version), so the check counts a second version as an event
recorded twice. Afterwards, with a stable worker, ``check`` proves every project still decides
its next gate and every chain (the project's and its iterations') holds exactly what its
workflow accepted.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

import governance as g
from governance.audit import AuditEvent
from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import service
from tests.integration.conftest import (
    WorkerProcess,
    chain_of,
    decide_next_gate,
    iteration_chains,
    missing,
    settled,
    submit,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KILL_EVERY = (0.3, 2.5)
"""Seconds a worker lives once started, drawn uniformly (seeded)."""
REWORK = 0.15
"""Share of votes that ask for rework, so gates go round again."""
RETIRE_IN = "execution"
"""A lane starts a new project once its project reaches this phase (a gate still ahead)."""
NO_ANSWER = {"NoWorker"}
"""No answer in the window: the command was not applied (it expires), send it again."""
NO_EFFECT = {*NO_ANSWER, "RequestExpired", "LedgerUnavailable"}
"""Refusals after which the command is sent again."""
APPLIED_BEFORE = {"DuplicateVote", "StaleVote", "GateNotOpen", "IllegalTransition"}
"""Refusals of a retry whose first try was applied after all."""
GIVE_UP = 180.0
"""Seconds a lane keeps sending one command before it calls the project stuck."""

Key = tuple[str, str, str, int, str]
"""(project, event kind, state before, gate round, actor): one accepted command's event; for a
deliverable submitted, (project, kind, state before, 0, the deliverable's name)."""
COUNTED = ("deliverable_submitted", "gate_opened", "vote_cast")
"""The kinds of event a lane's commands add, each counted in the check."""


@dataclass
class Run:
    kill: bool
    seconds: float = 0.0
    """How long the lanes sent commands (the chaos itself, without the check after it)."""
    projects: list[str] = field(default_factory=list, repr=False)
    kills: int = 0
    up: float = 0.0
    """Seconds a started worker was polling (the rest: dead or starting again)."""
    accepted: int = 0
    """Commands answered while the lanes ran."""
    retried: int = 0
    """Sends of a command again after one that got no answer or a no-effect refusal."""
    applied_before: int = 0
    """Retries refused because the first try had been applied."""
    keys: list[Key] = field(default_factory=list, repr=False)
    """The event of every command answered."""
    events: int = 0
    verified: bool = False

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.seconds:.0f} s, {self.kills} kills (worker polling {self.up:.0f} s), "
            f"{self.accepted} commands accepted "
            f"({self.per_second:.2f}/s), {self.retried} retried, {self.applied_before} "
            f"applied at a first try, {len(self.projects)} projects, {self.events} events, "
            f"verify {'ok' if self.verified else 'NOT DONE'}"
        )


class Lane:
    """One client driving one project at a time through its gates."""

    def __init__(self, client: Client, run: Run, tq: str, name: str, seed: int) -> None:
        self.client, self.run, self.tq, self.name = client, run, tq, name
        self.rng = random.Random(seed)
        self.model = g.builtin_models()["projektflodet"]
        self.base = g.load_charter(EXAMPLES / "projektflodet-charter.yaml")
        self.started = 0

    async def new_project(self) -> str:
        pid = f"{self.name}-{self.started}"
        self.started += 1
        charter = self.base.model_copy(update={"id": pid})
        await service.start_project(self.client, charter, self.model, task_queue=self.tq)
        self.run.projects.append(pid)
        return pid

    async def drive(self, stop: asyncio.Event) -> None:
        pid = await self.new_project()
        while not stop.is_set():
            st = await _status(self.client, pid)
            if st.state == RETIRE_IN:
                pid = await self.new_project()
                continue
            todo = missing(st)
            if st.gate is None and todo:
                send = _submit(self.client, pid, todo[0])
                key: Key = (pid, "deliverable_submitted", st.state, 0, todo[0])
            elif st.gate is None:
                send = _request(self.client, pid)
                key = (pid, "gate_opened", st.state, 0, "david")  # round: in the answer
            else:
                actor = self.rng.choice(st.gate.awaited)
                decision = "rework" if self.rng.random() < REWORK else "approve"
                send = _vote(self.client, pid, actor, decision, st.gate.round)
                key = (pid, "vote_cast", st.state, st.gate.round, actor)
            answer = await self.until_answered(send)
            if answer is None:
                continue
            if not stop.is_set():
                self.run.accepted += 1
            if key[1] == "gate_opened" and answer.gate is not None:
                key = (*key[:3], answer.gate.round, key[4])
            self.run.keys.append(key)

    async def until_answered(
        self, send: Callable[[], Awaitable[ProjectStatus]]
    ) -> ProjectStatus | None:
        """The answer, or None when a retry found the first try applied."""
        tries = 0
        give_up = time.monotonic() + GIVE_UP
        while True:
            try:
                return await send()
            except service.ProjectError as exc:
                if exc.kind in NO_EFFECT and time.monotonic() < give_up:
                    tries += 1
                    self.run.retried += 1
                    await asyncio.sleep(0.2)
                    continue
                if (tries and exc.kind in APPLIED_BEFORE) or exc.kind == service.UNANSWERED:
                    self.run.applied_before += 1  # applied, answered or not
                    return None
                raise


def _submit(client: Client, pid: str, name: str) -> Callable[[], Awaitable[ProjectStatus]]:
    return lambda: submit(client, pid, name)


def _request(client: Client, pid: str) -> Callable[[], Awaitable[ProjectStatus]]:
    return lambda: service.request_gate(client, pid, "david")


def _vote(
    client: Client, pid: str, actor: str, decision: str, round: int
) -> Callable[[], Awaitable[ProjectStatus]]:
    return lambda: service.decide_gate(client, pid, actor, decision, round=round)


async def _status(client: Client, pid: str) -> ProjectStatus:
    while True:
        try:
            return await service.status(client, pid)
        except service.ProjectError as exc:
            if exc.kind not in (*NO_ANSWER, "QueryFailed"):
                raise
            await asyncio.sleep(0.2)


async def _killer(
    worker: WorkerProcess, run: Run, seconds: float, min_kills: int, rng: random.Random
) -> None:
    """Kill the worker once it has lived a random while, start it again, for ``seconds`` and
    at least ``min_kills`` times (a slow machine starts workers slowly)."""
    until = up_since = time.monotonic()
    until += seconds
    while time.monotonic() < until or run.kills < min_kills:
        await asyncio.sleep(rng.uniform(*KILL_EVERY))
        worker.kill9()
        run.kills += 1
        run.up += time.monotonic() - up_since
        await worker.start_async()
        up_since = time.monotonic()
    run.up += time.monotonic() - up_since


@contextmanager
def answer_window(seconds: float | None) -> Iterator[None]:
    """Clients wait ``seconds`` for an answer and their requests expire 2 s before (None: the
    CLI's own 30 s / 25 s), so that commands caught by a kill get no answer and are sent
    again within the run."""
    if seconds is None:
        yield
        return
    saved = service.RPC_TIMEOUT, service.EXPIRY
    service.RPC_TIMEOUT, service.EXPIRY = timedelta(seconds=seconds), timedelta(seconds=seconds - 2)
    try:
        yield
    finally:
        service.RPC_TIMEOUT, service.EXPIRY = saved


async def chaos(
    client: Client,
    address: str,
    workdir: Path,
    *,
    seconds: float,
    seed: int,
    lanes: int = 4,
    kill: bool = True,
    min_kills: int = 3,
    window: float | None = 8.0,
) -> Run:
    """One run: ``lanes`` client loops for ``seconds``, the worker killed and restarted at
    random instants if ``kill``; then, with a stable worker, ``check``."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:6]
    ledger_url = f"sqlite:///{workdir / 'ledger.db'}"
    worker = WorkerProcess(address, ledger_url, f"chaos-{tag}", workdir / "worker.log")
    run = Run(kill=kill)
    rng = random.Random(seed)
    await worker.start_async()
    try:
        with answer_window(window):
            stop = asyncio.Event()
            names = [f"c{tag}-{i}" for i in range(lanes)]
            jobs = [Lane(client, run, worker.task_queue, n, rng.randrange(2**32)) for n in names]
            driving = [asyncio.create_task(j.drive(stop)) for j in jobs]
            t0 = time.monotonic()
            if kill:
                await _killer(worker, run, seconds, min_kills, random.Random(rng.randrange(2**32)))
            else:
                await asyncio.sleep(seconds)
                run.up = seconds
            stop.set()
            run.seconds = time.monotonic() - t0
            await asyncio.gather(*driving)
            with Ledger(ledger_url) as ledger:
                await check(client, ledger, run)
    finally:
        worker.stop()
    return run


async def check(client: Client, ledger: Ledger, run: Run) -> None:
    """With a stable worker: every project decides its next gate; then every chain verifies,
    is 1..n with n the workflow's accepted last_seq, and holds each accepted command's event
    exactly once (and no event twice); so do the chains of the iterations a project started."""
    for pid in run.projects:
        await decide_next_gate(client, pid)
    seen: Counter[Key] = Counter()
    for pid in run.projects:
        st = await settled(client, pid)
        chain = chain_of(ledger, st)
        iterations = iteration_chains(ledger, chain)
        everything = [*chain, *(e for events in iterations.values() for e in events)]
        resets = [e for e in everything if e.kind == "history_reset"]
        assert not resets, f"{pid}: a kill read as a reset"
        seen.update(_key(e) for e in chain if e.kind in COUNTED)
        run.events += len(everything)
    twice = [k for k, n in seen.items() if n > 1]
    assert not twice, f"events recorded twice: {twice}"
    lost = [k for k in run.keys if seen[k] != 1]
    assert not lost, f"accepted commands whose event is not in the ledger: {lost}"
    run.verified = True


def _key(e: AuditEvent) -> Key:
    if e.kind == "deliverable_submitted":  # a second version counts as the same event twice
        return (e.project_id, str(e.kind), str(e.from_state), 0, str(e.payload["name"]))
    return (e.project_id, str(e.kind), str(e.from_state), int(e.payload["round"]), e.actor or "")
