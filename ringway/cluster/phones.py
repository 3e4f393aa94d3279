"""Agents' phones shared across nodes: the node carrying a call rings the phone itself.

A phone registers with one node's SIP registrar (RFC 3261 §10), but the call it
must ring may have arrived at another node, whose B2BUA relays the call's media.
Each node publishes its live bindings to ``…:phone:<extension>`` (with a PX
expiry, so a dead node's entries lapse) and reads everyone's, every
`REFRESH_S`; `contact_for` answers from that copy without a round trip. The
phone then gets its INVITE straight from the node that carries the call.

The same loop keeps ``…:sip-node:<node>`` alive. A call's media lives only on
the node that took it (contact attribute ``sip_node``); when that node dies,
its key lapses and the leader (if it runs a SIP edge too) ends those contacts
— abandoned if still waiting, wrap-up if connected — so no contact is offered
round the agents for a call nobody carries, and no agent stays connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ringway.cluster.keys import Keys
from ringway.service import RoutingService
from router.errors import RoutingError
from router.model import Channel

log = logging.getLogger(__name__)

REFRESH_S = 1.0
TTL_MS = 5_000  # a few refreshes: one slow round trip does not drop a phone


class SharedPhones:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        node: str,
        extensions: Sequence[str],
        local: Callable[[str], str | None],
    ) -> None:
        self.redis, self.keys, self.node = redis, keys, node
        self.extensions = list(extensions)
        self.local = local  # this node's registered contact for an extension
        self._known: dict[str, str] = {}

    def contact_for(self, extension: str) -> str | None:
        """Where the phone registered on any node last said it is."""
        return self._known.get(extension)

    async def run(self, service: RoutingService, is_leader: Callable[[], bool]) -> None:
        while True:
            try:
                await self.refresh()
                if is_leader():
                    await self.end_orphans(service)
            except RedisError as exc:  # Redis away: keep the last copy, try again
                log.warning("shared phones: %s", exc)
            await asyncio.sleep(REFRESH_S)

    async def refresh(self) -> None:
        keys = [self.keys.phone(e) for e in self.extensions]
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.sip_node(self.node), "1", px=TTL_MS)
            for extension, key in zip(self.extensions, keys, strict=True):
                contact = self.local(extension)
                if contact is not None:
                    pipe.set(key, contact, px=TTL_MS)
            if keys:
                pipe.mget(keys)
            answers = await pipe.execute()
        found = answers[-1] if keys else []
        self._known = {
            e: v.decode() for e, v in zip(self.extensions, found, strict=True) if v is not None
        }

    async def end_orphans(self, service: RoutingService) -> list[str]:
        """On the leader: end the voice contacts whose SIP node is gone; their ids."""
        carried: dict[str, list[str]] = {}
        for contact in service.router.live_contacts():
            node = contact.attributes.get("sip_node")
            if contact.channel is Channel.VOICE and node and node != self.node:
                carried.setdefault(node, []).append(contact.id)
        if not carried:
            return []
        ended: list[str] = []
        for node in sorted(carried):
            if await self.redis.exists(self.keys.sip_node(node)):
                continue
            for contact_id in carried[node]:
                try:
                    await service.call("end", contact_id=contact_id)
                except RoutingError as exc:  # ended meanwhile, or we lost the lead
                    log.info("orphan %s not ended: %s", contact_id, exc)
                    continue
                log.warning("contact %s ended: SIP node %s is gone", contact_id, node)
                ended.append(contact_id)
        return ended
