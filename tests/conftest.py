"""Shared fixtures: the built-in models and example charters."""

from __future__ import annotations

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
