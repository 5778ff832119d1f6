"""What a hostile user tried on the loaders and the rules (issue 14): each crafted model or
charter ends in its one exact ``path: message`` issue, within a second, without a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.governance.gov_cases import CRAFTED, Broken, library_issues


@pytest.mark.parametrize("case", CRAFTED, ids=[c.id for c in CRAFTED])
def test_crafted_input_ends_in_its_exact_issue_within_a_second(
    case: Broken, tmp_path: Path
) -> None:
    started = time.perf_counter()
    issues = library_issues(case, tmp_path)
    elapsed = time.perf_counter() - started
    assert [str(i) for i in issues] == [f"{case.path}: {case.words[0]}"]
    assert elapsed < 1.0, f"{elapsed:.2f}s"
