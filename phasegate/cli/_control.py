"""``phasegate progress``, ``change ...``, ``exception ...``: management by exception from the
command line, and the control part of ``project status`` (forecast, RAG, changes, exception).

Every option is read and checked before anything is sent: a figure that is negative, a date
that is none, a risk not written ``TITLE:PROB:IMPACT`` is a usage error (exit 2) naming the
option; an exception plan file that cannot be read or holds a wrong key exits 1 naming the
file and the key, as the other commands' files do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

import governance as g
from phasegate.choices import ALIASES, ExceptionChoice
from phasegate.cli._common import (
    ActorOrToken,
    Address,
    AsJson,
    Comment,
    DataDir,
    Namespace,
    OnBehalfOf,
    ProjectId,
    echo_json,
    fail,
    required_actor,
    settings,
    with_client,
)
from phasegate.cli._output import safe, say
from phasegate.cli._remote import Remote, over_api

if TYPE_CHECKING:  # the messages are imported where they are used
    from pydantic import BaseModel
    from temporalio.client import Client

    from governance._earned_value import EarnedValue  # not in governance's face (yet)
    from governance.messages import (
        ChangeStatus,
        ControlStatus,
        ExceptionPlan,
        ExceptionStatus,
        GateStatus,
        PackageStatus,
        ProjectStatus,
    )

change_app = typer.Typer(
    help="Request changes and decide them (minor: the project manager; formal: the change "
    "authority).",
    no_args_is_help=True,
)
exception_app = typer.Typer(
    help="Decide an exception (a forecast beyond tolerance) at the level holding it.",
    no_args_is_help=True,
)

T = TypeVar("T")


def checked(build: Callable[[], T]) -> T:
    """``build()``, or exit 2 with its message: bad input never reaches the server."""
    from phasegate.errors import ProjectError

    try:
        return build()
    except ProjectError as exc:
        raise fail(safe(exc), 2) from None


# -- printing -----------------------------------------------------------------------------------


def money(value: float | Decimal, currency: str = "") -> str:
    """``1,040,000 SEK``; cents only where there are any."""
    amount = float(value)
    whole = abs(amount - round(amount)) < 0.005  # 40,600.000000001 is 40,600
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return f"{text} {currency}".rstrip()


def signed(value: float, currency: str = "") -> str:
    return ("+" if value > 0 else "") + money(value, currency)


def index(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def number(value: float) -> str:
    return f"{value:g}"


def forecast_lines(f: EarnedValue, currency: str = "") -> list[str]:
    """The earned-value figures of the last progress report, in four lines."""
    end = f.forecast_end.isoformat() if f.forecast_end else "not in sight (no SPI yet)"
    return [
        f"as of {f.as_of.isoformat()}: PV {money(f.pv)}, EV {money(f.ev)}, AC {money(f.ac)}, "
        f"BAC {money(f.bac, currency)}",
        f"SV {signed(f.sv)}, CV {signed(f.cv)}, SPI {index(f.spi)}, CPI {index(f.cpi)}",
        f"EAC {money(f.eac)} (atypical {money(f.eac_atypical)}), ETC {money(f.etc)}, "
        f"VAC {signed(f.vac)}, TCPI {index(f.tcpi)}",
        f"{f.percent_complete:.1f}% complete, {f.percent_planned:.1f}% planned; end "
        f"{end} (planned {f.planned_end.isoformat()})",
    ]


def rag_line(rag: Mapping[str, str]) -> str:
    return ", ".join(f"{aspect} {colour}" for aspect, colour in rag.items())


def level_lines(ctl: ControlStatus) -> list[str]:
    """One line per level: each aspect's forecast deviation against its tolerance, the
    colour named where it is not green (``--json`` has every figure)."""
    out = []
    for level, aspects in ctl.rag_levels.items():
        parts = []
        for aspect, a in aspects.items():
            unit = "d" if aspect == "time" else "%"
            deviation = f"{a.deviation:.1f}" if a.deviation is not None else "-"
            colour = "" if a.colour == "green" else f" {a.colour.upper()}"
            parts.append(f"{aspect} {deviation}/{number(a.tolerance)}{unit}{colour}")
        out.append(f"{level}: " + ", ".join(parts))
    return out


def awaiting(d: GateStatus | None) -> str:
    """Who a decision waits for, its count and deadline; empty when none is open."""
    if d is None:
        return ""
    deadline = f", deadline {d.deadline.isoformat(timespec='minutes')}" if d.deadline else ""
    level = f", escalated to {d.level}" if d.level and d.escalations else ""
    advice = f"; advice awaited from {', '.join(d.advice_awaited)}" if d.advice_awaited else ""
    return (
        f"; awaiting {', '.join(d.awaited) or '-'} ({d.approvals}/{d.approvals_needed} "
        f"approvals{deadline}{level}){advice}"
    )


def change_line(c: ChangeStatus, currency: str = "") -> str:
    """``CR-2: formal, assessed: Title (cost 100,000 SEK, time P2W, scope +10) by david``."""
    scope = f"{'+' if c.scope_impact > 0 else ''}{number(c.scope_impact)}"
    line = (
        f"{c.id}: {c.classification}, {c.state}: {safe(c.title)} (cost "
        f"{money(c.cost_impact, currency)}, time {g.format_duration(c.time_impact)}, "
        f"scope {scope}) by {c.requested_by}"
    )
    if c.decided_by:
        comment = f" ({safe(c.decision_comment)})" if c.decision_comment else ""
        line += f"; decided by {c.decided_by}{comment}"
    if c.exception and not c.decided_by:
        line += f"; waits on exception {c.exception}"
    if c.decision is not None and c.decision.votes:
        line += "; votes: " + ", ".join(
            (f"{v.by} for " if v.by else "")
            + f"{v.actor} {v.decision if v.counted else f'advised {v.decision}'}"
            + (f" ({safe(v.comment)})" if v.comment else "")
            for v in c.decision.votes
        )
    return line + awaiting(c.decision)


def exception_line(e: ExceptionStatus) -> str:
    change = f" (change {e.change_id})" if e.change_id else ""
    of = f" (work package {e.package})" if e.package else ""
    return (
        f"{e.id}{of}: {e.state}, {', '.join(e.aspects)} at {', '.join(e.levels)} level; cause "
        f"{e.cause}{change}; raised {e.raised_at.isoformat(timespec='minutes')}; with "
        f"{e.level} ({e.role}); exception report {e.report}" + awaiting(e.decision)
    )


def print_control(st: ProjectStatus) -> None:
    """The control part of a project's status: forecast, RAG (per aspect and per level),
    baseline, changes and the open exception; nothing before the first use."""
    ctl = st.control
    currency = ctl.baseline.currency if ctl is not None else ""
    if st.forecast is not None:
        first, *rest = forecast_lines(st.forecast, currency)
        say(f"  forecast: {first}")
        for line in rest:
            say(f"            {line}")
    if st.rag:
        worst = f"{ctl.worst}: " if ctl is not None and ctl.worst else ""
        say(f"  rag:      {worst}{rag_line(st.rag)}")
        for line in level_lines(ctl) if ctl is not None else []:
            say(f"            {line}")
    if ctl is None:
        return
    b = ctl.baseline
    reports = f"; {ctl.progress} progress report(s)" if ctl.progress else ""
    say(
        f"  baseline: version {ctl.baseline_version}: {b.start.isoformat()} to "
        f"{b.planned_end.isoformat()}, {money(b.budget, b.currency)}, "
        f"{b.scope.amount} {b.scope.unit}{reports}"
    )
    open_changes = [c for c in ctl.changes if c.state in ("submitted", "assessed")]
    if ctl.changes:
        say(
            f"  changes:  {len(ctl.changes)} ({len(open_changes)} open); minor-change budget "
            f"{money(ctl.change_budget, currency)}, {money(ctl.change_budget_left, currency)} left"
        )
        for c in open_changes:
            say(f"            {change_line(c, currency)}")
    if ctl.exception is not None:
        say(f"  exception: {exception_line(ctl.exception)}")
    for pkg in ctl.packages:
        say(f"  package:  {package_line(pkg, currency)}")
        if pkg.exception is not None:
            say(f"            {exception_line(pkg.exception)}")


def package_line(pkg: PackageStatus, currency: str = "") -> str:
    """``wp-import (eva): report 1 as of 2026-11-27, EAC 210,000 of 200,000 EUR; red:
    cost 5.0/2% RED`` (or ``no report yet``)."""
    head = f"{pkg.id} ({pkg.manager}): "
    if pkg.closed_by is not None:
        return head + f"closed by exception {pkg.closed_by}"
    if pkg.last_report is None or pkg.forecast is None:
        return head + f"no report yet; {money(pkg.baseline.budget, currency)} budget"
    f = pkg.forecast
    parts = []
    for aspect, a in pkg.rag.items():
        unit = "d" if aspect == "time" else "%"
        deviation = f"{a.deviation:.1f}" if a.deviation is not None else "-"
        colour = "" if a.colour == "green" else f" {a.colour.upper()}"
        parts.append(f"{aspect} {deviation}/{number(a.tolerance)}{unit}{colour}")
    return (
        head + f"report {pkg.progress} as of {f.as_of.isoformat()}, EAC {money(f.eac)} of "
        f"{money(f.bac, currency)}; {pkg.worst or '-'}: {', '.join(parts)}"
    )


def print_change(c: ChangeStatus | None, st: ProjectStatus) -> None:
    if c is None:
        say(f"{st.project_id}: the change is no longer listed")
        return
    currency = st.control.baseline.currency if st.control is not None else ""
    say(change_line(c, currency))


def _run(
    call: Callable[[Client], Awaitable[T]],
    data_dir: Path | None,
    address: str | None,
    namespace: str | None,
) -> T:
    """Run one command against the server (its input already checked)."""
    return with_client(settings(data_dir=data_dir, address=address, namespace=namespace), call)


# -- over the API ------------------------------------------------------------------------------

API_ACTOR = "api-token"
"""The actor an input is checked with over the API when --as is left out: the server puts the
token's person in its place (a body never names who acts)."""


