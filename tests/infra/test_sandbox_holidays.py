"""The holidays library, pycountry and the e-mail checker work where workflows need them: inside
the sandbox worker.py sets up."""

from __future__ import annotations

from pathlib import Path

from tests.infra.sandbox_probe import run_probe

PROBE = Path(__file__).with_name("sandbox_holidays_probe.py")


def test_a_model_with_a_country_validates_and_working_days_count_in_the_sandbox() -> None:
    result, stderr = run_probe(PROBE)
    assert result == {
        "country": "SE", "standups": 14, "zz": False, "currency": "SEK", "emails": 2
    }, stderr  # fmt: skip
