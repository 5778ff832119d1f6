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
    abandoned = "abandoned"


S = IterationState
_OPEN = [S.planning, S.executing, S.demo, S.delivery, S.retro]

ITERATION_TRANSITIONS: tuple[Mapping[str, Any], ...] = (
    {"trigger": "start", "source": S.planning, "dest": S.executing},
    {"trigger": "demo", "source": S.executing, "dest": S.demo},
    {"trigger": "deliver", "source": S.demo, "dest": S.delivery, "after": "_shipped"},
    {"trigger": "skip_delivery", "source": S.demo, "dest": S.retro},
    {"trigger": "retro", "source": S.delivery, "dest": S.retro},
    {"trigger": "finish", "source": S.retro, "dest": S.done},
    {"trigger": "abandon", "source": _OPEN, "dest": S.abandoned},
)


class IterationLoop(StateMachine):
    """planning → executing → demo → (delivery | skip_delivery) → retro → done; ``abandon``
    from any open state. ``delivered`` says whether this iteration shipped."""

    _snapshot_keys = ("delivered",)

    def __init__(self) -> None:
        self.delivered = False
        super().__init__()

    def definition(self) -> Definition:
        return Definition(
            states=tuple(IterationState),
            initial=S.planning,
            terminal=frozenset({S.done, S.abandoned}),
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
