"""Deliverables (product-based work), from the faces: register one that a gate of the current
phase lists, and read which are present.

A file is registered by its SHA-256 and size, computed here by streaming it: its content never
leaves the machine. A URL is registered as given. ``gate request`` is refused while a
deliverable the gate lists is missing (the project workflow checks that, not this module).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from governance.messages import DeliverableStatus, ProjectStatus, SubmitDeliverableInput
from phasegate.errors import ProjectError, command_input

if TYPE_CHECKING:  # the client, the service and the workflow where a command is sent: the
    # submission is read and checked without them (the CLI over the API never loads them)
    from temporalio.client import Client

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int


def digest(path: Path) -> FileDigest:
    """The SHA-256 and size of the regular file at ``path``, read in chunks; anything else
    (missing, unreadable, a directory, a device or pipe) is ProjectError("InvalidInput")."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before the check below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _bad(path, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _bad(path, "is a directory; a deliverable is one file (or give a --url)")
        if not stat.S_ISREG(mode):
            raise _bad(path, "is not a regular file")
        h, size = hashlib.sha256(), 0
        while chunk := os.read(fd, CHUNK):
            h.update(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _bad(path, exc) from None
    finally:
        os.close(fd)
    return FileDigest(h.hexdigest(), size)


def _bad(path: Path, problem: str | OSError) -> ProjectError:
    if isinstance(problem, OSError):
        problem = (problem.strerror or str(problem)).lower()
    return ProjectError(f"--file {path}: {problem}", "InvalidInput")


def submission(
    actor: str,
    name: str,
    *,
    file: Path | None = None,
    url: str | None = None,
    hashed: FileDigest | None = None,
    comment: str | None = None,
) -> SubmitDeliverableInput:
    """The update's input for exactly one of ``file`` (hashed here), a file ``hashed`` where
    it is (its SHA-256 and size, as a client of the REST API sends them) or ``url``, checked."""
    if sum(given is not None for given in (file, url, hashed)) != 1:
        raise ProjectError("give exactly one of a file or a URL", "InvalidInput")
    d = digest(file) if file is not None else hashed
    if d is not None:
        return command_input(
            SubmitDeliverableInput,
            actor=actor,
            name=name,
            sha256=d.sha256,
            size=d.size,
            comment=comment,
        )
    return command_input(SubmitDeliverableInput, actor=actor, name=name, url=url, comment=comment)


async def submit(client: Client, project_id: str, inp: SubmitDeliverableInput) -> ProjectStatus:
    from phasegate import service
    from workflows import ProjectWorkflow

    return await service.send_update(
        client, service.project(project_id), ProjectWorkflow.submit_deliverable, inp
    )


async def submit_deliverable(
    client: Client,
    project_id: str,
    actor: str,
    name: str,
    *,
    file: Path | None = None,
    url: str | None = None,
    comment: str | None = None,
) -> ProjectStatus:
    """Register deliverable ``name`` of the current phase's gate; a second submission is a
    new version, the later one current. Nothing is sent when the file cannot be read."""
    inp = submission(actor, name, file=file, url=url, comment=comment)
    return await submit(client, project_id, inp)


async def deliverables(client: Client, project_id: str) -> list[DeliverableStatus]:
    """Each deliverable the current phase's gate lists, present (its current version) or not."""
    from phasegate import service

    return (await service.status(client, project_id)).deliverables
