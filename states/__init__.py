"""State machines built from a governance model: the project lifecycle, the iteration loop,
change requests and exceptions. Pure: plain ``transitions`` machines, no I/O, no clock.

Every machine has ``state``, ``allowed()``, ``may(trigger)``, ``fire(trigger)`` (raising
:class:`IllegalTransition`), ``to_dict()`` / ``from_dict(...)`` and ``mermaid()``.
"""

from states._base import Definition, IllegalTransition, StateMachine, Transition
from states._change import ChangeRequest, ChangeState, Classification
from states._exception import ExceptionCase, ExceptionState, Outcome
from states._invariants import Step, check_lifecycle_trace
from states._iteration import IterationLoop, IterationState
from states._lifecycle import (
    CANCELLED,
    CLOSED,
    EXCEPTION,
    LIFECYCLE_TRIGGERS,
    ON_HOLD,
    Lifecycle,
    lifecycle_states,
    lifecycle_transitions,
)

__all__ = [
    "CANCELLED",
    "CLOSED",
    "EXCEPTION",
    "LIFECYCLE_TRIGGERS",
    "ON_HOLD",
    "ChangeRequest",
    "ChangeState",
    "Classification",
    "Definition",
    "ExceptionCase",
    "ExceptionState",
    "IllegalTransition",
    "IterationLoop",
    "IterationState",
    "Lifecycle",
    "Outcome",
    "StateMachine",
    "Step",
    "Transition",
    "check_lifecycle_trace",
    "lifecycle_states",
    "lifecycle_transitions",
]
