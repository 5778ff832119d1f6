"""The audit page: each visible project's hash chains verified, and the ledger's own export
(CSV or JSON lines) of one project, or of every project for the PMO."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from ledger import VerifyReport
from phasegate.api._deps import PERSON_ID, may_see
from phasegate.service import ProjectError
from phasegate.web._core import (
    SECURITY_HEADERS,
    Signed,
    WebError,
    project_error,
    render,
    services,
)
from phasegate.web._portfolio import visible_rows

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Verified:
    project_id: str
    title: str
    report: VerifyReport | None
    """None: the ledger holds no event of the project."""


@router.get("/audit")
async def audit(request: Request, viewer: Signed) -> Response:
    s = services(request)
    try:
        rows = await visible_rows(s.client, viewer.person)
    except ProjectError as exc:
        raise project_error(exc) from None

    def verify_all() -> list[Verified]:
        out = []
        for r in rows:
            held = s.ledger.last_seq(r.project_id) > 0
            report = s.ledger.verify(r.project_id, iterations=True) if held else None
            out.append(Verified(r.project_id, r.title, report))
        return out

    verified = await asyncio.to_thread(verify_all)
    return render(
        request,
        "audit.html",
        viewer=viewer,
        verified=verified,
        broken=sum(1 for v in verified if v.report is not None and not v.report.ok),
        title="Audit",
    )


@router.get("/audit/export")
async def export(
    request: Request,
    viewer: Signed,
    format: Literal["csv", "jsonl"] = "jsonl",
    project: Annotated[str | None, Query(pattern=PERSON_ID)] = None,
) -> Response:
    """The ledger's export as a download: one project (with its iterations) the viewer may
    see, or every project (the PMO only)."""
    s = services(request)
    if project is None and not viewer.person.pmo:
        raise WebError(403, "PMO only", "only the PMO exports every project: choose a project")
    if project is not None and not await may_see(s.client, viewer.person, project):
        raise WebError(404, "No such project", f"no project {project}")
    out = io.StringIO(newline="")
    await asyncio.to_thread(s.ledger.export, out, format, project, iterations=project is not None)
    name = f"audit-{project or 'all'}.{format}"
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return Response(
        out.getvalue().encode(),
        media_type=f"{media}; charset=utf-8",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
