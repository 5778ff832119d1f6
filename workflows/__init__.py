"""Temporal workflows. They call activities by name and never touch I/O themselves.

The workflow classes are imported when first named (``from workflows import ProjectWorkflow``):
a client that needs only the search-attribute keys (``workflows._search``) starts without the
workflow modules and the SDK's workflow layer they bring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.iteration import IterationWorkflow
    from workflows.project import ProjectWorkflow

__all__ = ["IterationWorkflow", "ProjectWorkflow"]


def __getattr__(name: str) -> Any:
    if name == "ProjectWorkflow":
        from workflows.project import ProjectWorkflow

        return ProjectWorkflow
    if name == "IterationWorkflow":
        from workflows.iteration import IterationWorkflow

        return IterationWorkflow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
