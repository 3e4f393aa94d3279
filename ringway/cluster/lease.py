"""The leader lease with its fencing token.

``acquire`` is ``SET lease <node> NX PX <lease_ms>`` plus ``INCR epoch`` in one
script: the epoch is the token every later write must present
(`ringway.cluster.scripts.FLUSH`), so a leader that was paused (GC, SIGSTOP, a
partition) and wakes up after another node took over has every write refused.
``renew`` is a compare-and-pexpire. Each script also returns Redis's clock, so
the node can tell when a forwarded command has outlived its time to live
without trusting its own clock against the sender's.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from ringway.cluster import scripts
from ringway.cluster.keys import Keys


class Lease:
    def __init__(self, redis: Redis, keys: Keys, node: str, lease_ms: int) -> None:
        self.node, self.lease_ms = node, lease_ms
        self._keys = [keys.lease, keys.epoch]
        self._acquire = redis.register_script(scripts.ACQUIRE)
        self._renew = redis.register_script(scripts.RENEW)
        self._release = redis.register_script(scripts.RELEASE)
        self.token = 0
        self.renewed_at = 0.0  # monotonic time a successful call was *sent*
        self._offset_ms = 0.0  # Redis clock minus ours

    @property
    def expires_at(self) -> float:
        """Monotonic time by which the lease has lapsed, whatever Redis says."""
        return self.renewed_at + self.lease_ms / 1000

    def redis_now_ms(self) -> float:
        return time.time() * 1000 + self._offset_ms

    async def acquire(self) -> bool:
        sent = time.monotonic()
        epoch, sec, usec = await self._acquire(keys=self._keys, args=[self.node, self.lease_ms])
        if not epoch:
            return False
        self.token, self.renewed_at = int(epoch), sent
        self._clock(sec, usec)
        return True

    async def renew(self) -> bool:
        """False: the lease is someone else's now (or the epoch moved): the term is over."""
        sent = time.monotonic()
        ok, sec, usec = await self._renew(
            keys=self._keys, args=[self.node, self.lease_ms, self.token]
        )
        if not ok:
            return False
        self.renewed_at = sent
        self._clock(sec, usec)
        return True

    async def release(self) -> None:
        await self._release(keys=self._keys, args=[self.node, self.token])

    def _clock(self, sec: int, usec: int) -> None:
        self._offset_ms = (int(sec) * 1000 + int(usec) / 1000) - time.time() * 1000
