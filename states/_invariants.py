"""Invariants of a lifecycle run, checked over its trace of fired transitions."""

from __future__ import annotations

from collections.abc import Iterable

from governance import GovernanceModel
from states._lifecycle import CANCELLED, CLOSED, EXCEPTION, ON_HOLD, TERMINAL

Step = tuple[str, str, str]
"""One fired transition: (trigger, from_state, to_state)."""


def check_lifecycle_trace(model: GovernanceModel, trace: Iterable[Step]) -> None:
    """Assert that a run of the lifecycle under ``model``, from its first phase, kept the
    governance rules; raise ``AssertionError`` naming the first step that broke one.

    - the steps chain (each starts where the one before ended) and name known states;
    - a phase k > 0 is first entered only by ``approve`` from phase k-1's gate, and never
      entered before that gate was approved;
    - ``approve`` leaves a gate for the very next phase (the last gate for ``closed``);
    - a phase is otherwise entered only from its own gate or by returning from hold/exception,
      and a gate only from its own phase or by returning from hold;
    - a terminal state (closed, cancelled) is never left;
    - on_hold returns only where it was held from (or is cancelled); exception returns only to
      the phase it was raised in (or closes or is cancelled);
    - ``close_early`` (an exception decided "close") leads to the model's closing phase and
      nowhere else: the one way past the gates before it.
    """
    phases = model.phases
    index = {p.id: k for k, p in enumerate(phases)}
    gate_index = {p.gate_state: k for k, p in enumerate(phases)}
    approved: set[int] = set()
    entered: set[int] = {0}
    origin: dict[str, str] = {}  # on_hold / exception -> the state it came from
    at = phases[0].id
    closing = model.closing().id

    for n, (trigger, src, dst) in enumerate(trace):
        where = f"step {n} ({trigger}: {src} -> {dst})"
        assert src == at, f"{where}: starts in {src!r}, but the run was in {at!r}"
        assert src not in TERMINAL, f"{where}: left the terminal state {src!r}"
        known = dst in index or dst in gate_index or dst in (ON_HOLD, EXCEPTION, *TERMINAL)
        assert known, f"{where}: unknown state {dst!r}"

        if trigger == "close_early":
            assert dst == closing, f"{where}: closing early must lead to {closing!r}"
            origin.pop(src, None)
        elif src in origin:  # leaving on_hold or exception
            came_from = origin.pop(src)
            may_end = {CANCELLED} if src == ON_HOLD else {CLOSED, CANCELLED}
            assert dst == came_from or dst in may_end, (
                f"{where}: {src} returned to {dst!r}, but it came from {came_from!r}"
            )
        elif trigger == "approve" and src in gate_index:
            k = gate_index[src]
            expected = phases[k + 1].id if k + 1 < len(phases) else CLOSED
            assert dst == expected, f"{where}: approving gate {src!r} must lead to {expected!r}"
            approved.add(k)
        elif dst in index:
            k = index[dst]
            assert src == phases[k].gate_state, (
                f"{where}: phase {dst!r} entered from {src!r}, not from a gate"
            )
        elif dst in gate_index:
            k = gate_index[dst]
            assert src == phases[k].id, f"{where}: gate {dst!r} opened from {src!r}"

        if dst in index and trigger != "close_early":
            k = index[dst]
            if k > 0 and k not in entered:
                assert trigger == "approve" and src == phases[k - 1].gate_state, (
                    f"{where}: phase {dst!r} first entered other than by approving "
                    f"{phases[k - 1].gate_state!r}"
                )
            assert k == 0 or k - 1 in approved, (
                f"{where}: phase {dst!r} entered, but gate {phases[k - 1].gate_state!r} "
                "was never approved"
            )
            entered.add(k)
        if trigger == "close_early":
            entered.add(index[dst])
            approved.update(range(index[dst]))  # the gates before it are passed by
        if dst == CLOSED and trigger == "approve":
            assert src == phases[-1].gate_state, f"{where}: closed by approving a middle gate"
        if dst in (ON_HOLD, EXCEPTION):
            origin[dst] = src
        at = dst
