"""The API's routes, one module per resource; each module's ``router`` is mounted by the app."""

from phasegate.api.routes import audit, gates, me, projects, tasks

__all__ = ["audit", "gates", "me", "projects", "tasks"]
