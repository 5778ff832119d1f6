"""One small base that serves every machine: definition, firing, snapshots, diagrams."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from transitions import Machine

Transition = Mapping[str, Any]
"""One transition as transitions' plain dict: trigger, source, dest, conditions, after."""

Condition = Callable[[Any], bool]
"""A pure predicate over transitions' ``EventData`` (the machines run with send_event=True)."""


class IllegalTransition(Exception):
    """A trigger that is unknown or not allowed in the current state; nothing changed."""

    def __init__(self, trigger: str, state: str, allowed: Iterable[str]) -> None:
        self.trigger = trigger
        self.state = state
        self.allowed = list(allowed)
        shown = ", ".join(self.allowed) or "none"
        super().__init__(f'cannot "{trigger}" from "{state}" (allowed: {shown})')


@dataclass(frozen=True)
class Definition:
    """A whole machine: its states, where it starts and ends, and its transitions in order."""

    states: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: tuple[Transition, ...]
    triggers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Plain strings throughout (an Enum's members become their values), so ``state`` and
        # ``to_dict()`` carry plain JSON-able strings.
        def names(value: Any) -> str | list[str]:
            return str(value) if isinstance(value, str) else [str(v) for v in value]

        transitions = tuple(
            {**t, "source": names(t["source"]), "dest": str(t["dest"])} for t in self.transitions
        )
        set_ = object.__setattr__
        set_(self, "states", tuple(str(s) for s in self.states))
        set_(self, "initial", str(self.initial))
        set_(self, "terminal", frozenset(str(s) for s in self.terminal))
        set_(self, "transitions", transitions)
        set_(self, "triggers", tuple(dict.fromkeys(str(t["trigger"]) for t in transitions)))

    def extended(self, *transitions: Transition) -> Definition:
        """The same machine with more transitions (a hook for tests and variants)."""
        return Definition(
            self.states, self.initial, self.terminal, (*self.transitions, *transitions)
        )

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, dest, trigger) for every transition, in definition order, no duplicates."""
        seen: dict[tuple[str, str, str], None] = {}
        for t in self.transitions:
            sources = t["source"]
            for source in [sources] if isinstance(sources, str) else sources:
                seen[(source, t["dest"], t["trigger"])] = None
        return list(seen)


# Words mermaid's state-diagram grammar reads as keywords; such a state gets an alias id.
_MERMAID_KEYWORDS = frozenset(
    {"state", "note", "end", "as", "direction", "class", "classdef", "style", "click", "default"}
)


def mermaid(definition: Definition) -> str:
    """A mermaid ``stateDiagram-v2`` of the whole definition; labels are trigger names."""

    # A keyword state gets "<state>_s", or more "_s" until no state is called that: phases
    # "end" and "end_s" must not become one node.
    taken = {s for s in definition.states if s.lower() not in _MERMAID_KEYWORDS}
    aliases: dict[str, str] = {}
    for state in definition.states:
        if state not in taken:
            alias = f"{state}_s"
            while alias in taken:
                alias += "_s"
            taken.add(alias)
            aliases[state] = alias

    def ident(state: str) -> str:
        return aliases.get(state, state)

    lines = ["stateDiagram-v2"]
    lines += [f'    state "{s}" as {ident(s)}' for s in definition.states if ident(s) != s]
    lines.append(f"    [*] --> {ident(definition.initial)}")
    lines += [f"    {ident(src)} --> {ident(dst)}: {trig}" for src, dst, trig in definition.edges()]
    lines += [f"    {ident(s)} --> [*]" for s in definition.states if s in definition.terminal]
    return "\n".join(lines) + "\n"


class StateMachine:
    """A plain ``transitions.Machine`` behind a small, typed interface.

    Subclasses give their :class:`Definition` and, if they keep data beside the state, the
    extra ``to_dict`` fields. transitions binds the state attribute, the trigger methods and
    ``may_<trigger>`` onto the instance; callers use :meth:`fire` and :meth:`may`.
    """

    state: str
    """The current state (set by transitions)."""

    _snapshot_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._definition = self.definition()
        self._machine = Machine(
            model=self,
            states=list(self._definition.states),
            transitions=[dict(t) for t in self._definition.transitions],
            initial=self._definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    def definition(self) -> Definition:
        raise NotImplementedError

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger name the machine knows, in definition order."""
        return self._definition.triggers

    @property
    def terminal(self) -> bool:
        return self.state in self._definition.terminal

    def may(self, trigger: str) -> bool:
        """Whether ``trigger`` would succeed now (conditions evaluated, nothing changed)."""
        if trigger not in self._definition.triggers:
            return False
        check: Callable[[], bool] = getattr(self, f"may_{trigger}")
        return bool(check())

    def allowed(self) -> list[str]:
        """The triggers that would succeed now, in definition order."""
        return [t for t in self._machine.get_triggers(self.state) if self.may(t)]

    def fire(self, trigger: str) -> str:
        """Fire ``trigger`` and return the new state; raise :class:`IllegalTransition` (and
        change nothing) when it is unknown or not allowed now."""
        if not self.may(trigger):
            raise IllegalTransition(trigger, self.state, self.allowed())
        self._machine.events[trigger].trigger(self)
        return self.state

    def mermaid(self) -> str:
        """The whole machine definition as a mermaid ``stateDiagram-v2``."""
        return mermaid(self._definition)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able snapshot; ``from_dict`` restores it exactly."""
        return {"state": self.state} | {k: getattr(self, k) for k in self._snapshot_keys}

    def _restore_state(self, data: Mapping[str, Any]) -> None:
        state = data.get("state")
        if state not in self._definition.states:
            raise ValueError(
                f"unknown state {state!r}; states: {', '.join(self._definition.states)}"
            )
        self._machine.set_state(state, model=self)

    def _identity(self) -> tuple[Any, ...]:
        return (self.to_dict(),)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, StateMachine)
        return self._identity() == other._identity()

    __hash__ = None  # type: ignore[assignment]  # mutable: equal now, maybe not later

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"{type(self).__name__}({fields})"
