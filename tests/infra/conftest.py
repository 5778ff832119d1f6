from __future__ import annotations

from collections.abc import Iterator

import pytest

from phasegate.devserver import DevServer


@pytest.fixture(scope="module")
def devserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One headless dev server per test module, on its own data dir and free ports."""
    with DevServer(tmp_path_factory.mktemp("devserver"), ui=False) as server:
        yield server
