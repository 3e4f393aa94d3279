"""Agents' phones shared across nodes: the node carrying a call rings the phone itself.

A phone registers with one node's SIP registrar (RFC 3261 §10), but the call it
must ring may have arrived at another node, whose B2BUA relays the call's media.
Each node publishes its live bindings to ``…:phone:<extension>`` (with a PX
expiry, so a dead node's entries lapse) and reads everyone's, every
`REFRESH_S`; `contact_for` answers from that copy without a round trip. The
phone then gets its INVITE straight from the node that carries the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ringway.cluster.keys import Keys

log = logging.getLogger(__name__)

REFRESH_S = 1.0
TTL_MS = 5_000  # a few refreshes: one slow round trip does not drop a phone


class SharedPhones:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        extensions: Sequence[str],
        local: Callable[[str], str | None],
    ) -> None:
        self.redis, self.keys = redis, keys
        self.extensions = list(extensions)
        self.local = local  # this node's registered contact for an extension
        self._known: dict[str, str] = {}

    def contact_for(self, extension: str) -> str | None:
        """Where the phone registered on any node last said it is."""
        return self._known.get(extension)

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except RedisError as exc:  # Redis away: keep the last copy, try again
                log.warning("shared phones: %s", exc)
            await asyncio.sleep(REFRESH_S)

    async def refresh(self) -> None:
        if not self.extensions:
            return
        keys = [self.keys.phone(e) for e in self.extensions]
        async with self.redis.pipeline(transaction=False) as pipe:
            for extension, key in zip(self.extensions, keys, strict=True):
                contact = self.local(extension)
                if contact is not None:
                    pipe.set(key, contact, px=TTL_MS)
            pipe.mget(keys)
            found = (await pipe.execute())[-1]
        self._known = {
            e: v.decode() for e, v in zip(self.extensions, found, strict=True) if v is not None
        }
