"""Temporal workflows. They call activities by name and never touch I/O themselves."""

from workflows.iteration import IterationWorkflow
from workflows.project import ProjectWorkflow

__all__ = ["IterationWorkflow", "ProjectWorkflow"]
