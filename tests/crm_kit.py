"""What the SQLite customer store's cache tests share: the demo store opened and seeded."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from crm.demo import seed
from crm.sqlite import SQLiteCustomerStore

T = TypeVar("T")
MARGARET = "+442079460958"  # demo customer cust-1001


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def opened(path: str) -> SQLiteCustomerStore:
    store = await SQLiteCustomerStore.open(path)
    await seed(store)
    return store
