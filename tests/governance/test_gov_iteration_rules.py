"""Rules the execution phase added to charters, plans and the files they come from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import governance as g
from governance.messages import MAX_ITEMS, WorkItem


def test_a_project_id_that_ends_like_an_iteration_is_refused(pf_charter: g.Charter) -> None:
    data = pf_charter.model_dump(mode="json") | {"id": "crm-it-3"}
    with pytest.raises(g.GovernanceError) as info:
        g.Charter.model_validate(data)
    assert "id" in str(info.value) and "-it-<n>" in str(info.value)
    g.Charter.model_validate(data | {"id": "crm-it-three"})  # only a number is reserved


def test_an_iteration_holds_at_most_max_items(
    projektflodet: g.GovernanceModel, pf_charter: g.Charter
) -> None:
    policy = projektflodet.phase("execution").iteration
    assert policy is not None

    def item(n: int) -> WorkItem:
        return WorkItem(id=f"I{n}", title="t", owner="erik", estimate=1, points=1)

    planned = [item(n) for n in range(MAX_ITEMS)]
    problem = g.plan_problem(
        [item(MAX_ITEMS)], policy=policy, charter=pf_charter, planned=planned, adding=True
    )
    assert problem is not None and f"at most {MAX_ITEMS} items" in problem
    assert g.plan_problem(planned[:1], policy=policy, charter=pf_charter) is None


def test_an_items_file_that_is_not_a_regular_file_is_refused_without_reading(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "items.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(g.GovernanceError) as info:
        g.load_work_items(fifo)
    assert "is not a regular file" in str(info.value)
