"""Fixtures: a migrated SQLite ledger, a real SMTP server and a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import Ledger
from tests.notify.receivers import Mail, Receiver, smtp_server, webhook_receiver


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as migrated:
        migrated.migrate()
        yield migrated


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Mail]]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r