def acting(api: Remote | None, actor: str | None) -> str:
    """Who an input is built for: locally ``--as`` (required), over the API the token's person
    (``--as``, if given, is checked against it when the request is sent)."""
    if api is None:
        return required_actor(actor)
    return actor if actor is not None else API_ACTOR


def _body(inp: BaseModel) -> dict[str, Any]:
    """An update's input as the API's body: every field but who acts and the expiry (the
    server's)."""
    body: dict[str, Any] = inp.model_dump(mode="json", exclude={"actor", "expires_at"})
    return body


def project_path(project_id: str, *rest: str) -> str:
    from phasegate.cli._project import project_path as path

    return path(project_id, *rest)


def _remote_status(
    api: Remote, actor: str | None, path: str, body: dict[str, Any]
) -> ProjectStatus:
    from phasegate.cli._project import remote_command

    return remote_command(api, actor, path, body)


def _remote_change(
    api: Remote, actor: str | None, path: str, body: dict[str, Any]
) -> tuple[ChangeStatus | None, ProjectStatus]:
    """A change request or decision over the API: the change as it stands, and the status."""
    from governance.messages import ChangeStatus, ProjectStatus

    with api.session():
        api.acting(actor)
        answer: dict[str, Any] = api.post(path, dict[str, Any], body)
    change: ChangeStatus | None = api.read(ChangeStatus | None, answer.get("change"))
    st: ProjectStatus = api.read(ProjectStatus, answer.get("status"))
    return change, st


