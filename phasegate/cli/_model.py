"""``phasegate model ...`` and ``phasegate charter ...``: governance models as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import governance as g
from states import Lifecycle

model_app = typer.Typer(
    help="Governance models: list, validate, show, diagram, schema.", no_args_is_help=True
)
charter_app = typer.Typer(help="Project charters: validate, schema.", no_args_is_help=True)

PathOrName = Annotated[str, typer.Argument(help="A built-in model name or a model YAML file.")]


def _fail(exc: g.GovernanceError) -> None:
    for issue in exc.issues:
        typer.echo(str(issue))
    raise typer.Exit(1)


def _load_model(path_or_name: str) -> g.GovernanceModel:
    try:
        return g.load_model(path_or_name)
    except g.GovernanceError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits


def _looks_like_charter(path: str) -> bool:
    p = Path(path)
    if not p.is_file():
        return False
    try:
        data = g.read_yaml(p.read_bytes(), path)
    except g.GovernanceError as exc:
        _fail(exc)  # the same issues loading it as a model gives, without reading it twice
    return "baseline" in data or "people" in data


def _summary(m: g.GovernanceModel) -> str:
    return (
        f"ok: {m.ref} ({m.title}): {len(m.phases)} phases, {len(m.roles)} roles, "
        f"{len(m.escalation)} escalation levels, sha256 {m.content_hash()[:12]}"
    )


@model_app.command("list")
def list_models() -> None:
    """The built-in governance models."""
    for m in g.builtin_models().values():
        typer.echo(f"{m.ref}\t{m.title}\t{' -> '.join(p.id for p in m.phases)}")


@model_app.command("validate")
def validate_model(path_or_name: PathOrName) -> None:
    """Exit 0 with a one-line summary when valid; exit 1 and one line per problem when not.

    A charter file is recognised and validated against the model it names.
    """
    if _looks_like_charter(path_or_name):
        validate_charter(Path(path_or_name), None)
        return
    typer.echo(_summary(_load_model(path_or_name)))


@charter_app.command("validate")
def validate_charter(
    path: Annotated[Path, typer.Argument(help="A project charter YAML file.")],
    model: Annotated[
        str | None,
        typer.Option(help="Model name or file; default: the model the charter names."),
    ] = None,
) -> None:
    """Validate a charter on its own and against its governance model."""
    try:
        charter, gm = g.load_project(path, model)
    except g.GovernanceError as exc:
        _fail(exc)
        return
    typer.echo(
        f"ok: {charter.id} ({charter.title}) under {gm.ref}: {len(charter.people)} people, "
        f"budget {charter.baseline.budget} {charter.baseline.currency}, "
        f"{charter.baseline.start} to {charter.baseline.planned_end}"
    )


@model_app.command("show")
def show_model(path_or_name: PathOrName) -> None:
    """Phases, gates, approvers, escalation and tolerances as tables."""
    m = _load_model(path_or_name)
    # Piped output (a file, grep, a test) gets 80 columns from rich, which would cut approver
    # lists short with an ellipsis; print it wide, and fold rather than cut what still overflows.
    probe = Console()
    console = Console(width=max(probe.width, 120 if probe.is_terminal else 200))
    console.print(f"[bold]{m.ref}[/bold]  {m.title}  (sha256 {m.content_hash()[:12]})")
    roles = {r.id: r.title for r in m.roles}
    board = ", ".join(roles[r] for r in m.board.members)
    console.print(f"{m.board.name}: {board}; executive: {roles[m.board.executive]}")

    phases = Table(title="Phases and gates")
    for col in (
        "#",
        "phase",
        "gate",
        "approvers",
        "rule",
        "required",
        "SLA",
        "reminder",
        "escalates to",
        "on reject",
    ):
        phases.add_column(col, overflow="fold")
    for i, p in enumerate(m.phases, 1):
        gate = p.gate
        rule = gate.rule if isinstance(gate.rule, str) else f"at least {gate.rule.at_least}"
        title = p.title + (" (iterative)" if p.iterative else "")
        if p.starts_after:
            title += f" (after {g.format_duration(p.starts_after)})"
        phases.add_row(
            str(i),
            title,
            gate.title or p.gate_state,
            ", ".join(gate.approvers),
            rule,
            ", ".join(gate.required) or "-",
            g.format_duration(gate.sla),
            g.format_duration(gate.reminder) if gate.reminder else "-",
            gate.escalate_to,
            gate.on_reject,
        )
    console.print(phases)

    levels = Table(title="Escalation (lowest first)")
    for col in ("level", "decides", "SLA"):
        levels.add_column(col)
    for lvl in m.escalation:
        levels.add_row(lvl.title or lvl.id, roles[lvl.role], g.format_duration(lvl.sla))
    console.print(levels)

    tol = Table(title="Tolerances")
    tol.add_column("level")
    for aspect in g.ASPECTS:
        tol.add_column(aspect)
    for name in ("project", "stage", "work_package"):
        t = getattr(m.tolerances, name)
        if t is None:
            continue
        cells = []
        for aspect in g.ASPECTS:
            v = getattr(t, aspect)
            cells.append(
                "-" if v is None else g.format_duration(v) if aspect == "time" else f"{v:g}%"
            )
        tol.add_row(name, *cells)
    console.print(tol)
    minor = m.change_control.minor
    console.print(
        f"Change control: formal changes decided at level {m.change_control.authority}; "
        f"the manager decides alone up to {minor.max_cost:g}% cost and "
        f"{g.format_duration(minor.max_time)}, within a change budget of {minor.budget:g}%."
    )


@model_app.command("diagram")
def diagram(path_or_name: PathOrName) -> None:
    """The project lifecycle as a mermaid stateDiagram-v2."""
    typer.echo(Lifecycle(_load_model(path_or_name)).mermaid())


@model_app.command("schema")
def model_schema() -> None:
    """The JSON Schema of the governance-model format, for editors."""
    typer.echo(json.dumps(g.GovernanceModel.model_json_schema(), indent=2, ensure_ascii=False))


@charter_app.command("schema")
def charter_schema() -> None:
    """The JSON Schema of the project-charter format."""
    typer.echo(json.dumps(g.Charter.model_json_schema(), indent=2, ensure_ascii=False))
