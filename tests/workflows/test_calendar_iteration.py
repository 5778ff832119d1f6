"""The open iteration's ceremonies in the feeds: stand-ups ahead, the demo when execution
ends, the retro after it; for its team only in a person's feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

import governance as g
from tests.workflows.scenario import Scenario, items, to_execution
from tests.workflows.test_calendar_feed import person_feed, project_feed, start


@pytest_asyncio.fixture
async def env(own_env: WorkflowEnvironment) -> AsyncIterator[WorkflowEnvironment]:
    """A server of the test's own: the project runs an iteration (see ``own_env``)."""
    yield own_env


async def test_the_running_iterations_ceremonies_are_in_the_feeds(
    scenario: Scenario, projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    p = await scenario.start(pf_charter, projektflodet)
    it = await to_execution(p)
    feed = await project_feed(p)
    assert f"{p.pid}-it1-plan@phasegate" in feed

    st = await it.plan("erik", items(("A1", "erik", 2), ("A2", "cecilia", 1)), weeks=2)
    assert st.execute_ends_at is not None
    feed = await project_feed(p)
    assert f"{p.pid}-it1-plan@phasegate" not in feed
    standups = sorted(
        (e for uid, e in feed.items() if "-it1-standup-" in uid), key=lambda e: start(e)
    )
    assert len(standups) >= 8  # two weeks of working days, less holidays, less any sent
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(minutes=15) for e in standups)
    demo = feed[f"{p.pid}-it1-demo@phasegate"]
    assert start(demo) == st.execute_ends_at.astimezone(UTC).replace(microsecond=0)
    assert demo.decoded("dtend") - demo.decoded("dtstart") == timedelta(hours=1)
    retro = feed[f"{p.pid}-it1-retro@phasegate"]
    assert str(retro["status"]) == "TENTATIVE"
    assert start(retro) == st.execute_ends_at.astimezone(UTC).replace(microsecond=0) + timedelta(
        hours=1
    )

    # The team (planners and item owners) has the ceremonies; an approver outside it has not.
    cecilia = await person_feed(p, "cecilia")
    assert f"{p.pid}-it1-demo@phasegate" in cecilia
    assert {u for u in cecilia if "-it1-standup-" in u} == {u for u in feed if "-it1-standup-" in u}
    assert not any("-it1-" in u for u in await person_feed(p, "gustav"))

    # A stand-up held leaves the feed; the ones ahead keep their UIDs.
    ahead = {u for u in feed if "-it1-standup-" in u}
    await p.sleep(days=3)
    later = {u for u in await project_feed(p) if "-it1-standup-" in u}
    assert later < ahead
