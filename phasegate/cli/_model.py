"""``phasegate model ...`` and ``phasegate charter ...``: governance models as data."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import Field, TypeAdapter, ValidationError

import governance as g
from phasegate import models
from phasegate.cli._common import (
    AsJson,
    DataDir,
    LedgerUrl,
    echo_json,
    fail,
    print_issues,
    settings,
)
from phasegate.cli._ledger import registry, shown_url, writing
from phasegate.cli._output import safe, say
from phasegate.errors import pydantic_message
from phasegate.models import Resolved

model_app = typer.Typer(
    help="Governance models: list, publish, validate, show, diagram, schema.",
    no_args_is_help=True,
)
charter_app = typer.Typer(help="Project charters: validate, schema.", no_args_is_help=True)

PathOrName = Annotated[
    str,
    typer.Argument(
        help="A model name (built-in or published: acme, acme@2.0) or a model YAML file."
    ),
]
Publisher = Annotated[
    str | None,
    typer.Option("--as", help="Who publishes (recorded).", show_default="your login name"),
]
_PUBLISHER: TypeAdapter[str] = TypeAdapter(Annotated[g.Line, Field(min_length=1, max_length=64)])


def _fail(exc: g.GovernanceError) -> NoReturn:
    raise print_issues(exc, err=False)  # the answer of `validate`: on stdout


def _find(path_or_name: str, data_dir: Path | None, ledger_url: str | None) -> Resolved:
    s = settings(data_dir=data_dir, ledger_url=ledger_url, local=True)
    with registry(s) as published:
        try:
            return models.find(path_or_name, published)
        except g.GovernanceError as exc:
            _fail(exc)


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
        f"ok: {m.ref} ({safe(m.title)}): {len(m.phases)} phases, {len(m.roles)} roles, "
        f"{len(m.escalation)} escalation levels, sha256 {m.content_hash()[:12]}"
    )


@model_app.command("list")
def list_models(
    as_json: AsJson = False, data_dir: DataDir = None, ledger_url: LedgerUrl = None
) -> None:
    """The built-in models and the models published in the ledger, with their hashes."""
    rows: list[dict[str, Any]] = [
        {"ref": m.ref, "source": "built-in", "sha256": m.content_hash(), "model": m}
        for m in g.builtin_models().values()
    ]
    with registry(settings(data_dir=data_dir, ledger_url=ledger_url, local=True)) as published:
        rows += [
            {
                "ref": p.ref,
                "source": "published",
                "sha256": p.sha256,
                "published_by": p.published_by,
                "published_at": p.published_at.isoformat(),
                "model": p.model,
            }
            for p in published.all()
        ]
    if as_json:
        echo_json(
            [
                {**{k: v for k, v in r.items() if k != "model"}, "title": r["model"].title}
                for r in rows
            ]
        )
        return
    for r in rows:
        m = r["model"]
        source = r["source"]
        if source == "published":
            source += f" by {safe(r['published_by'])} on {r['published_at'][:10]}"
        say(
            f"{m.ref}\t{source}\tsha256 {r['sha256'][:12]}\t{safe(m.title)}\t"
            + " -> ".join(p.id for p in m.phases)
        )


@model_app.command("publish")
def publish(
    path: Annotated[Path, typer.Argument(help="The model YAML file to publish.")],
    publisher: Publisher = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Publish a model in the ledger's registry, where `project start` finds it by the
    name@version a charter gives. A published name@version never changes; the built-in names
    are reserved. Publishing the same content again changes nothing."""
    from ledger import ModelRefused, check_publishable

    s = settings(data_dir=data_dir, ledger_url=ledger_url)
    try:
        who = _PUBLISHER.validate_python(publisher or getpass.getuser())
    except (ValidationError, OSError, KeyError) as exc:
        problem = (
            pydantic_message(exc.errors()[0]) if isinstance(exc, ValidationError) else "unknown"
        )
        raise fail(f"--as: {problem}: name who publishes with --as PERSON") from None
    try:
        model = g.load_model(path)
    except g.GovernanceError as exc:
        _fail(exc)
    try:
        check_publishable(model)
        with writing(s) as ledger:
            entry, new = ledger.publish_model(model, who)
    except ModelRefused as exc:
        raise fail(f"{safe(path)}: {exc}") from None
    when = entry.published_at.isoformat(timespec="seconds")
    if new:
        say(f"published {entry.ref} (sha256 {entry.sha256}) in the ledger at {shown_url(s)}")
    else:
        say(
            f"already published: {entry.ref} (sha256 {entry.sha256}), by "
            f"{safe(entry.published_by)} at {when}; nothing changed"
        )


