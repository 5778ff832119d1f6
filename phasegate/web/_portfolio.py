"""The portfolio: every project the viewer may see, as a board with a column per phase."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import structlog
from fastapi import APIRouter, Query, Request, Response
from temporalio.client import Client

from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import service
from phasegate.api._auth import Person
from phasegate.service import ProjectError, ProjectRow
from phasegate.web._core import (
    Signed,
    pinned_model,
    project_error,
    render,
    services,
    task_kind,
)

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("phasegate.web")

CONCURRENT_QUERIES = 16
"""Projects asked at once (whether they name the viewer; their status)."""
FILTER = r"^[A-Za-z0-9_.:@-]{0,100}$"
ENDED = "ended"
T = TypeVar("T")
R = TypeVar("R")


async def gathered(items: Iterable[T], ask: Callable[[T], Awaitable[R]]) -> list[R]:
    """``ask`` of each item, at most ``CONCURRENT_QUERIES`` at once, in order."""
    gate = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def one(item: T) -> R:
        async with gate:
            return await ask(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


_PEOPLE: OrderedDict[str, frozenset[str]] = OrderedDict()
"""The people each project's charter names, by project id: a charter is pinned when its project
starts and a project id is never used twice, so an answer stays true. Bounded (LRU)."""
PEOPLE_CACHED = 20_000


PEOPLE_TIMEOUT = 10.0
"""Seconds a listing waits for one project to say whom its charter names."""


async def charter_people(client: Client, project_id: str) -> frozenset[str]:
    """The people the project's charter names (``service.people``, remembered); none for a
    project Temporal does not know, and none for now (not remembered) for a project that
    cannot answer: one broken project must not take the listing away from everybody."""
    known = _PEOPLE.get(project_id)
    if known is not None:
        _PEOPLE.move_to_end(project_id)
        return known
    try:
        known = frozenset(
            await asyncio.wait_for(service.people(client, project_id), PEOPLE_TIMEOUT)
        )
    except ProjectError as exc:
        if exc.kind != "UnknownProject":
            log.warning("web.project_unanswered", project_id=project_id, kind=exc.kind)
        return frozenset()
    except TimeoutError:
        log.warning("web.project_unanswered", project_id=project_id, kind="Timeout")
        return frozenset()
    _PEOPLE[project_id] = known
    while len(_PEOPLE) > PEOPLE_CACHED:
        _PEOPLE.popitem(last=False)
    return known


async def visible_rows(client: Client, person: Person) -> list[ProjectRow]:
    """The portfolio rows of every project ``person`` may see: the rule of the API's
    ``may_see`` (the PMO sees every project, anyone else those whose charter names them),
    with the charters' people remembered, so a listing asks each project once."""
    rows = await service.list_projects(client)
    if person.pmo:
        return rows
    people = await gathered(rows, lambda r: charter_people(client, r.project_id))
    return [r for r, named in zip(rows, people, strict=True) if person.id in named]


async def status_or_none(client: Client, project_id: str) -> ProjectStatus | None:
    try:
        return await service.status(client, project_id)
    except ProjectError:
        return None


@dataclass
class Card:
    row: ProjectRow
    awaited: list[str]
    """Who the open decisions wait for: the holders of their open decide tasks."""
    gates: dict[str, str] = field(default_factory=dict)
    """The titles of its model's gates, by gate (``idea_gate``), where the model gives them."""

    @property
    def waiting_for(self) -> str:
        """What the project awaits, in words: ``gate: Beslutspunkt 1: starta förstudie`` (the
        gate's title, else its id), ``resume (held by anna)``, ``-``."""
        kind, _, what = self.row.awaiting.partition(":")
        if not self.row.awaiting:
            return "-"
        if kind == "hold":
            return f"resume (held by {self.row.held_by or '?'})"
        if kind == "gate" and what:
            return f"gate: {self.gates.get(what, what)}"
        return f"{kind} {what}".strip()


@dataclass
class Column:
    phase: str
    title: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class Board:
    model: str
    columns: list[Column]

    @property
    def count(self) -> int:
        return sum(len(c.cards) for c in self.columns)


@dataclass(frozen=True)
class Names:
    """A model's phases in order, as (id, title), and its gates' titles by gate state."""

    phases: list[tuple[str, str]]
    gates: dict[str, str] = field(default_factory=dict)


