"""Every CLI test gets its own data directory: no ledger of the developer's is read or made."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("PHASEGATE_DATA_DIR", str(folder))
    monkeypatch.delenv("PHASEGATE_LEDGER_URL", raising=False)
    return folder
