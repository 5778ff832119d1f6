"""Shared fixtures: the built-in models and example charters."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import governance as g

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def projektflodet() -> g.GovernanceModel:
    return g.builtin_models()["projektflodet"]


@pytest.fixture(scope="session")
def prince2() -> g.GovernanceModel:
    return g.builtin_models()["prince2"]


@pytest.fixture(scope="session")
def pf_charter() -> g.Charter:
    return g.load_charter(EXAMPLES / "projektflodet-charter.yaml")


@pytest.fixture(scope="session")
def p2_charter() -> g.Charter:
    return g.load_charter(EXAMPLES / "prince2-charter.yaml")


# -- leaving the test process -----------------------------------------------------------------
# A process that used the Temporal client can crash at interpreter exit (SDK issue #300:
# "Fatal Python error: PyGILState_Release", exit 134), and the SDK's Rust threads may still
# panic on a local-activity timer of a worker already shut down. Either would turn a green
# run red after the summary is printed. Like the CLI (phasegate/_exit.py), the test process
# leaves through os._exit with pytest's own exit status once everything is reported.


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None or os.environ.get("PHASEGATE_PYTEST_PLAIN_EXIT") == "1":
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)


_EXIT_STATUS = pytest.StashKey[int]()
