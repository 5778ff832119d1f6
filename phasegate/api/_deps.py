"""What routes depend on, as ``Annotated`` aliases: the settings, the Temporal client, the
ledger, the authenticated person, and a project (or task) that person may see."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from governance.audit import Task
from ledger import Ledger
from phasegate import service
from phasegate.api._auth import Authenticator, Person
from phasegate.service import ProjectError
from phasegate.settings import Settings

__all__ = [
    "PERSON_ID",
    "ClientDep",
    "CurrentUser",
    "LedgerDep",
    "Services",
    "SettingsDep",
    "VisibleProject",
    "VisibleTask",
    "may_see",
]

PERSON_ID = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
"""A project or person id, as charters write them."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the app holds while it runs (made in its lifespan, on the server's event loop)."""

    settings: Settings
    client: Client
    ledger: Ledger
    auth: Authenticator


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _settings(request: Request) -> Settings:
    return _services(request).settings


def _client(request: Request) -> Client:
    return _services(request).client


def _ledger(request: Request) -> Ledger:
    return _services(request).ledger


SettingsDep = Annotated[Settings, Depends(_settings)]
ClientDep = Annotated[Client, Depends(_client)]
LedgerDep = Annotated[Ledger, Depends(_ledger)]

_bearer = HTTPBearer(
    auto_error=False,
    description="A personal API token (`phasegate token create`) or an OpenID Connect token.",
)


async def _current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Person:
    token = credentials.credentials if credentials is not None else None
    person = await asyncio.to_thread(_services(request).auth.person, token)
    request.state.person = person.id  # for the access log
    return person


CurrentUser = Annotated[Person, Depends(_current_user)]


async def may_see(client: Client, user: Person, project_id: str) -> bool:
    """Whether ``user`` may see the project: the PMO sees every one, anyone else those whose
    charter names them. A project that does not answer is not seen."""
    if user.pmo:
        return True
    try:
        return user.id in await service.people(client, project_id)
    except ProjectError as exc:
        if exc.kind == "UnknownProject":
            return False
        raise


def no_project(project_id: str) -> ProjectError:
    """The same answer for a project that does not exist and for one the person may not see,
    so nobody learns which projects exist from outside them."""
    return ProjectError(f"no project {project_id}", "UnknownProject")


async def _visible_project(
    project_id: Annotated[str, Path(pattern=PERSON_ID, description="The project id.")],
    user: CurrentUser,
    client: ClientDep,
) -> str:
    if not await may_see(client, user, project_id):
        raise no_project(project_id)
    return project_id


VisibleProject = Annotated[str, Depends(_visible_project)]
"""The project id of the path, once the person may see that project (else 404)."""


async def _visible_task(
    task_id: Annotated[int, Path(description="The task's id in the inbox.")],
    user: CurrentUser,
    client: ClientDep,
    ledger: LedgerDep,
) -> Task:
    task = await asyncio.to_thread(ledger.task, task_id)
    if task is None or not await may_see(client, user, task.project_id):
        raise ProjectError(f"no task {task_id}", "UnknownTask")
    return task


VisibleTask = Annotated[Task, Depends(_visible_task)]
"""The task of the path, once the person may see its project (else 404)."""
