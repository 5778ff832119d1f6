"""Pictures drawn on the server as inline SVG (no script, no library, nothing fetched): the
lifecycle of a governance model, a burn-up and an earned-value chart.

Every text is escaped; colours come from classes the stylesheet defines (the page's CSP allows
no inline styles), so a chart follows the page's contrast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from markupsafe import Markup

import governance as g
from governance.messages import ExecutionStatus
from states import lifecycle_transitions

__all__ = ["EvPoint", "burn_up", "earned_value", "lifecycle"]

_WIDTH = 640


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, label: str, description: str, body: list[str]) -> Markup:
    ident = "svg-" + "".join(c if c.isalnum() else "-" for c in label.lower())[:40]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{_t(label)}</title><desc id="{ident}-d">{_t(description)}</desc>'
        f'<defs><marker id="{ident}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrowhead"/></marker></defs>'
        + "".join(body).replace("url(#arrow)", f"url(#{ident}-arrow)")
        + "</svg>"
    )


def lifecycle(model: g.GovernanceModel, current: str | None) -> Markup:
    """The model's phases top to bottom, each with its gate (a diamond) and where approve,
    rework and reject lead (from the lifecycle's own transitions); ``current``, a lifecycle
    state, is highlighted."""
    edges = {
        (t["source"], t["trigger"]): t["dest"]
        for t in lifecycle_transitions(model)
        if isinstance(t["source"], str)
    }
    step, top, cx = 120, 20, 200
    height = top + step * len(model.phases) + 80
    body: list[str] = []
    for i, phase in enumerate(model.phases):
        y = top + i * step
        gate = phase.gate_state
        cls = " current" if current == phase.id else ""
        body.append(
            f'<rect x="{cx - 110}" y="{y}" width="220" height="36" rx="6" class="node{cls}"/>'
            f'<text x="{cx}" y="{y + 23}" class="label" text-anchor="middle">'
            f"{_t(phase.title or phase.id)}</text>"
        )
        gy = y + 70
        gcls = " current" if current == gate else ""
        body.append(
            f'<path d="M{cx},{gy - 16} L{cx + 16},{gy} L{cx},{gy + 16} L{cx - 16},{gy} z" '
            f'class="gate{gcls}"/>'
            f'<line x1="{cx}" y1="{y + 36}" x2="{cx}" y2="{gy - 17}" class="edge" '
            'marker-end="url(#arrow)"/>'
            f'<text x="{cx + 24}" y="{gy + 4}" class="small">'
            f"{_t(phase.gate.title or gate)}</text>"
        )
        nxt = edges.get((gate, "approve"))
        body.append(
            f'<line x1="{cx}" y1="{gy + 16}" x2="{cx}" y2="{gy + step - 70 - 1}" class="edge" '
            'marker-end="url(#arrow)"/>'
            f'<text x="{cx - 8}" y="{gy + 32}" class="small" text-anchor="end">approve</text>'
        )
        back = [t for t in ("rework", "reject") if edges.get((gate, t)) == phase.id]
        body.append(
            f'<path d="M{cx - 16},{gy} C{cx - 150},{gy} {cx - 150},{y + 18} {cx - 111},{y + 18}" '
            'class="edge back" marker-end="url(#arrow)"/>'
            f'<text x="{cx - 150}" y="{y + 52}" class="small">{_t(" / ".join(back))}</text>'
        )
        if edges.get((gate, "reject")) == "closed":
            body.append(
                f'<text x="{cx + 24}" y="{gy + 18}" class="small reject">reject: closes the '
                "project</text>"
            )
        if nxt == "closed":
            end = gy + step - 70
            body.append(
                f'<circle cx="{cx}" cy="{end + 12}" r="11" class="end"/>'
                f'<text x="{cx + 20}" y="{end + 16}" class="label">closed</text>'
            )
    body.append(
        f'<text x="10" y="{height - 24}" class="small">From any phase or gate: hold and resume, '
        "and cancel;</text>"
        f'<text x="10" y="{height - 8}" class="small">a forecast beyond a tolerance raises an '
        "exception.</text>"
    )
    phases = ", ".join(p.id for p in model.phases)
    return _svg(
        540,
        height,
        f"Lifecycle of {model.ref}",
        f"Phases in order, each ending at a gate: {phases}. Current state: {current or '-'}.",
        body,
    )


def _scale(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    """Factor and offset mapping [lo, hi] to [a, b]."""
    span = hi - lo or 1.0
    k = (b - a) / span
    return k, a - lo * k


def _polyline(points: Sequence[tuple[float, float]], cls: str, *, dots: bool = True) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    marks = (
        "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot {cls}"/>' for x, y in points)
        if dots
        else ""
    )
    return f'<polyline points="{coords}" class="series {cls}"/>{marks}'


def _frame(left: int, top: int, right: int, bottom: int, y_max: float, unit: str) -> list[str]:
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="axis"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = bottom - (bottom - top) * i / 4
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="small" text-anchor="end">'
            f"{_t(f'{value:,.0f}')}</text>"
        )
    body.append(f'<text x="{left}" y="{top - 8}" class="small">{_t(unit)}</text>')
    return body


def _legend(items: Sequence[tuple[str, str]], x: int, y: int) -> list[str]:
    out = []
    for i, (cls, text) in enumerate(items):
        lx = x + i * 150
        out.append(
            f'<line x1="{lx}" y1="{y}" x2="{lx + 24}" y2="{y}" class="series {cls}"/>'
            f'<text x="{lx + 30}" y="{y + 4}" class="small">{_t(text)}</text>'
        )
    return out


def burn_up(execution: ExecutionStatus) -> Markup | None:
    """Scope done against the scope to do, after each finished iteration; None before one."""
    history = execution.history
    if not history:
        return None
    unit = execution.burn_up.unit
    baseline = execution.burn_up.baseline
    done, total, scope, completed = [0.0], [baseline], baseline, 0.0
    for v in history:
        completed += v.completed_points if unit == "points" else v.completed_items
        scope += v.added_points if unit == "points" else v.added_items
        done.append(completed)
        total.append(scope)
    left, top, right, bottom = 60, 30, _WIDTH - 20, 250
    y_max = max(max(total), max(done), 1.0)
    ky, oy = _scale(0, y_max, bottom, top)
    kx, ox = _scale(0, len(history), left, right)
    body = _frame(left, top, right, bottom, y_max, unit)
    for i in range(len(history) + 1):
        body.append(
            f'<text x="{kx * i + ox:.1f}" y="{bottom + 16}" class="small" '
            f'text-anchor="middle">{i}</text>'
        )
    body.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 32}" class="small" '
        'text-anchor="middle">iterations finished</text>'
    )
    body.append(_polyline([(kx * i + ox, ky * v + oy) for i, v in enumerate(total)], "scope"))
    body.append(_polyline([(kx * i + ox, ky * v + oy) for i, v in enumerate(done)], "done"))
    body += _legend([("scope", "total scope"), ("done", "completed")], left, bottom + 52)
    return _svg(
        _WIDTH,
        bottom + 64,
        "Burn-up",
        f"{completed:g} of {scope:g} {unit} completed after {len(history)} iteration(s).",
        body,
    )


@dataclass(frozen=True)
class EvPoint:
    """One project-level progress report's figures."""

    as_of: date
    ev: float
    ac: float


def earned_value(baseline: g.Baseline, points: Sequence[EvPoint]) -> Markup | None:
    """Planned value (the baseline's curve), earned value and actual cost over time; None
    before the first progress report."""
    if not points:
        return None
    start = baseline.start
    end = max(baseline.planned_end, *(p.as_of for p in points))
    days = max((end - start).days, 1)
    samples = [start + timedelta(days=round(days * i / 40)) for i in range(41)]
    pv = [(d, g.planned_value(baseline, d)) for d in samples]
    y_max = max(float(baseline.budget), *(p.ac for p in points), *(p.ev for p in points), 1.0)
    left, top, right, bottom = 80, 30, _WIDTH - 20, 250
    ky, oy = _scale(0, y_max, bottom, top)
    kx, ox = _scale(0, days, left, right)

    def x(d: date) -> float:
        return kx * (d - start).days + ox

    body = _frame(left, top, right, bottom, y_max, baseline.currency)
    for d, anchor in (
        (start, "start"),
        (start + timedelta(days=days // 2), "middle"),
        (end, "end"),
    ):
        body.append(
            f'<text x="{x(d):.1f}" y="{bottom + 16}" class="small" text-anchor="{anchor}">'
            f"{d.isoformat()}</text>"
        )
    body.append(_polyline([(x(d), ky * v + oy) for d, v in pv], "pv", dots=False))
    body.append(_polyline([(x(p.as_of), ky * p.ev + oy) for p in points], "ev"))
    body.append(_polyline([(x(p.as_of), ky * p.ac + oy) for p in points], "ac"))
    body += _legend(
        [("pv", "planned value"), ("ev", "earned value"), ("ac", "actual cost")], left, bottom + 40
    )
    last = points[-1]
    return _svg(
        _WIDTH,
        bottom + 52,
        "Earned value",
        f"As of {last.as_of}: earned value {last.ev:,.0f}, actual cost {last.ac:,.0f}, "
        f"budget {float(baseline.budget):,.0f} {baseline.currency}.",
        body,
    )
