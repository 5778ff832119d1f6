"""A worker killed with SIGKILL in the middle of an iteration, on the real dev server.

A projektflodet project reaches iteration 1 on a plain worker, which is killed while idle after
the plan and a first ``report_done``. Then ``fault_worker.py`` serves (the real worker, whose
``record`` activity kills its own process right after the ledger COMMIT of a given kind of
event: the ledger holds the step, Temporal does not know it is written); it dies twice, at the
write of the next ``report_done`` and at the write of the demo, before the delivery decision.
Each time a new worker takes over on the same ledger and task queue; the iteration must go on
from exactly the state it had accepted, finish, and leave both chains (the project's and
``<id>/it-1``) holding every accepted step exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from uuid import uuid4

import pytest
from temporalio.client import Client

import governance as g
from governance.audit import AuditEvent
from governance.messages import Feedback, IterationStatus, Obstacle, ProjectStatus, WorkItem
from ledger import Ledger
from phasegate import iterations, service
from phasegate.devserver import DevServer
from tests.integration.conftest import (
    WorkerProcess,
    answered,
    chain_of,
    decide_next_gate,
    eventually,
    fault_command,
    iteration_chains,
    iteration_kept,
    settled_on,
)

pytestmark = pytest.mark.devserver

PLAN = [
    WorkItem(id="A1", title="Importera kundregistret", owner="erik", estimate=2, points=5),
    WorkItem(id="A2", title="Säljtratt i vyn", owner="cecilia", estimate=1.5, points=3),
    WorkItem(id="A3", title="Inloggning med SSO", owner="david", estimate=1, points=2),
]
KILL_ON = ("items_done", "demo_recorded")
"""The fault worker dies once at the write of each, in this order."""
ITERATION_CHAIN = [
    "iteration_opened",
    "iteration_planned",
    "items_done",  # A3, before the idle kill
    "items_done",  # A1: its write killed
    "items_done",  # A2
    "execution_ended",
    "demo_recorded",  # its write killed
    "delivery_decided",
    "retro_recorded",
    "iteration_ended",
]


def comparable(st: IterationStatus) -> IterationStatus:
    """``st`` without what moves by itself: the days left, and how far the ledger has got."""
    return st.model_copy(update={"days_left": None, "recorded_seq": 0})


async def killed_at(
    client: Client,
    ledger: Ledger,
    worker: WorkerProcess,
    target: service.Target[IterationStatus],
    chain: str,
    kind: str,
    command: Awaitable[IterationStatus],
) -> list[AuditEvent]:
    """Send ``command``, whose write kills ``worker`` right after its COMMIT; the command
    gets no answer (accepted, its write cut off). Returns the chain's events of ``kind`` right
    after the kill, once the record activity was shown pending in Temporal."""
    assert await answered(command) is None, "answered although its worker was killed"
    assert await worker.exited(timeout=60) == -9
    desc = await client.get_workflow_handle(target.workflow_id).describe()
    pending = desc.raw_description.pending_activities
    assert any(a.activity_type.name == "record" for a in pending), (
        f"{kind}: the record activity had completed before the kill"
    )
    return [e for e in ledger.events(chain) if e.kind == kind]


async def test_worker_killed_mid_iteration_loses_nothing_and_the_iteration_finishes(
    client: Client, dev_server: DevServer, tmp_path: Path, pf_charter: g.Charter
) -> None:
    model = g.builtin_models()["projektflodet"]
    charter = pf_charter.model_copy(update={"id": f"itkill-{uuid4().hex[:8]}"})
    pid = charter.id
    ledger_url, tq = f"sqlite:///{tmp_path / 'ledger.db'}", f"tq-itkill-{uuid4().hex[:6]}"
    fault = fault_command(KILL_ON, tmp_path / "marks")
    faulty = WorkerProcess(dev_server.address, ledger_url, tq, tmp_path / "fault.log", fault)
    healthy = WorkerProcess(dev_server.address, ledger_url, tq, tmp_path / "worker.log")
    target = iterations.iteration(pid, 1)
    chain = f"{pid}/it-1"
    answers: list[IterationStatus] = []
    try:
        with Ledger(ledger_url) as ledger:
            await healthy.start_async()
            await service.start_project(client, charter, model, task_queue=tq)
            for _ in ("idea", "pre_study", "planning"):
                st = await decide_next_gate(client, pid)
            assert st.state == "execution"

            def opened(s: ProjectStatus) -> bool:
                return s.execution is not None and s.execution.open_iteration == 1

            assert opened(await eventually(lambda: service.status(client, pid), opened))
            answers.append(await iterations.plan_iteration(client, pid, "david", PLAN))
            answers.append(await iterations.report_done(client, pid, "david", ["A3"]))
            before = await settled_on(client, target)
            assert before.state == "executing" and before.completed_items == 1

            # 1. Killed while idle, executing; a new worker answers from the same state.
            healthy.kill9()
            await faulty.start_async()
            assert comparable(await settled_on(client, target)) == comparable(before)

            # 2. Killed at the write of erik's report of A1: committed, not known written.
            done = await killed_at(
                client,
                ledger,
                faulty,
                target,
                chain,
                "items_done",
                iterations.report_done(client, pid, "erik", ["A1"]),
            )
            assert [e.payload["items"] for e in done] == [["A3"], ["A1"]]
            await faulty.start_async()  # the same command: it dies at the demo now
            after = await settled_on(client, target)
            assert after.ledger_error is None
            # The iteration goes on where it was, with A1 done at the time its event says.
            a1 = next(i for i in after.items if i.id == "A1")
            assert (a1.done_by, a1.done_at) == ("erik", done[-1].at)
            items = [a1 if i.id == "A1" else i for i in before.items]
            assert comparable(after) == comparable(before).model_copy(
                update={
                    "items": items,
                    "completed_items": 2,
                    "completed_effort": 3.0,
                    "completed_points": 7.0,
                    "last_seq": before.last_seq + 1,
                }
            )
            assert [e.seq for e in ledger.events(chain)] == list(range(1, after.last_seq + 1))

            answers.append(await iterations.report_done(client, pid, "cecilia", ["A2"]))
            answers.append(await iterations.close_execution(client, pid, "david"))
            before = await settled_on(client, target)
            assert before.state == "demo"

            # 3. Killed at the write of the demo, before the delivery decision.
            demos = await killed_at(
                client,
                ledger,
                faulty,
                target,
                chain,
                "demo_recorded",
                iterations.record_demo(
                    client,
                    pid,
                    "david",
                    attendees=["anna", "bo"],
                    feedback=[Feedback(person="bo", text="Sök även gamla kunder")],
                ),
            )
            assert len(demos) == 1
            await healthy.start_async()
            after = await settled_on(client, target)
            assert after.state == "delivery" and after.ledger_error is None
            assert after.demo is not None and after.demo.at == demos[0].at
            assert [(f.person, f.text) for f in after.demo.feedback] == [
                ("bo", "Sök även gamla kunder")
            ]
            assert comparable(after) == comparable(before).model_copy(
                update={
                    "state": "delivery",
                    "demo": after.demo,
                    "demo_deadline": None,
                    "last_seq": before.last_seq + 1,
                }
            )
            open_now = {t.key for t in ledger.tasks(project_id=pid, status="open")}
            assert open_now == {"it-1/delivery/bo"}, open_now

            # The iteration finishes on the healthy worker; the project keeps its result.
            answers.append(await iterations.decide_delivery(client, pid, "bo", "deliver"))
            answers.append(
                await iterations.record_retro(
                    client,
                    pid,
                    "erik",
                    keep=["parprogrammering"],
                    obstacles=[Obstacle(text="Ingen testmiljö", role="leverantor")],
                )
            )
            assert answers[-1].state == "done"
            st = await iteration_kept(client, pid, 1)
            project_chain = chain_of(ledger, st)
            its = iteration_chains(ledger, project_chain)
            final = await settled_on(client, target)
            open_tasks = {t.key for t in ledger.tasks(project_id=pid, status="open")}
    finally:
        faulty.stop()
        healthy.stop()

    # Every accepted step exactly once in the iteration's chain (1..n, verified, n = what the
    # workflow accepted); each answer a step further than the one before.
    it1 = its[1]
    standups = [e for e in it1 if e.kind == "standup"]
    assert [str(e.kind) for e in it1 if e.kind != "standup"] == ITERATION_CHAIN
    assert len(standups) == final.standups_sent
    assert final.last_seq == final.recorded_seq == len(it1)
    assert [e.payload["items"] for e in it1 if e.kind == "items_done"] == [["A3"], ["A1"], ["A2"]]
    seqs = [a.last_seq for a in answers]
    assert seqs == sorted(set(seqs)) and seqs[-1] <= final.last_seq, seqs
    assert not [e for e in [*project_chain, *it1] if e.kind == "history_reset"]
    # The project recorded the iteration's result once (at the head of its chain) and opened
    # the next one.
    execution = project_chain[
        max(i for i, e in enumerate(project_chain) if e.kind == "phase_started") :
    ]
    assert [str(e.kind) for e in execution] == [
        "phase_started",
        "iteration_started",
        "iteration_finished",
        "iteration_started",
    ]
    finished = execution[2].payload
    assert (finished["number"], finished["outcome"], finished["delivered"]) == (1, "done", True)
    assert (finished["committed_items"], finished["completed_items"]) == (3, 3)
    assert finished["completed_points"] == 10
    ex = st.execution
    assert ex is not None and [v.number for v in ex.history] == [1]
    assert ex.burn_up.completed == 10  # every point once: no item counted twice
    assert open_tasks == {"it-1/obstacle1/cecilia"}, open_tasks
