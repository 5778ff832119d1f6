"""The API's routes, one module per resource; each module's ``router`` is mounted by the app."""

from phasegate.api.routes import (
    audit,
    control,
    deliverables,
    gates,
    iterations,
    me,
    projects,
    reports,
    tasks,
)

__all__ = [
    "audit",
    "control",
    "deliverables",
    "gates",
    "iterations",
    "me",
    "projects",
    "reports",
    "tasks",
]
