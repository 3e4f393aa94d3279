"""Connecting to Redis: the client every node uses, and the start-up probe."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ringway.cluster.errors import RedisUnreachable


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def probe_redis(url: str, timeout_s: float = 2.0) -> None:
    """Fail fast, in one line, when Redis is not there (``ringway serve`` exits 2)."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
    except ValueError as exc:
        raise RedisUnreachable(f"service.redis_url {redact(url)!r}: {exc}") from None
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        raise RedisUnreachable(
            f"cannot reach Redis at {redact(url)} (service.redis_url): {exc}"
        ) from None
    finally:
        client.close()


async def connect(url: str) -> Redis:
    """A client with no silent retries, checked with a PING.

    redis-py would otherwise retry a failed command by itself, and a retried XADD
    can queue a forwarded command twice. Every loop in this package retries on
    its own terms instead, and a batch write is idempotent (see scripts.FLUSH).
    """
    client = Redis.from_url(
        url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1.0, socket_timeout=5.0
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise RedisUnreachable(f"cannot reach Redis at {redact(url)}: {exc}") from None
    return client
