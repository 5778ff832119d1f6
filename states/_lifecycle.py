"""The project lifecycle built from a governance model: phases, their gates, hold, exception."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance import GovernanceModel
from states._base import Condition, Definition, StateMachine, Transition

ON_HOLD = "on_hold"
EXCEPTION = "exception"
CLOSED = "closed"
CANCELLED = "cancelled"
TERMINAL = frozenset({CLOSED, CANCELLED})

LIFECYCLE_TRIGGERS = (
    "request_gate",
    "approve",
    "rework",
    "reject",
    "hold",
    "resume",
    "cancel",
    "raise_exception",
    "resolve_exception",
    "close",
    "close_early",
)


def _came_from(attribute: str, origin: str) -> Condition:
    """A predicate: the machine remembered ``origin`` in ``attribute`` (held_from, ...)."""

    def check(event: Any) -> bool:
        return bool(getattr(event.model, attribute) == origin)

    check.__name__ = f"{attribute}_{origin}"
    return check


def lifecycle_states(model: GovernanceModel) -> tuple[str, ...]:
    """Each phase then its gate, in order; then on_hold, exception, closed, cancelled."""
    phases = tuple(s for p in model.phases for s in (p.id, p.gate_state))
    return (*phases, ON_HOLD, EXCEPTION, CLOSED, CANCELLED)


def lifecycle_transitions(model: GovernanceModel) -> list[Transition]:
    """The lifecycle's transitions, top to bottom: the gated phase flow, then hold, cancel
    and management by exception."""
    phases = [p.id for p in model.phases]
    holdable = [s for p in model.phases for s in (p.id, p.gate_state)]
    following = [*phases[1:], CLOSED]
    flow: list[Transition] = []
    for phase, nxt in zip(model.phases, following, strict=True):
        on_reject = CLOSED if phase.gate.on_reject == "close" else phase.id
        flow += [
            {"trigger": "request_gate", "source": phase.id, "dest": phase.gate_state},
            {"trigger": "approve", "source": phase.gate_state, "dest": nxt},
            {"trigger": "rework", "source": phase.gate_state, "dest": phase.id},
            {"trigger": "reject", "source": phase.gate_state, "dest": on_reject},
        ]
    return [
        *flow,
        {"trigger": "hold", "source": holdable, "dest": ON_HOLD, "after": "_remember_hold"},
        *(
            {
                "trigger": "resume",
                "source": ON_HOLD,
                "dest": origin,
                "conditions": [_came_from("held_from", origin)],
                "after": "_forget_origins",
            }
            for origin in holdable
        ),
        {
            "trigger": "cancel",
            "source": [*holdable, ON_HOLD, EXCEPTION],
            "dest": CANCELLED,
            "after": "_forget_origins",
        },
        {
            "trigger": "raise_exception",
            "source": phases,
            "dest": EXCEPTION,
            "after": "_remember_exception",
        },
        *(
            {
                "trigger": "resolve_exception",
                "source": EXCEPTION,
                "dest": origin,
                "conditions": [_came_from("exception_from", origin)],
                "after": "_forget_origins",
            }
            for origin in phases
        ),
        {"trigger": "close", "source": EXCEPTION, "dest": CLOSED, "after": "_forget_origins"},
        {
            # An exception decided "close": the project ends early through its closing phase
            # (from a gate too: an exception raised while a gate was open leaves it open).
            "trigger": "close_early",
            "source": [*holdable, EXCEPTION],
            "dest": model.closing().id,
            "after": "_forget_origins",
        },
    ]


class Lifecycle(StateMachine):
    """A project's lifecycle under ``model``: it starts in the first phase and can reach a
    phase only through the approved gate of the phase before it.

    Triggers: ``request_gate``, ``approve``, ``rework``, ``reject``, ``hold``, ``resume``,
    ``cancel``, ``raise_exception``, ``resolve_exception``, ``close``, ``close_early``. A
    variant (or a test) changes the flow by overriding :meth:`definition`.
    """

    _snapshot_keys = ("held_from", "exception_from")

    def __init__(self, model: GovernanceModel) -> None:
        self._model = model
        self._phase_of = {s: p.id for p in model.phases for s in (p.id, p.gate_state)}
        self._gates = frozenset(p.gate_state for p in model.phases)
        self._held_from: str | None = None
        self._exception_from: str | None = None
        super().__init__()

    def definition(self) -> Definition:
        return Definition(
            states=lifecycle_states(self._model),
            initial=self._model.phases[0].id,
            terminal=TERMINAL,
            transitions=tuple(lifecycle_transitions(self._model)),
        )

    @classmethod
    def from_dict(cls, model: GovernanceModel, data: Mapping[str, Any]) -> Lifecycle:
        """Restore a :meth:`to_dict` snapshot under the same model; ValueError if it does not
        fit the model (unknown state, or an origin that does not match the state)."""
        machine = cls(model)
        machine._restore_state(data)
        held_from, exception_from = data.get("held_from"), data.get("exception_from")
        state = machine.state
        if (state == ON_HOLD) != (held_from in machine._phase_of):
            raise ValueError(f"held_from {held_from!r} does not fit state {state!r}")
        if (state == EXCEPTION) != (exception_from in {p.id for p in model.phases}):
            raise ValueError(f"exception_from {exception_from!r} does not fit state {state!r}")
        machine._held_from, machine._exception_from = held_from, exception_from
        return machine

    @property
    def model(self) -> GovernanceModel:
        return self._model

    @property
    def held_from(self) -> str | None:
        """The phase or gate state the project was put on hold from (only while on hold)."""
        return self._held_from

    @property
    def exception_from(self) -> str | None:
        """The phase the exception was raised in (only while in exception)."""
        return self._exception_from

    @property
    def phase(self) -> str | None:
        """The phase the project is in: p for p and p_gate, the origin's phase while on hold
        or in exception, None once closed or cancelled."""
        where = self._held_from or self._exception_from or self.state
        return self._phase_of.get(where)

    @property
    def gate_open(self) -> bool:
        """Whether the current phase's gate is waiting for a decision."""
        return self.state in self._gates

    def _identity(self) -> tuple[Any, ...]:
        return (self._model, self.to_dict())

    # -- callbacks: in-memory only ------------------------------------------------------------

    def _remember_hold(self, event: Any) -> None:
        self._held_from = str(event.transition.source)

    def _remember_exception(self, event: Any) -> None:
        self._exception_from = str(event.transition.source)

    def _forget_origins(self, event: Any) -> None:
        self._held_from = self._exception_from = None
