"""A PRINCE2 exception: raised to one level, escalated up while needed, then resolved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal, get_args

from governance import GovernanceModel
from states._base import Definition, StateMachine

Outcome = Literal["plan_approved", "tolerance_widened", "project_closed"]


class ExceptionState(StrEnum):
    raised = "raised"
    escalated = "escalated"
    resolved = "resolved"


E = ExceptionState
_OPEN = [E.raised, E.escalated]

EXCEPTION_TRANSITIONS: tuple[Mapping[str, Any], ...] = (
    {
        "trigger": "escalate",
        "source": _OPEN,
        "dest": E.escalated,
        "conditions": "_level_above",
        "after": "_go_up",
    },
    {"trigger": "approve_plan", "source": _OPEN, "dest": E.resolved, "after": "_settle"},
    {"trigger": "widen_tolerance", "source": _OPEN, "dest": E.resolved, "after": "_settle"},
    {"trigger": "close_project", "source": _OPEN, "dest": E.resolved, "after": "_settle"},
)

_OUTCOMES: dict[str, Outcome] = {
    "approve_plan": "plan_approved",
    "widen_tolerance": "tolerance_widened",
    "close_project": "project_closed",
}


class ExceptionCase(StateMachine):
    """Management by exception over ``levels`` (ids, lowest first): ``levels[0]`` receives the
    exception report; ``escalate`` hands it one level up while a level above exists; the level
    holding it decides with ``approve_plan``, ``widen_tolerance`` or ``close_project``."""

    _snapshot_keys = ("levels", "level_index", "outcome")

    def __init__(self, levels: Sequence[str]) -> None:
        if not levels:
            raise ValueError("an exception needs at least one level to decide it")
        self.levels = list(levels)
        self.level_index = 0
        self.outcome: Outcome | None = None
        super().__init__()

    @classmethod
    def above(cls, model: GovernanceModel, level_id: str) -> ExceptionCase:
        """An exception raised at ``level_id``: its report goes to the levels above it."""
        ids = [lvl.id for lvl in model.escalation]
        return cls(ids[ids.index(level_id) + 1 :])

    def definition(self) -> Definition:
        return Definition(
            states=tuple(ExceptionState),
            initial=E.raised,
            terminal=frozenset({E.resolved}),
            transitions=EXCEPTION_TRANSITIONS,
        )

    @property
    def level(self) -> str:
        """The level that holds the exception now."""
        return self.levels[self.level_index]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExceptionCase:
        machine = cls(list(data["levels"]))
        machine._restore_state(data)
        index, outcome = data.get("level_index"), data.get("outcome")
        if not isinstance(index, int) or not 0 <= index < len(machine.levels):
            raise ValueError(f"level_index {index!r} out of range for {machine.levels}")
        if (index == 0) != (machine.state == E.raised) and machine.state != E.resolved:
            raise ValueError(f"level_index {index} does not fit state {machine.state!r}")
        if (outcome is None) == (machine.state == E.resolved) or outcome not in (
            None,
            *get_args(Outcome),
        ):
            raise ValueError(f"outcome {outcome!r} does not fit state {machine.state!r}")
        machine.level_index, machine.outcome = index, outcome
        return machine

    def _level_above(self, event: Any) -> bool:
        return self.level_index + 1 < len(self.levels)

    def _go_up(self, event: Any) -> None:
        self.level_index += 1

    def _settle(self, event: Any) -> None:
        self.outcome = _OUTCOMES[event.event.name]
