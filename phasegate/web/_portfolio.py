"""The portfolio: every project the viewer may see, as a board with a column per phase."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, Response
from temporalio.client import Client

from governance.messages import ProjectStatus
from ledger import Ledger
from phasegate import service
from phasegate.api._auth import Person
from phasegate.api._deps import may_see
from phasegate.service import ProjectError, ProjectRow
from phasegate.web._core import Signed, pinned_model, render, services

router = APIRouter(include_in_schema=False)

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


async def visible_rows(client: Client, person: Person) -> list[ProjectRow]:
    """The portfolio rows of every project ``person`` may see (the same rule as the API)."""
    rows = await service.list_projects(client)
    if person.pmo:
        return rows
    shown = await gathered(rows, lambda r: may_see(client, person, r.project_id))
    return [r for r, ok in zip(rows, shown, strict=True) if ok]


async def status_or_none(client: Client, project_id: str) -> ProjectStatus | None:
    try:
        return await service.status(client, project_id)
    except ProjectError:
        return None


@dataclass
class Card:
    row: ProjectRow
    status: ProjectStatus | None

    @property
    def awaited(self) -> list[str]:
        """Who the open decisions wait for (the gate's approvers, a change's deciders)."""
        if self.status is None:
            return []
        people: dict[str, None] = {}
        for d in self.status.decisions or ([self.status.gate] if self.status.gate else []):
            people.update(dict.fromkeys(d.awaited))
        return list(people)

    @property
    def waiting_for(self) -> str:
        """What the project awaits, in words: ``gate idea_gate``, ``hold``, ``-``."""
        kind, _, what = self.row.awaiting.partition(":")
        if not self.row.awaiting:
            return "-"
        if kind == "hold":
            return f"resume (held by {self.row.held_by or '?'})"
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


def boards(cards: list[Card], ledger: Ledger) -> list[Board]:
    """One board per model, a column per phase in the model's order (from a project's
    status; titled as the model titles them), then one for ended projects; empty columns
    are kept, so the flow reads whole."""
    out: dict[str, Board] = {}
    for card in cards:
        board = out.get(card.row.model)
        if board is None:
            st = card.status
            model = pinned_model(ledger, st) if st is not None else None
            titles = {p.id: p.title or p.id for p in model.phases} if model is not None else {}
            board = out[card.row.model] = Board(
                card.row.model,
                [Column(p, titles.get(p, p)) for p in (st.phases if st is not None else [])]
                + [Column(ENDED, "ended")],
            )
        phase = ENDED if card.row.status != "running" else card.row.phase
        column = next((c for c in board.columns if c.phase == phase), None)
        if column is None:
            column = Column(phase, phase)
            board.columns.insert(len(board.columns) - 1, column)
        if card.status is not None and card.status.phase == phase and card.status.phase_title:
            column.title = card.status.phase_title
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
    client = services(request).client
    rows = await visible_rows(client, viewer.person)
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
    statuses = await gathered(
        shown,
        lambda r: status_or_none(client, r.project_id) if r.status == "running" else _none(),
    )
    cards = [Card(r, st) for r, st in zip(shown, statuses, strict=True)]
    return render(
        request,
        "portfolio.html",
        viewer=viewer,
        boards=await asyncio.to_thread(boards, cards, services(request).ledger),
        total=len(rows),
        shown=len(shown),
        options=options,
        chosen=chosen,
        title="Portfolio",
    )


async def _none() -> None:
    return None