async def phases_of(client: Client, ledger: Ledger, rows: list[ProjectRow]) -> dict[str, Names]:
    """Each model's phases and gate titles: from the model itself when the project pinned a
    built-in or published one, else from one of its projects' status (ids only)."""
    out: dict[str, Names] = {}
    for row in rows:
        if row.model in out:
            continue
        model = await asyncio.to_thread(pinned_model, ledger, row.model, row.model_hash)
        if model is not None:
            out[row.model] = Names(
                [(p.id, p.title or p.id) for p in model.phases],
                {p.gate_state: p.gate.title for p in model.phases if p.gate.title},
            )
            continue
        st = await status_or_none(client, row.project_id) if row.status == "running" else None
        out[row.model] = Names([(p, p) for p in st.phases] if st is not None else [])
    return out


def boards(cards: list[Card], names: dict[str, Names]) -> list[Board]:
    """One board per model, a column per phase in the model's order, then one for ended
    projects; empty columns are kept, so the flow reads whole. Each card learns its model's
    gate titles."""
    out: dict[str, Board] = {}
    for card in cards:
        model = names.get(card.row.model, Names([]))
        card.gates = model.gates
        board = out.get(card.row.model)
        if board is None:
            board = out[card.row.model] = Board(
                card.row.model,
                [Column(pid, title) for pid, title in model.phases] + [Column(ENDED, "Ended")],
            )
        phase = ENDED if card.row.status != "running" else card.row.phase
        column = next((c for c in board.columns if c.phase == phase), None)
        if column is None:
            column = Column(phase, phase)
            board.columns.insert(len(board.columns) - 1, column)
        column.cards.append(card)
    return [out[m] for m in sorted(out)]


@router.get("/")
async def portfolio(
    request: Request,
    viewer: Signed,
    model: Annotated[str, Query(pattern=FILTER)] = "",
    phase: Annotated[str, Query(pattern=FILTER)] = "",
    awaiting: Annotated[str, Query(pattern=FILTER)] = "",
    rag: Annotated[str, Query(pattern=FILTER)] = "",
) -> Response:
    s = services(request)
    client = s.client
    try:
        rows = await visible_rows(client, viewer.person)
    except ProjectError as exc:
        raise project_error(exc) from None
    options = {
        "model": sorted({r.model for r in rows}),
        "phase": sorted({r.phase for r in rows if r.phase}),
        "awaiting": sorted({r.awaiting for r in rows if r.awaiting}),
        "rag": [c for c in ("red", "amber", "green") if any(r.rag == c for r in rows)],
    }
    chosen = {"model": model, "phase": phase, "awaiting": awaiting, "rag": rag}
    shown = [
        r
        for r in rows
        if all(not want or getattr(r, name) == want for name, want in chosen.items())
    ]
    # Who a decision awaits: the inbox's open decide tasks (one query), not a status query
    # per project (which made the page 9x the listing at 200 projects: bench/bench_web.py).
    deciders = await asyncio.to_thread(awaited_by_project, s.ledger)
    cards = [Card(r, deciders.get(r.project_id, []) if _deciding(r) else []) for r in shown]
    return render(
        request,
        "portfolio.html",
        viewer=viewer,
        boards=boards(cards, await phases_of(client, s.ledger, shown)),
        total=len(rows),
        shown=len(shown),
        options=options,
        chosen=chosen,
        title="Portfolio",
    )


def awaited_by_project(ledger: Ledger) -> dict[str, list[str]]:
    """The people each project's open decisions (gate, change, exception) wait for: the
    assignees of its open decide tasks (a vote closes its task; an escalation withdraws them
    and hands new ones to the level that decides now)."""
    out: dict[str, dict[str, None]] = {}
    for task in ledger.tasks(status="open"):
        if task.assignee and "/decide/" in task.key and task_kind(task) != "other":
            out.setdefault(task.project_id, {})[task.assignee] = None
    return {pid: list(people) for pid, people in out.items()}


def _deciding(row: ProjectRow) -> bool:
    """The project runs and awaits a decision: a gate or an exception (its search attribute),
    or a formal change (which has a deadline but no search attribute)."""
    if row.status != "running" or row.held_since is not None:
        return False
    return row.awaiting.split(":")[0] in ("gate", "exception") or row.deadline is not None
