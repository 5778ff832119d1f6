"""Hostile review (second round): reports under one number after several Temporal resets.
A failing test here is a finding."""

from __future__ import annotations

from ledger_support import EventFactory
from test_ledger_verify_reports import PROJECT, _issue, report

from governance.audit import digest
from ledger import Ledger


def test_after_a_second_reset_back_to_the_first_content_that_content_is_the_numbers_report(
    ledger: Ledger, make_event: EventFactory
) -> None:
    """Run 1 issues exception #1 (A); a reset run issues #1 as B; a second reset run issues
    #1 as A again (same figures). Its store is a no-op (same number and sha256), so
    ``report(kind, 1)`` (the newest row) answers B, which the project's current run
    superseded, though its last report_issued event vouches for A."""
    a, b = report("exception", 1), report("exception", 1, "re-planned")
    _issue(ledger, make_event, a, b, a)
    assert ledger.verify(PROJECT).ok
    current = ledger.report(PROJECT, "exception", 1)
    assert current is not None
    assert digest(current.content) == digest(a.content), (
        "report #1 shown is the content of the superseded middle run"
    )
