"""The SIP edge's routing commands on a cluster follower: forwarded to the leader.

A call's B2BUA runs on the node that took the call, wherever the router runs.
There the commands (accept, reject, end, transfer, …) go through
`RoutingService.call`, which forwards them to the leader and answers once they
are committed, or raises a 503 that says they were not applied. The B2BUA
cannot wait for that round trip, so they run in the background, one after the
other per contact (an ``end`` must not overtake its ``accept``).

What a refusal does, so that nothing is half-applied:

* ``end`` / ``reject`` / ``agent_disconnected`` not applied (503: Redis or the
  leader unavailable) are retried for up to `RETRY_FOR_S`: the caller already
  hung up, and the contact must not stay connected on the leader.
* ``accept`` refused or not applied: the agent's phone is bridged but the
  router does not know it, so the call is released cleanly (both legs hung up)
  and the contact is ended — the caller is not left talking to an agent the
  router would offer another contact to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ivr.calls import events as ce
from ivr.calls.driver import CallDriver
from ringway.service import RoutingService
from router import events as ev
from router.engine import Router
from router.errors import RoutingError

log = logging.getLogger(__name__)

RETRY_FOR_S = 30.0  # longer than a leader failover (one lease) plus a command ttl
RETRY_EVERY_S = 0.5
_RETRIED = frozenset({"end", "reject", "agent_disconnected"})
UNAVAILABLE = 503

Run = Callable[[Router, dict[str, str], float], list[ev.Event]]

# The same commands as `ringway.cluster.rpc.CALLS`, run on this node's own router.
LOCAL_COMMANDS: dict[str, Run] = {
    "accept": lambda r, a, now: r.accept(a["agent_id"], a["contact_id"], now),
    "reject": lambda r, a, now: r.reject(a["agent_id"], a["contact_id"], now),
    "agent_disconnected": lambda r, a, now: r.agent_disconnected(a["agent_id"], now),
    "end": lambda r, a, now: r.end(a["contact_id"], now),
    "transfer": lambda r, a, now: r.transfer(a["agent_id"], a["contact_id"], a["queue"], now),
    "transfer_to_agent": lambda r, a, now: r.transfer_to_agent(
        a["agent_id"], a["contact_id"], a["target"], now
    ),
}


class CommandForwarder:
    """Background, per-contact ordered `RoutingService.call`s for one node's calls."""

    def __init__(
        self, service: RoutingService, driver_for: Callable[[str], CallDriver | None]
    ) -> None:
        self.service = service
        self.driver_for = driver_for  # the call carrying a contact, if still up
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, name: str, contact_id: str, args: dict[str, str]) -> None:
        previous = self._chains.get(contact_id)
        task = asyncio.get_running_loop().create_task(
            self._run(previous, name, contact_id, args), name=f"telephony-{name}"
        )
        self._chains[contact_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._done(contact_id, done))

    def _done(self, contact_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._chains.get(contact_id) is task:
            del self._chains[contact_id]

    async def _run(
        self,
        previous: asyncio.Task[None] | None,
        name: str,
        contact_id: str,
        args: dict[str, str],
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + RETRY_FOR_S
        while True:
            try:
                await self.service.call(name, **args)
                return
            except RoutingError as exc:
                if exc.status == UNAVAILABLE and name in _RETRIED and loop.time() < give_up:
                    await asyncio.sleep(RETRY_EVERY_S)
                    continue
                self._refused(name, contact_id, exc)
                return

    def _refused(self, name: str, contact_id: str, exc: RoutingError) -> None:
        log.warning("telephony: %s of %s refused by the cluster: %s", name, contact_id, exc)
        if name != "accept":
            return
        driver = self.driver_for(contact_id)
        if driver is not None:  # hang both legs up ("router": the session sends no end) …
            driver.handle(ce.CallEnded(side="router", reason=f"accept not applied: {exc.message}"))
        self.send("end", contact_id, {"contact_id": contact_id})  # … and end it, retried

    async def close(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
