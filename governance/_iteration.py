"""The rules of an iteration plan: what a planner may commit to, named item by item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from governance._charter import Charter
from governance._model import IterationPolicy
from governance._types import format_duration

if TYPE_CHECKING:  # for annotations only: reading a model needs no messages module
    from governance.messages import WorkItem

MAX_ITEMS = 500
"""Items one iteration holds at most (its plan and the items added later, together)."""


def plan_problem(
    items: Sequence[WorkItem],
    *,
    policy: IterationPolicy,
    charter: Charter,
    planned: Sequence[WorkItem] = (),
    length: timedelta | None = None,
    adding: bool = False,
) -> str | None:
    """Why ``items`` cannot be planned (or added to ``planned``), or None when they can.

    An item is at most the phase's ``max_item_effort`` person-days, has an id no other item
    of the iteration has, and an owner who is a person in the charter; a plan has at least
    one item and a length within the phase's ``min_length``..``max_length``.
    """
    if not items:
        return "add at least one item" if adding else "an iteration plan needs at least one item"
    if length is not None and not policy.min_length <= length <= policy.max_length:
        return (
            f"length {format_duration(length)} is outside {format_duration(policy.min_length)}"
            f"..{format_duration(policy.max_length)}"
        )
    if len(planned) + len(items) > MAX_ITEMS:
        return f"an iteration holds at most {MAX_ITEMS} items; this would make it " + str(
            len(planned) + len(items)
        )
    seen = {item.id for item in planned}
    for item in items:
        if item.id in seen:
            return f'item "{item.id}": another item of this iteration has the same id'
        seen.add(item.id)
        if item.estimate > policy.max_item_effort:
            return (
                f'item "{item.id}": estimate {item.estimate:g} person-days is over the '
                f"phase's max_item_effort of {policy.max_item_effort:g}; split it"
            )
        if charter.person(item.owner) is None:
            return f'item "{item.id}": owner "{item.owner}" is not a person in the charter'
        if charter.baseline.scope.unit == "points" and item.points is None:
            return (
                f'item "{item.id}": give its points: the charter measures scope in points '
                f"({charter.baseline.scope.amount} in the baseline), and the burn-up counts them"
            )
    return None
