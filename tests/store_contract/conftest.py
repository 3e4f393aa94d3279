"""One routing-store contract, two backends (`store_backends`): every contract test runs
against the in-memory store and the Redis store (STYLE.md habit 10), the Redis one on
its own redis-server process and tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from store_backends import (
    KEEP_FINISHED,
    Backend,
    MemoryBackend,
    RedisBackend,
    RedisServer,
    redis_server,
)

Scenario = Callable[[Backend], Awaitable[None]]


@pytest.fixture(scope="session")
def redis_for_contract(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(Path(tmp_path_factory.mktemp("contract-redis"))) as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def run_contract(
    request: pytest.FixtureRequest,
) -> Callable[..., None]:
    """``run_contract(scenario, keep_finished=…)``: the scenario on this backend."""

    def run(scenario: Scenario, keep_finished: int = KEEP_FINISHED) -> None:
        server: RedisServer | None = None
        if request.param == "redis":
            server = request.getfixturevalue("redis_for_contract")

        async def main() -> None:
            if server is None:
                await scenario(MemoryBackend(keep_finished))
                return
            client = Redis.from_url(server.url)
            try:
                await scenario(RedisBackend(client, keep_finished))
            finally:
                await client.aclose()

        asyncio.run(main())

    return run
