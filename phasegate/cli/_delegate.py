"""``phasegate delegate`` and ``delegation list/revoke``: substitute approvers.

A date alone (``2027-03-01``) means that day in the local time zone: ``--from`` its start,
``--until`` its end (the day is included); a time with a zone (``2027-03-01T08:00+01:00``) is
taken as written."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
    from governance.messages import Delegation

delegation_app = typer.Typer(
    help="List and revoke delegations (substitute approvers).", no_args_is_help=True
)


def parse_when(option: str, value: str, *, end_of_day: bool = False) -> datetime:
    """A date (local time zone; with ``end_of_day`` the next midnight) or a time with a zone;
    else a usage error naming the option."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        try:
            start = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time())
            return start.astimezone()  # the local zone
        except OverflowError:
            raise fail(f"{option} {value!r} is out of range", 2) from None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option} {value!r} is neither a date (YYYY-MM-DD) nor a time "
            "(YYYY-MM-DDTHH:MM+01:00)",
            2,
        ) from None
    if at.tzinfo is None:
        raise fail(f"{option} {value!r} needs a time zone (e.g. {value}+01:00), or give a date", 2)
    return at


def delegate(
    project_id: ProjectId,
    to: Annotated[str, typer.Option("--to", help="The substitute (a charter person's id).")],
    starts: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD) or time with a zone.")
    ],
    until: Annotated[
        str, typer.Option("--until", help="Last day, included (YYYY-MM-DD), or time with a zone.")
    ],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the record.")] = None,
    actor: ActorOrToken = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Let a substitute decide for you (--as) in a window: they vote for you on gates and
    changes, in your roles, recorded as "SUBSTITUTE for YOU"; your decide tasks are theirs
    too. Four eyes holds; the model may forbid it or limit who may stand in."""
    starts_at = parse_when("--from", starts)
    ends_at = parse_when("--until", until, end_of_day=True)
    if (api := over_api()) is not None:
        from governance.messages import ProjectStatus
        from phasegate.cli._project import project_path

        path = project_path(project_id, "delegations")
        body = {
            "to": to,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "comment": reason,
        }
        with api.session():
            api.acting(actor)
            by = actor if actor is not None else api.me().person
            st = api.post(path, ProjectStatus, body)
    else:
        from phasegate import service

        by = required_actor(actor)
        st = with_client(
            settings(data_dir=data_dir, address=address, namespace=namespace),
            lambda client: service.delegate(client, project_id, by, to, starts_at, ends_at, reason),
        )
    mine = [d for d in st.delegations if d.delegator == by and d.substitute == to]
    if as_json:
        echo_json(mine[-1] if mine else st)
        return
    if mine:
        say(f"delegation {describe(mine[-1])}")


def describe(d: Delegation) -> str:
    reason = f": {d.reason}" if d.reason else ""
    return safe(
        f"{d.id}: {d.substitute} for {d.delegator} ({', '.join(d.roles)}) from "
        f"{d.starts_at.isoformat(timespec='minutes')} until "
        f"{d.ends_at.isoformat(timespec='minutes')}{reason}"
    )


@delegation_app.command("list")
def list_delegations(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """The project's delegations not yet ended (to come or running)."""
    if (api := over_api()) is not None:
        from governance.messages import Delegation
        from phasegate.cli._project import project_path

        delegations = api.get(project_path(project_id, "delegations"), list[Delegation])
    else:
        from phasegate import service

        st = with_client(
            settings(data_dir=data_dir, address=address, namespace=namespace),
            lambda client: service.status(client, project_id),
        )
        delegations = st.delegations
    if as_json:
        echo_json([d.model_dump(mode="json") for d in delegations])
        return
    if not delegations:
        say("no delegations")
    for d in delegations:
        say(describe(d))


@delegation_app.command("revoke")
def revoke(
    project_id: ProjectId,
    delegation_id: Annotated[int, typer.Argument(help="The delegation's number.", min=1)],
    actor: ActorOrToken = None,
    comment: Comment = None,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """End a delegation now (its delegator or its substitute); the substitute's copies of
    the delegator's tasks are withdrawn."""
    if (api := over_api()) is not None:
        from phasegate.cli._project import project_path, remote_command

        path = project_path(project_id, "delegations", str(delegation_id), "revoke")
        remote_command(api, actor, path, {"comment": comment})
    else:
        from phasegate import service

        by = required_actor(actor)
        with_client(
            settings(data_dir=data_dir, address=address, namespace=namespace),
            lambda client: service.revoke_delegation(
                client, project_id, by, delegation_id, comment
            ),
        )
    say(f"delegation {delegation_id} revoked")
