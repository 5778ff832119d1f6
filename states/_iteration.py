"""One iteration of an iterative phase: plan, execute, demo, deliver (a decision), retro."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from states._base import Definition, StateMachine


class IterationState(StrEnum):
    planning = "planning"
    executing = "executing"
    demo = "demo"
    delivery = "delivery"
    retro = "retro"
    done = "done"
    closed = "closed"
    abandoned = "abandoned"


S = IterationState
_OPEN = [S.planning, S.executing, S.demo, S.delivery, S.retro]

ITERATION_TRANSITIONS: tuple[Mapping[str, Any], ...] = (
    {"trigger": "start", "source": S.planning, "dest": S.executing},
    {"trigger": "demo", "source": S.executing, "dest": S.demo},
    {"trigger": "demo_recorded", "source": S.demo, "dest": S.delivery},
    {"trigger": "deliver", "source": S.delivery, "dest": S.retro, "after": "_shipped"},
    {"trigger": "hold", "source": S.delivery, "dest": S.retro},
    {"trigger": "finish", "source": S.retro, "dest": S.done},
    {"trigger": "close", "source": _OPEN, "dest": S.closed},
    {"trigger": "abandon", "source": _OPEN, "dest": S.abandoned},
)


class IterationLoop(StateMachine):
    """planning → executing → demo → delivery (deliver | hold) → retro → done.

    ``close`` ends an open iteration early because its phase's gate was requested; ``abandon``
    ends it because the project was cancelled. ``delivered`` says whether it shipped."""

    _snapshot_keys = ("delivered",)

    def __init__(self) -> None:
        self.delivered = False
        super().__init__()

    def definition(self) -> Definition:
        return Definition(
            states=tuple(IterationState),
            initial=S.planning,
            terminal=frozenset({S.done, S.closed, S.abandoned}),
            transitions=ITERATION_TRANSITIONS,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IterationLoop:
        machine = cls()
        machine._restore_state(data)
        machine.delivered = bool(data.get("delivered", False))
        return machine

    def _shipped(self, event: Any) -> None:
        self.delivered = True
