"""Search attributes the project workflow keeps current, for portfolio queries, and the
portfolio row it keeps in its memo, for what a listing shows but never filters on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("PhasegatePhase")
"""The project's current phase (or closed / cancelled)."""
MODEL = SearchAttributeKey.for_keyword("PhasegateModel")
"""The governance model the project is pinned to, ``name@version``."""
AWAITING = SearchAttributeKey.for_keyword("PhasegateAwaiting")
"""What the project waits for: ``gate:<phase>_gate``, ``hold``; unset when nothing."""
PROJECT = SearchAttributeKey.for_keyword("PhasegateProject")
"""The project's business key (the charter's slug)."""
RAG = SearchAttributeKey.for_keyword("PhasegateRag")
"""The worst RAG colour over the project's aspects and levels (green, amber, red); unset until
the first progress report."""

ROW_MEMO = "row"
"""The memo key of the portfolio row (`row`)."""


def row(
    *,
    title: str,
    managers: Sequence[str],
    phase_since: datetime,
    deadlines: Sequence[datetime],
    level: str | None,
    held_since: datetime | None,
    held_by: str | None,
    outcome: str | None,
    people: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The portfolio row, JSON-ready: the earliest deadline of the open decisions, the gate's
    escalation level, the hold, and what does not change (title, project managers, and the
    ids of the people the charter names, who may see the project: ``people`` of ``None``
    leaves the key out, as rows kept before it was added have it)."""
    row: dict[str, Any] = {
        "title": title,
        "managers": list(managers),
        "phase_since": phase_since.isoformat(),
        "deadline": min(deadlines).isoformat() if deadlines else None,
        "level": level,
        "held_since": held_since.isoformat() if held_since else None,
        "held_by": held_by,
        "outcome": outcome,
    }
    if people is not None:
        row["people"] = list(people)
    return row
