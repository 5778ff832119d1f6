"""The floor for bench_gates.py: a workflow whose update runs one local activity, as a
phasegate vote does. In its own module so the workflow sandbox can import it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bare_record")
def bare_record(n: int) -> int:
    return n


@workflow.defn(sandboxed=True)
class BareWorkflow:
    """The floor: an update that runs one local activity, as a phasegate vote does."""

    def __init__(self) -> None:
        self.n = 0
        self.done = False

    @workflow.run
    async def run(self, updates: int) -> int:
        await workflow.execute_local_activity(
            bare_record, 0, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.wait_condition(lambda: self.n >= updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.n

    @workflow.update
    async def bump(self) -> int:
        self.n += 1
        await workflow.execute_local_activity(
            bare_record, self.n, start_to_close_timeout=timedelta(seconds=30)
        )
        return self.n


@workflow.defn(sandboxed=True)
class BareAwaitedWorkflow:
    """A design weighed for the ledger write: each update awaits a regular activity (its
    input fixed in history) before it returns."""

    def __init__(self) -> None:
        self.n = 0

    @workflow.run
    async def run(self, updates: int) -> int:
        await workflow.execute_activity(
            bare_record, 0, start_to_close_timeout=timedelta(seconds=30)
        )
        await workflow.wait_condition(lambda: self.n >= updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.n

    @workflow.update
    async def bump(self) -> int:
        self.n += 1
        await workflow.execute_activity(
            bare_record, self.n, start_to_close_timeout=timedelta(seconds=30)
        )
        return self.n


@workflow.defn(sandboxed=True)
class BareOutboxWorkflow:
    """The design phasegate uses: an update returns once accepted; a writer task sends what
    the updates queued to a regular activity, several at a time."""

    def __init__(self) -> None:
        self.n = 0
        self.queued: list[int] = [0]
        self.written = 0

    @workflow.run
    async def run(self, updates: int) -> int:
        while self.written < updates:
            await workflow.wait_condition(lambda: bool(self.queued))
            batch, self.queued = self.queued, []
            await workflow.execute_activity(
                bare_record, batch[-1], start_to_close_timeout=timedelta(seconds=30)
            )
            self.written = batch[-1]
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.n

    @workflow.update
    def bump(self) -> int:
        self.n += 1
        self.queued.append(self.n)
        return self.n