@model_app.command("validate")
def validate_model(
    path_or_name: PathOrName, data_dir: DataDir = None, ledger_url: LedgerUrl = None
) -> None:
    """Exit 0 with a one-line summary when valid; exit 1 and one line per problem when not.

    A charter file is recognised and validated against the model it names.
    """
    if _looks_like_charter(path_or_name):
        validate_charter(Path(path_or_name), None, data_dir, ledger_url)
        return
    say(_summary(_find(path_or_name, data_dir, ledger_url).model))


@charter_app.command("validate")
def validate_charter(
    path: Annotated[Path, typer.Argument(help="A project charter YAML file.")],
    model: Annotated[
        str | None,
        typer.Option(help="A model name or file.", show_default="the model the charter names"),
    ] = None,
    data_dir: DataDir = None,
    ledger_url: LedgerUrl = None,
) -> None:
    """Validate a charter on its own and against its governance model (a built-in or a
    published one; a file only with --model)."""
    with registry(settings(data_dir=data_dir, ledger_url=ledger_url, local=True)) as published:
        try:
            charter, resolved = models.charter_and_model(path, model, published)
        except g.GovernanceError as exc:
            _fail(exc)
    b, m = charter.baseline, resolved.model
    say(
        f"ok: {charter.id} ({safe(charter.title)}) under {m.ref} "
        f"({safe(resolved.source.describe())}, sha256 {m.content_hash()[:12]}): "
        f"{len(charter.people)} people, budget {b.budget} {b.currency}, "
        f"{b.start} to {b.planned_end}"
    )


@model_app.command("show")
def show_model(
    path_or_name: PathOrName, data_dir: DataDir = None, ledger_url: LedgerUrl = None
) -> None:
    """Phases, gates, approvers, advisers, escalation and tolerances as tables."""
    from rich.table import Table
    from rich.text import Text

    from phasegate.cli._output import table_console

    m = _find(path_or_name, data_dir, ledger_url).model
    # Wide (see table_console), and fold rather than cut what still overflows; control
    # characters of the model's texts escaped.
    console = table_console()
    console.print(
        Text.assemble((m.ref, "bold"), f"  {safe(m.title)}  (sha256 {m.content_hash()[:12]})")
    )
    roles = {r.id: safe(r.title) for r in m.roles}
    board = ", ".join(roles[r] for r in m.board.members)
    console.print(f"{safe(m.board.name)}: {board}; executive: {roles[m.board.executive]}")

    phases = Table(title="Phases and gates")
    for col in (
        "#",
        "phase",
        "gate",
        "approvers",
        "consult",
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
        title = safe(p.title) + (" (iterative)" if p.iterative else "")
        if p.starts_after:
            title += f" (after {g.format_duration(p.starts_after)})"
        phases.add_row(
            str(i),
            title,
            safe(gate.title) or p.gate_state,
            ", ".join(gate.approvers),
            ", ".join(gate.consult) or "-",
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
        levels.add_row(safe(lvl.title) or lvl.id, roles[lvl.role], g.format_duration(lvl.sla))
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
def diagram(
    path_or_name: PathOrName, data_dir: DataDir = None, ledger_url: LedgerUrl = None
) -> None:
    """The project lifecycle as a mermaid stateDiagram-v2."""
    from states import Lifecycle

    say(Lifecycle(_find(path_or_name, data_dir, ledger_url).model).mermaid())


@model_app.command("schema")
def model_schema() -> None:
    """The JSON Schema of the governance-model format, for editors."""
    typer.echo(json.dumps(g.GovernanceModel.model_json_schema(), indent=2, ensure_ascii=False))


@charter_app.command("schema")
def charter_schema() -> None:
    """The JSON Schema of the project-charter format."""
    typer.echo(json.dumps(g.Charter.model_json_schema(), indent=2, ensure_ascii=False))
