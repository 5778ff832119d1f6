"""``phasegate deliverable ...``: register the deliverables a gate lists, and see which are
present. A file is registered by its SHA-256 and size; its content stays here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from phasegate.cli._common import (
    ActorOrToken,
    Address,
    AsJson,
    Comment,
    DataDir,
    Namespace,
    ProjectId,
    echo_json,
    fail,
    required_actor,
    settings,
    with_client,
)
from phasegate.cli._output import safe, say
from phasegate.cli._remote import over_api

if TYPE_CHECKING:
    from governance.messages import DeliverableStatus

deliverable_app = typer.Typer(
    help="Deliverables of the current phase's gate (product-based work).", no_args_is_help=True
)


def size_text(size: int) -> str:
    """``532 B``, ``12.4 KiB``, ``3.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def describe(d: DeliverableStatus) -> str:
    """One deliverable in one line: present with its current version, or missing."""
    cur = d.current
    if not d.present or cur is None:
        return f"{safe(d.name)}: missing"
    what = (
        f"sha256 {cur.sha256[:12]}, {size_text(cur.size or 0)}"
        if cur.sha256
        else f"url {safe(cur.url)}"
    )
    versions = f" of {d.versions}" if d.versions > 1 else ""
    comment = f" ({safe(cur.comment)})" if cur.comment else ""
    return (
        f"{safe(d.name)}: version {cur.version}{versions}, {what}, by {cur.submitted_by} "
        f"at {cur.at.isoformat(timespec='minutes')}{comment}"
    )


@deliverable_app.command("submit")
def submit(
    project_id: ProjectId,
    name: Annotated[str, typer.Argument(help="The deliverable's name, as the gate lists it.")],
    file: Annotated[
        Path | None,
        typer.Option(help="A file: its SHA-256 and size are recorded, not its content."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Where the deliverable is, recorded as given.")
    ] = None,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Register a deliverable of the current phase's gate; submitting it again adds a version."""
    from phasegate import deliverables
    from phasegate.errors import ProjectError

    if (file is None) == (url is None):
        raise fail("give exactly one of --file PATH or --url URL", 2)
    api = over_api()
    # Over the API the token's person acts: the input is checked for a stand-in.
    by = required_actor(actor) if api is None else actor or "api-token"
    try:  # the file is read (and hashed) before anything is sent
        inp = deliverables.submission(by, name, file=file, url=url, comment=comment)
    except ProjectError as exc:
        raise fail(str(exc)) from None
    if api is not None:
        from phasegate.cli._project import project_path, remote_command

        hashed = {"sha256": inp.sha256, "size": inp.size} if inp.sha256 is not None else None
        body = {"name": inp.name, "file": hashed, "url": inp.url, "comment": inp.comment}
        st = remote_command(api, actor, project_path(project_id, "deliverables"), body)
    else:
        s = settings(data_dir=data_dir, address=address, namespace=namespace)
        st = with_client(s, lambda client: deliverables.submit(client, project_id, inp))
    if as_json:
        echo_json(st)
        return
    for d in st.deliverables:  # all of the gate's: what is still missing shows too
        say(describe(d))


@deliverable_app.command("list")
def list_deliverables(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Each deliverable of the current phase's gate: present (version, hash, who, when) or
    missing. Exit 0 either way."""
    if (api := over_api()) is not None:
        from governance.messages import DeliverableStatus
        from phasegate.cli._project import project_path

        rows = api.get(project_path(project_id, "deliverables"), list[DeliverableStatus])
    else:
        from phasegate import deliverables

        s = settings(data_dir=data_dir, address=address, namespace=namespace)
        rows = with_client(s, lambda client: deliverables.deliverables(client, project_id))
    if as_json:
        echo_json([d.model_dump(mode="json") for d in rows])
        return
    if not rows:
        say(f"{project_id}: the current gate lists no deliverables")
    for d in rows:
        say(describe(d))


__all__ = ["deliverable_app", "describe"]
