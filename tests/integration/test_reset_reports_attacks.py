"""Hostile review (second round) of control: Temporal resets of a project that issued
highlight and exception reports, on the real dev server. A failing test here is a finding."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import ResetReapplyExcludeType
from temporalio.client import Client

import governance as g
from governance.audit import digest
from governance.messages import ProjectStatus, ReportProgressInput
from ledger import Ledger
from phasegate import control, service
from tests.integration.conftest import chain_of, settled
from tests.integration.test_reset import last_workflow_task, reset
from worker import build_worker

pytestmark = pytest.mark.devserver
NO_UPDATES = [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE]
TODAY = datetime.now(UTC).date()


@asynccontextmanager
async def started(
    client: Client, tmp_path: Path, charter: g.Charter, model: g.GovernanceModel
) -> AsyncIterator[tuple[str, Ledger]]:
    """The example project 80 of its 260 days in (BAC 800,000, 240 points), own worker and
    ledger."""
    baseline = charter.baseline.model_copy(
        update={"start": TODAY - timedelta(days=80), "planned_end": TODAY + timedelta(days=180)}
    )
    charter = charter.model_copy(update={"id": f"rr-{uuid.uuid4().hex[:6]}", "baseline": baseline})
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        ledger.migrate()
        tq = f"tq-{uuid.uuid4().hex}"
        async with build_worker(client, ledger, tq):
            await service.start_project(client, charter, model, task_queue=tq)
            await settled(client, charter.id)
            yield charter.id, ledger


async def progress(client: Client, pid: str, cost: float, earned: float) -> ProjectStatus:
    await control.report_progress(
        client,
        pid,
        ReportProgressInput(actor="david", as_of=TODAY, actual_cost=cost, earned_scope=earned),
    )
    return await settled(client, pid)


async def test_reset_before_the_reports_then_other_reports_under_the_same_numbers(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """Old run: an overrun (EAC +50 %) raises EX-1 with exception report #1 and a red
    highlight. Reset to before it; the reset run gets another overrun (other figures): the
    same numbers with other content. The ledger keeps both, the project goes on writing,
    audit verify passes, and the numbers' reports are the reset run's."""
    async with started(client, tmp_path, pf_charter, projektflodet) as (pid, ledger):
        point = await last_workflow_task(client, pid)
        old = await progress(client, pid, 300_000, 60)
        assert old.control is not None and old.control.exception is not None
        old_reports = {(r.kind, r.number): digest(r.content) for r in ledger.reports(pid)}
        assert ("exception", 1) in old_reports

        await reset(client, pid, point, NO_UPDATES)
        st = await settled(client, pid)
        assert st.control is not None and st.control.exception is None
        st = await progress(client, pid, 320_000, 60)
        assert st.ledger_error is None
        assert st.control is not None and st.control.exception is not None
        new_reports = ledger.reports(pid)
        report = ledger.verify(pid)
        latest_ex = ledger.report(pid, "exception")
        latest_hl = ledger.report(pid, "highlight")
        chain = chain_of(ledger, st)

    assert "history_reset" in [str(e.kind) for e in chain]
    both = [(r.kind, r.number) for r in new_reports]
    assert both.count(("exception", 1)) == 2, both
    assert report.ok, (report.broken, [p.line for p in report.report_problems])
    assert latest_ex is not None and digest(latest_ex.content) != old_reports[("exception", 1)]
    assert latest_hl is not None
    if ("highlight", latest_hl.number) in old_reports:
        assert digest(latest_hl.content) != old_reports[("highlight", latest_hl.number)]


async def test_reset_to_before_the_exception_withdraws_its_decide_task_and_its_report(
    client: Client, tmp_path: Path, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    """Reset to before the overrun that raised EX-1, then an on-plan report: the project has
    no exception. Nobody must still hold EX-1's decide task, and `phasegate report --kind
    exception` (Ledger.report(pid, "exception")) must not present the superseded EX-1
    report as the project's exception report; neither may the latest highlight be the
    superseded red one."""
    async with started(client, tmp_path, pf_charter, projektflodet) as (pid, ledger):
        point = await last_workflow_task(client, pid)
        old = await progress(client, pid, 300_000, 60)
        assert old.control is not None and old.control.exception is not None
        open_old = {t.key for t in ledger.tasks(project_id=pid, status="open")}
        assert open_old, "EX-1 has a decide task"

        await reset(client, pid, point, NO_UPDATES)
        await settled(client, pid)
        st = await progress(client, pid, 74 * 800_000 / 240, 74)  # on plan, on budget
        assert st.ledger_error is None
        assert st.control is not None and st.control.exception is None
        open_now = [t.key for t in ledger.tasks(project_id=pid, status="open")]
        exception = ledger.report(pid, "exception")
        highlight = ledger.report(pid, "highlight")
        verified = ledger.verify(pid)

    assert open_now == [], f"tasks of the superseded run still open: {open_now}"
    assert verified.ok, [p.line for p in verified.report_problems]
    assert exception is None, (
        f"the project (as reset) raised no exception, yet its exception report is "
        f"#{exception.number} of {exception.at:%H:%M:%S}, from the superseded run"
    )
    assert highlight is None or highlight.content.get("worst") != "red", (
        "the latest highlight report is the superseded red one"
    )
