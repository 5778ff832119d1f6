"""What the faces show of the portfolio and the audit without a Temporal client: a project's
row in the portfolio, which list filters contradict each other, a chain whose workflow ended
outside governance. Light (no Temporal SDK), so that the CLI over the REST API can read the
API's answers into the same types the local commands print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "NOT_IN_TEMPORAL",
    "PORTFOLIO_PAGE",
    "EndedOutside",
    "ListState",
    "ProjectRow",
    "filter_clash",
]

PORTFOLIO_PAGE = 5000
"""The most projects one page of the portfolio holds. Every page lists the whole portfolio from
Temporal's visibility store (~0.3 s per 1,000 projects on the dev server) and cuts its page
out, so a client reads the portfolio in one page where it can: pages of 500 made a list of
1,000 projects cost two listings."""


@dataclass(frozen=True)
class ProjectRow:
    project_id: str
    phase: str
    model: str
    awaiting: str
    status: str
    model_hash: str = ""
    model_source: str = ""
    """``built-in``, ``published`` or ``local file PATH``; empty for projects started before
    phasegate kept it."""
    rag: str = ""
    """The worst RAG colour (green, amber, red); empty before the first progress report."""
    title: str = ""
    managers: tuple[str, ...] = ()
    """The holders of the model's project-manager role."""
    phase_since: datetime | None = None
    deadline: datetime | None = None
    """The earliest deadline of the open decisions (gate, changes, exception)."""
    level: str | None = None
    """The escalation level now holding the gate, once escalated."""
    held_since: datetime | None = None
    held_by: str | None = None
    outcome: str | None = None
    """closed, rejected or cancelled once the project has ended."""

    def overdue(self, now: datetime) -> bool:
        """A decision is past its deadline and the project is not held (clocks stop then)."""
        return self.deadline is not None and self.deadline < now and self.held_since is None


ListState = Literal["open", "closed", "rejected", "cancelled"]


def filter_clash(
    *,
    awaiting: str | None = None,
    held: bool = False,
    state: ListState | None = None,
    overdue: bool = False,
    option: Callable[[str], str] = str,
) -> str | None:
    """Why these filters of ``list_projects`` contradict each other (so no project could
    match), each named by ``option`` (the CLI's ``--held``); None when they do not."""
    ended = state not in (None, "open")
    held_, awaiting_, state_, overdue_ = (
        option(n) for n in ("held", "awaiting", "state", "overdue")
    )
    for clash, why in (
        (
            held and awaiting is not None,
            f"{held_} and {awaiting_}: a held project awaits its resume",
        ),
        (held and ended, f"{held_} and {state_} {state}: a held project is open"),
        (overdue and held, f"{overdue_} and {held_}: a held project's clocks wait, never overdue"),
        (overdue and ended, f"{overdue_} and {state_} {state}: an ended project is never overdue"),
    ):
        if clash:
            return f"{why}; use one of them"
    return None


NOT_IN_TEMPORAL = "not in Temporal"


@dataclass(frozen=True)
class EndedOutside:
    """A project whose workflow ended (or is gone) while its chain records no end."""

    project_id: str
    status: str
