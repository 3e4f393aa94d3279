"""Both dialer store backends, for tests that must hold on each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.store import DialerStore, MemoryDialerStore
from dialer.store_sqlite import SQLiteDialerStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DialerStore]:
    backend: DialerStore
    if request.param == "memory":
        backend = MemoryDialerStore()
    else:
        backend = SQLiteDialerStore(tmp_path / "dialer.sqlite3")
    yield backend
    backend.close()
