"""``/api/projects/{id}/reports``: the highlight and exception reports a project issued
(`phasegate report`), read from the ledger's store."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from governance.audit import Report, ReportKind
from phasegate import reports
from phasegate.api._deps import LedgerDep, VisibleProject
from phasegate.api._errors import ApiError, ErrorResponse
from phasegate.api._models import Page, ReportSummary, ReportView

router = APIRouter(prefix="/api/projects", tags=["reports"], responses=ErrorResponse)

Kind = Annotated[ReportKind, Path(description="highlight or exception")]


@router.get("/{project_id}/reports", response_model=Page[ReportSummary])
async def list_reports(
    project_id: VisibleProject,
    ledger: LedgerDep,
    kind: Annotated[ReportKind | None, Query(description="Only this kind.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="How many at most.")] = 100,
    offset: Annotated[int, Query(ge=0, description="How many to skip.")] = 0,
) -> Page[ReportSummary]:
    """The reports the project issued, by kind, then number (`report --list`), in pages."""
    try:
        listed = await asyncio.to_thread(reports.listed, ledger, project_id)
    except reports.NoReport as exc:
        raise ApiError(404, "NoReport", str(exc)) from None
    rows = [r for r in listed if kind in (None, r.kind)]
    return Page(
        total=len(rows),
        limit=limit,
        offset=offset,
        items=[
            ReportSummary.model_validate(reports.summary(r)) for r in rows[offset : offset + limit]
        ],
    )


async def _one(ledger: LedgerDep, project_id: str, kind: ReportKind, number: int | None) -> Report:
    try:
        return await asyncio.to_thread(reports.find, ledger, project_id, kind, number)
    except reports.NoReport as exc:
        raise ApiError(404, "NoReport", str(exc)) from None


def _view(report: Report) -> ReportView:
    text, warning = reports.markdown(report)
    return ReportView(
        **reports.summary(report), content=report.content, markdown=text, warning=warning
    )


@router.get("/{project_id}/reports/{kind}", response_model=ReportView)
async def latest_report(project_id: VisibleProject, kind: Kind, ledger: LedgerDep) -> ReportView:
    """The project's latest report of a kind (`report --kind KIND`): its content, and its
    Markdown (always the rendering of the content; `warning` when the stored one differed)."""
    return _view(await _one(ledger, project_id, kind, None))


@router.get("/{project_id}/reports/{kind}/{number}", response_model=ReportView)
async def report(
    project_id: VisibleProject,
    kind: Kind,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    ledger: LedgerDep,
) -> ReportView:
    """One report of the project (`report --kind KIND --number N`)."""
    return _view(await _one(ledger, project_id, kind, number))
