"""Every side effect of a project workflow: the ledger, the task inbox, notifications."""

from activities._postman import Postman, load_config
from activities._project import ProjectActivities

__all__ = ["Postman", "ProjectActivities", "load_config"]
