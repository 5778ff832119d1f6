"""Hostile review of issue #12: `Ledger.task` (what `tasks complete ID` looks up) given ids
outside the column's range answers "no such task", on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from ledger import Ledger


@pytest.mark.parametrize("task_id", [0, -1, 2**31, 2**63, 10**30])
def test_an_id_out_of_range_is_no_task(ledger: Ledger, task_id: int) -> None:
    """SQLite: OverflowError from 2**63; PostgreSQL: DataError (integer out of range) from
    2**31, which the CLI shows as a ledger failure rather than "no task N"."""
    assert ledger.task(task_id) is None
