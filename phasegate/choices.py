"""The words the faces take for a decision, apart from the code that sends it: light (no
Temporal SDK), so that a command line can name them in its options without loading the client."""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ALIASES",
    "EXCEPTION_DECISIONS",
    "NEEDS_A_REASON",
    "ExceptionChoice",
    "ReportChoice",
    "missing_reason",
]

EXCEPTION_DECISIONS = {
    "approve-plan": "approve_plan",
    "widen": "widen_tolerance",
    "close": "close",
}
"""The command line's words for an exception decision -> the update's."""
ALIASES = {"approve_plan": "approve-plan", "widen_tolerance": "widen"}
"""The update's (and the exception report's) names, taken on the command line too."""
ExceptionChoice = Literal["approve-plan", "widen", "close", "approve_plan", "widen_tolerance"]
ReportChoice = Literal["highlight", "exception"]
"""The kinds of report ``phasegate report --kind`` names: governance's ``ReportKind``, spelled
here so that the option needs none of the reports' models (a test holds the two equal)."""

NEEDS_A_REASON = frozenset({"reject", "rework", "hold", "cancel"})
"""A no, or a stop, is recorded with its reason: shown in status and history."""


def missing_reason(what: str, comment: str | None) -> bool:
    """Whether ``what`` (a gate decision or a board action) lacks the reason it needs."""
    return what in NEEDS_A_REASON and (comment is None or not comment.strip())
