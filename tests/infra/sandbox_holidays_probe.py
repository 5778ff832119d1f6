"""Runs the ``holidays`` library, and a charter's checks (pycountry's currencies, the e-mail
checker), inside the workflow sandbox as worker.py configures it, in a process of its own so
that nothing was loaded or cached by the host first but what ``sandbox_runner`` loads (as in a
real worker, which never validates a model outside a workflow); run as a subprocess by
test_sandbox_holidays.py.

usage: python sandbox_holidays_probe.py TEST_SERVER_PATH

Prints one JSON line: what the probe workflow saw.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sandbox_probe import probe_main, run_in_sandbox

    import governance as g


@workflow.defn(sandboxed=True)
class CalendarProbe:
    @workflow.run
    async def run(self, texts: dict[str, str]) -> dict[str, object]:
        # The model's validator checks calendar.country in the sandbox, and the charter's its
        # currency (pycountry's table) and e-mail addresses, as when a workflow's input
        # holding them is decoded.
        model = g.parse_model(texts["model"], "model.yaml")
        charter = g.parse_charter(texts["charter"], "charter.yaml")
        country = model.calendar.country
        start = datetime(2027, 4, 26, 7, 15, tzinfo=UTC)  # a Monday; Ascension Day 6 May
        # Building a holiday table calls locale (through gettext), which the sandbox refuses:
        # the workflow counts working days with the sandbox lifted (the answer comes from the
        # installed library's tables only, the same on every replay).
        with workflow.unsafe.sandbox_unrestricted():
            times = g.cadence_times(start, start + timedelta(weeks=3), timedelta(days=1), country)
        return {
            "country": country,
            "standups": len(times),
            "zz": g.known_country("ZZ"),
            "currency": charter.baseline.currency,
            "emails": sum(p.email is not None for p in charter.people),
        }


async def main(test_server: str) -> dict[str, object]:
    for name in ("holidays", "pycountry", "email_validator"):
        assert name not in sys.modules, f"the host loaded {name} before the worker did"
    # The texts only: validating them here would load the libraries on the host first.
    text = (Path(g.__file__).parent / "builtin" / "projektflodet.yaml").read_text("utf-8")
    charter = (Path(__file__).parents[2] / "examples" / "projektflodet-charter.yaml").read_text()
    texts = {"model": text, "charter": charter}
    return await run_in_sandbox(test_server, CalendarProbe, CalendarProbe.run, texts, timeout=20)


if __name__ == "__main__":
    probe_main(main)
