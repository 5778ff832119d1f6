"""Every side effect of a project workflow: the ledger, the task inbox, notifications."""

from activities._project import ProjectActivities

__all__ = ["ProjectActivities"]