# -- commands -----------------------------------------------------------------------------------


def progress(
    project_id: ProjectId,
    as_of: Annotated[str, typer.Option("--as-of", help="The report's date, YYYY-MM-DD.")],
    actual_cost: Annotated[
        float, typer.Option("--actual-cost", help="Cost to date, in the charter's currency.")
    ],
    earned_scope: Annotated[
        float,
        typer.Option("--earned-scope", help="Scope done to date, in the charter's unit."),
    ],
    risk: Annotated[
        list[str] | None,
        typer.Option(
            help='An open risk as "TITLE:PROBABILITY:IMPACT" (0.3 or 30%; a cost); repeat for more.'
        ),
    ] = None,
    quality_issue: Annotated[
        list[str] | None,
        typer.Option(
            "--quality-issue",
            help='Scope failing its quality criteria, as "TITLE:SCOPE"; repeat for more.',
        ),
    ] = None,
    benefits_forecast: Annotated[
        float | None,
        typer.Option(
            "--benefits-forecast", help="Expected benefits, % of the business case's (100: met)."
        ),
    ] = None,
    actor: ActorOrToken = None,
    comment: Comment = None,
    work_package: Annotated[
        str | None,
        typer.Option(
            "--work-package",
            help="A work package's own figures (its manager or the project manager).",
        ),
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Report progress, figures to date (the project manager); prints forecast and RAG.

    A forecast beyond a tolerance raises an exception for the level above."""
    from phasegate import control_input as control

    api = over_api()
    report = checked(
        lambda: control.progress_report(
            acting(api, actor),
            as_of=control.parse_day("--as-of", as_of),
            actual_cost=actual_cost,
            earned_scope=earned_scope,
            risks=[control.parse_risk(r) for r in risk or []],
            quality_issues=[control.parse_quality_issue(q) for q in quality_issue or []],
            benefits_forecast=benefits_forecast,
            comment=comment,
            work_package=work_package,
        )
    )
    if api is not None:
        st = _remote_status(api, actor, project_path(project_id, "progress"), _body(report))
    else:
        from phasegate.control import report_progress

        st = _run(
            lambda client: report_progress(client, project_id, report),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
    if as_json:
        echo_json(st)
        return
    if report.work_package is not None:
        packages = st.control.packages if st.control is not None else []
        pkg = next((w for w in packages if w.id == report.work_package), None)
        number = pkg.progress if pkg is not None else "?"
        say(f"{st.project_id}: work package {report.work_package}: progress report {number}")
    else:
        say(f"{st.project_id}: progress report {st.control.progress if st.control else '?'}")
    print_control(st)


@change_app.command("request")
def request(
    project_id: ProjectId,
    title: Annotated[str, typer.Option(help="What changes, in one line.")],
    cost_impact: Annotated[
        float, typer.Option("--cost-impact", help="Extra cost, in the charter's currency.")
    ],
    time_impact: Annotated[
        str, typer.Option("--time-impact", help="Extra time, ISO-8601 (P5D, P2W; P0D: none).")
    ],
    scope_impact: Annotated[
        float,
        typer.Option("--scope-impact", help="Scope added (negative: removed), charter's unit."),
    ] = 0.0,
    reason: Annotated[str | None, typer.Option(help="Why the change is needed.")] = None,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Request a change; prints its id, minor or formal, and its state. A minor change is
    the project manager's to decide; a formal one goes to the change authority."""
    from phasegate import control_input as control

    api = over_api()
    change = checked(
        lambda: control.change_request(
            acting(api, actor),
            title,
            cost_impact=cost_impact,
            time_impact=control.parse_duration("--time-impact", time_impact),
            scope_impact=scope_impact,
            reason=reason,
            comment=comment,
        )
    )
    if api is not None:
        c, st = _remote_change(api, actor, project_path(project_id, "changes"), _body(change))
    else:
        from phasegate.control import request_change

        c, st = _run(
            lambda client: request_change(client, project_id, change),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
    echo_json(c if c is not None else st) if as_json else print_change(c, st)


@change_app.command("decide")
def decide(
    project_id: ProjectId,
    change_id: Annotated[str, typer.Argument(help="The change's id (CR-1).")],
    decision: Annotated[Literal["approve", "reject"], typer.Option(help="approve or reject")],
    actor: ActorOrToken = None,
    comment: Comment = None,
    on_behalf_of: OnBehalfOf = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Decide a change, or vote on a formal one (its quorum, required roles and four eyes
    are a gate's). Exit 1 with the reason when it is refused."""
    from phasegate import control_input

    cid = checked(lambda: control_input.change_id(change_id))
    if (api := over_api()) is not None:
        path = project_path(project_id, "changes", cid, "decide")
        body = {"decision": decision, "comment": comment, "on_behalf_of": on_behalf_of}
        c, st = _remote_change(api, actor, path, body)
    else:
        from phasegate import control

        by = required_actor(actor)
        c, st = _run(
            lambda client: control.decide_change(
                client, project_id, by, cid, decision, comment, on_behalf_of
            ),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
    echo_json(c if c is not None else st) if as_json else print_change(c, st)


@change_app.command("list")
def list_changes(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Every change request, open and decided, in the order requested."""
    if (api := over_api()) is not None:
        from governance.messages import ChangeStatus

        listed: dict[str, Any] = api.get(project_path(project_id, "changes"), dict[str, Any])
        rows = api.read(list[ChangeStatus], listed.get("items"))
        currency = api.read(str, listed.get("currency"))
    else:
        from phasegate import control

        rows, currency = _run(
            lambda client: control.changes(client, project_id),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
    if as_json:
        echo_json([c.model_dump(mode="json") for c in rows])
        return
    if not rows:
        say(f"{project_id}: no change requests")
    for c in rows:
        say(change_line(c, currency))


@change_app.command("show")
def show_change(
    project_id: ProjectId,
    change_id: Annotated[str, typer.Argument(help="The change's id (CR-1).")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """One change request as it stands (its votes, who it awaits). Exit 1 for none."""
    from phasegate import control_input

    cid = checked(lambda: control_input.change_id(change_id))
    if (api := over_api()) is not None:
        from governance.messages import ChangeStatus

        with api.session():
            c: ChangeStatus = api.get(project_path(project_id, "changes", cid), ChangeStatus)
            listed: dict[str, Any] = api.get(project_path(project_id, "changes"), dict[str, Any])
        currency = api.read(str, listed.get("currency"))
    else:
        from phasegate import control

        rows, currency = _run(
            lambda client: control.changes(client, project_id),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
        found = next((row for row in rows if row.id == cid), None)
        if found is None:
            raise fail(f"project {safe(project_id)} has no change {cid}")
        c = found
    echo_json(c) if as_json else say(change_line(c, currency))


@exception_app.command("show")
def show_exception(
    project_id: ProjectId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """The project's open exception (its level, cause, who decides it), if any; a work
    package's shows in `project status`. Exit 0 either way."""
    from governance.messages import ExceptionStatus

    exception: ExceptionStatus | None
    if (api := over_api()) is not None:
        view: dict[str, Any] = api.get(project_path(project_id, "exception"), dict[str, Any])
        exception = api.read(ExceptionStatus | None, view.get("exception"))
    else:
        from phasegate import service

        st = _run(
            lambda client: service.status(client, project_id),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
        exception = st.control.exception if st.control is not None else None
    if as_json:
        echo_json({"exception": exception.model_dump(mode="json") if exception else None})
    elif exception is None:
        say(f"{safe(project_id)}: no open exception")
    else:
        say(exception_line(exception))


@exception_app.command("decide")
def decide_exception(
    project_id: ProjectId,
    decision: Annotated[
        ExceptionChoice,
        typer.Option(
            help="approve-plan (the plan becomes the new baseline), widen (the tolerance) or "
            "close (the project ends through its closing phase)"
        ),
    ],
    plan: Annotated[
        Path | None,
        typer.Option(
            help="With approve-plan: the exception plan, YAML or JSON with planned_end, "
            "budget and scope (what is left out stays)."
        ),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            help='With widen: a new tolerance of the breached level, "ASPECT=VALUE" '
            "(cost=15%, time=P6W); repeat for more."
        ),
    ] = None,
    change_budget: Annotated[
        float | None,
        typer.Option("--change-budget", help="With widen: a new minor-change budget, %."),
    ] = None,
    exception_id: Annotated[
        str | None,
        typer.Option(
            "--exception",
            help="Which open exception (EX-2); default: the project's, or the only one open.",
        ),
    ] = None,
    actor: ActorOrToken = None,
    comment: Comment = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    address: Address = None,
    namespace: Namespace = None,
) -> None:
    """Decide the open exception (the deciding role of the level holding it)."""
    from phasegate import control_input as control

    api = over_api()
    if plan is not None and ALIASES.get(decision, decision) != "approve-plan":
        raise fail(safe(control.misplaced_plan(decision)), 2)
    tolerances = checked(lambda: control.parse_tolerances(tolerance or []))
    exception_plan = read_plan(plan) if plan is not None else None
    inp = checked(
        lambda: control.exception_decision(
            acting(api, actor),
            decision,
            plan=exception_plan,
            tolerances=tolerances,
            change_budget=change_budget,
            comment=comment,
            exception_id=exception_id,
        )
    )
    if api is not None:
        body = {
            "decision": decision,
            "exception_id": exception_id,
            "plan": exception_plan.model_dump(mode="json") if exception_plan else None,
            "tolerances": tolerances.model_dump(mode="json", exclude_unset=True)
            if tolerances is not None
            else None,
            "change_budget": change_budget,
            "comment": comment,
        }
        st = _remote_status(api, actor, project_path(project_id, "exception", "decide"), body)
    else:
        from phasegate.control import decide_exception

        st = _run(
            lambda client: decide_exception(client, project_id, inp),
            data_dir=data_dir,
            address=address,
            namespace=namespace,
        )
    if as_json:
        echo_json(st)
        return
    say(f"{st.project_id}: state {st.state}")
    print_control(st)


def read_plan(path: Path) -> ExceptionPlan:
    """The exception plan of ``path``; a problem exits 1 naming the file and the key."""
    from phasegate import control_input

    try:
        return control_input.read_plan(path)
    except g.GovernanceError as exc:
        for issue in exc.issues:
            say(f"error: {safe(path)}: {safe(issue)}", err=True)
        raise typer.Exit(1) from None


__all__ = [
    "change_app",
    "change_line",
    "exception_app",
    "forecast_lines",
    "print_control",
    "progress",
]
