"""A change request: submitted, classified and assessed, then decided and implemented."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, get_args

from states._base import Definition, IllegalTransition, StateMachine

Classification = Literal["minor", "formal"]
"""minor: the project manager decides and logs it; formal: the change authority decides."""


class ChangeState(StrEnum):
    submitted = "submitted"
    assessed = "assessed"
    approved = "approved"
    rejected = "rejected"
    implemented = "implemented"
    withdrawn = "withdrawn"


C = ChangeState

CHANGE_TRANSITIONS: tuple[Mapping[str, Any], ...] = (
    {"trigger": "assess", "source": C.submitted, "dest": C.assessed, "conditions": "_classified"},
    {"trigger": "approve", "source": C.assessed, "dest": C.approved},
    {"trigger": "reject", "source": C.assessed, "dest": C.rejected},
    {"trigger": "implement", "source": C.approved, "dest": C.implemented},
    {"trigger": "withdraw", "source": [C.submitted, C.assessed], "dest": C.withdrawn},
)


class ChangeRequest(StateMachine):
    """submitted → assessed → (approved → implemented | rejected); ``withdraw`` before a
    decision.

    The classification is data the caller sets with :meth:`classify` while the request is
    ``submitted`` (it may be corrected until then); ``assess`` is allowed only once it is set,
    so ``may("assess")`` and ``allowed()`` stay exact and ``fire`` keeps one signature for
    every machine.
    """

    _snapshot_keys = ("classification",)

    def __init__(self) -> None:
        self.classification: Classification | None = None
        super().__init__()

    def definition(self) -> Definition:
        return Definition(
            states=tuple(ChangeState),
            initial=C.submitted,
            terminal=frozenset({C.rejected, C.implemented, C.withdrawn}),
            transitions=CHANGE_TRANSITIONS,
        )

    def classify(self, classification: Classification) -> None:
        """Set the classification; only while submitted (IllegalTransition otherwise)."""
        if classification not in get_args(Classification):
            raise ValueError(f'classification must be "minor" or "formal", got {classification!r}')
        if self.state != C.submitted:
            raise IllegalTransition("classify", self.state, self.allowed())
        self.classification = classification

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChangeRequest:
        machine = cls()
        machine._restore_state(data)
        classification = data.get("classification")
        if classification not in (None, *get_args(Classification)):
            raise ValueError(f"unknown classification {classification!r}")
        if classification is None and machine.state not in (C.submitted, C.withdrawn):
            raise ValueError(f"a change request in {machine.state!r} must be classified")
        machine.classification = classification
        return machine

    def _classified(self, event: Any) -> bool:
        return self.classification is not None
