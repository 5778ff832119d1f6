"""An iteration that ends outside governance (terminated in Temporal) does not wedge its
project. On the dev server: the time-skipping test server does not tell a parent that its
child was terminated."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import governance as g
from governance.audit import EventKind
from phasegate.devserver import dev_server_path
from phasegate.temporal import register_search_attributes
from tests.workflows.scenario import Scenario, items, open_iteration, to_execution

PLAN = items(("A1", "erik", 2), ("A2", "david", 1.5))


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=pydantic_data_converter,
    ) as environment:
        await register_search_attributes(environment.client)
        yield environment


async def test_an_iteration_terminated_in_temporal_is_recorded_lost_and_the_next_one_opens(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    await it.plan("david", PLAN)
    await it.handle.terminate("an operator's mistake")
    nxt = await open_iteration(p, 2)  # the project is not left waiting for it
    finished_events = p.of_kind(EventKind.iteration_finished)
    assert [(e.payload["number"], e.payload["outcome"]) for e in finished_events] == [(1, "lost")]
    assert finished_events[0].payload["reason"]
    ex = (await p.status()).execution
    assert ex is not None and [(v.number, v.outcome) for v in ex.history] == [(1, "abandoned")]
    assert (await nxt.status()).state == "planning"
    p.assert_sound_ledger()
