"""A simulated agent on the desktop websocket: log in ready, take every offer.

Per offer: wait the scenario's answer delay, ``accept``, talk for a drawn handle
time, ``end``, wrap up for a drawn wrap-up time, ``complete``. When the
scenario gives no wrap-up draw, the queue's own wrap-up timer (``wrap_until``
on the ``wrap_up`` frame) ends it, compressed by ``--speed`` like everything
else; a wrap-up the server's timer would end first is left to the timer, so
the agent never races it. A customer may end first (a chat closed while
connected): the agent goes straight to wrap-up. A call is answered on the
agent's phone (`simulation.loadtest.phones`), which is what accepts the offer;
the desktop waits for the wrap-up the phone's hang-up brings and completes it.

An offer withdrawn before the agent accepted (the customer gave up, the offer
timed out) is an expected race and goes to the notes, not the errors; an agent
made not-ready by a timed-out offer (RONA) makes itself ready again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulation.distributions import Sampler
from simulation.loadtest.errors import ErrorLog, LoadTestError
from simulation.loadtest.ledger import Ledger
from simulation.loadtest.plan import LoadPlan
from simulation.loadtest.wire import Frame, Wire, WireClosed, first_of

if TYPE_CHECKING:
    from simulation.loadtest.phones import SimPhone

PATH = "/ws/v1/desktop"
MARGIN_S = 0.3  # complete only this long before the server's wrap-up timer would
SETTLE_S = 3.0  # how long a frame we expect may trail the reply that caused it
KeyOf = Callable[[Mapping[str, Any]], str | None]


@dataclass
class Handling:
    contact_id: str
    channel: str
    queue: str
    key: str | None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    completed: asyncio.Event = field(default_factory=asyncio.Event)
    withdrawn: asyncio.Event = field(default_factory=asyncio.Event)
    wrap_until: float | None = None  # the server's epoch seconds
    created_at: float | None = None  # the contact's creation (queue entry), server's epoch


class SimAgent:
    def __init__(
        self,
        agent_id: str,
        plan: LoadPlan,
        ledger: Ledger,
        errors: ErrorLog,
        keys: Mapping[str, KeyOf],
    ) -> None:
        self.id, self.plan, self.ledger, self.errors, self.keys = (
            agent_id,
            plan,
            ledger,
            errors,
            keys,
        )
        self.rng = plan.rng(f"agent:{agent_id}")
        self.answer_delay = plan.answer_delay(self.rng)
        self.wire: Wire | None = None
        self.contacts: dict[str, Handling] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.disposition = "resolved"
        self.clock_offset = 0.0  # server epoch - our epoch, from the last offer
        self._samplers: dict[tuple[str, str], Sampler | None] = {}
        self._timeouts = {q.name: q.offer_timeout_s for q in plan.scenario.config.queues}
        self.stopping = False
        self.phone: SimPhone | None = None  # voice: the phone answers, the desktop wraps up

    # ---------------------------------------------------------------- session

    async def start(self, ws_url: str, token: str) -> None:
        name = f"agent {self.id}"
        try:
            wire = await Wire.open(ws_url + PATH, name, self.errors)
        except (OSError, TimeoutError) as exc:
            raise LoadTestError(f"{name}: cannot open {ws_url}{PATH}: {exc}") from None
        welcome = await wire.first({"type": "hello", "token": token, "view": "agent"})
        if welcome.get("type") != "welcome":
            await wire.close()
            raise LoadTestError(f"{name}: hello refused: {welcome.get('message')}")
        self.wire = wire
        wire.run(self._on_frame, float(welcome.get("heartbeat_s") or 10))
        reply = await wire.call("login", ready=True)
        if reply.get("type") != "reply":
            raise LoadTestError(f"{name}: login refused: {reply.get('message')}")

    async def stop(self, grace_s: float) -> None:
        """Finish (up to ``grace_s``) what is in hand, log out, hang up."""
        self.stopping = True
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace_s)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.wire is None:
            return
        try:
            reply = await self.wire.call("logout")
            if reply.get("type") == "error":
                self.errors.note(f"logout_refused:{reply.get('code')}")
        except WireClosed:
            pass
        await self.wire.close()

    # ---------------------------------------------------------------- frames

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "offer":
            self._offered(frame)
        elif kind == "snapshot":
            self.disposition = (frame.get("dispositions") or [self.disposition])[0]
        else:
            handling = self.contacts.get(str(frame.get("contact_id")))
            if handling is not None:
                self._contact_frame(kind, frame, handling)

    def _contact_frame(self, kind: Any, frame: Frame, handling: Handling) -> None:
        if kind == "wrap_up":
            handling.wrap_until = float(frame["wrap_until"])
            handling.ended.set()
        elif kind == "contact_completed":
            if handling.key is not None:
                self.ledger.handled(handling.channel, handling.key, time.monotonic())
            handling.ended.set()
            handling.completed.set()
        elif kind == "offer_withdrawn":
            reason = frame.get("reason")
            self.errors.note(f"offer_withdrawn:{reason}")
            handling.withdrawn.set()
            if reason == "timeout" and not self.stopping:
                self._spawn(self._ready_again())

    def _offered(self, offer: Frame) -> None:
        now = time.monotonic()
        contact: Mapping[str, Any] = offer.get("contact") or {}
        channel = str(offer.get("channel"))
        key_of = self.keys.get(channel)
        key = key_of(contact) if key_of is not None else None
        if key is not None:
            self.ledger.offered(channel, key, now, self._server_wait(offer, contact))
        self.clock_offset = float(offer["deadline"]) - float(offer["expires_in"]) - time.time()
        cid = str(offer["contact_id"])
        handling = Handling(cid, channel, str(offer.get("queue")), key)
        created = contact.get("created_at")
        handling.created_at = None if created is None else float(created)
        self.contacts[cid] = handling
        self._spawn(self._handle(self.contacts[cid]))

    def _server_wait(self, offer: Frame, contact: Mapping[str, Any]) -> float | None:
        """How long the service held the contact before offering it, on the service's
        clock: the offer was made at ``deadline - offer_timeout_s`` (the queue's timeout
        as the scenario's config declares it)."""
        timeout = self._timeouts.get(str(offer.get("queue")))
        created = contact.get("created_at")
        if timeout is None or created is None:
            return None
        return max(0.0, float(offer["deadline"]) - timeout - float(created))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ---------------------------------------------------------------- work

    def draw(self, queue: str, what: str) -> float | None:
        key = (queue, what)
        if key not in self._samplers:
            self._samplers[key] = self.plan.sampler(queue, what, self.rng)
        sampler = self._samplers[key]
        return None if sampler is None else sampler()

    async def _command(self, kind: str, handling: Handling, settled: asyncio.Event) -> bool:
        """Send ``kind`` for the contact; an error is a race (not counted) when the
        frame that explains it (``settled``) arrives within `SETTLE_S`."""
        assert self.wire is not None
        reply = await self.wire.call(kind, contact_id=handling.contact_id, **self._extra(kind))
        if reply.get("type") == "reply":
            return True
        if await first_of(settled, timeout=SETTLE_S):
            self.errors.note(f"{kind}_race:{reply.get('code')}")
        else:
            self.errors.add(f"error:{reply.get('code')}", f"agent {self.id} {kind}: {reply}")
        return False

    def _extra(self, kind: str) -> dict[str, Any]:
        return {"disposition": self.disposition} if kind == "complete" else {}

    async def _handle(self, handling: Handling) -> None:
        try:
            await self._work(handling)
        except WireClosed:
            pass  # counted by the wire
        finally:
            self.contacts.pop(handling.contact_id, None)

    async def _work(self, handling: Handling) -> None:
        if handling.channel == "voice" and self.phone is not None:
            await self._work_by_phone(handling)
            return
        await asyncio.sleep(self.answer_delay())
        if not await self._command("accept", handling, handling.withdrawn):
            return
        talk = self.draw(handling.queue, "talk") or 0.0
        if not await first_of(handling.ended, timeout=talk):
            await self._command("end", handling, handling.ended)
        if not await first_of(handling.ended, timeout=SETTLE_S * 3):
            self.errors.add("no_wrap_up", f"agent {self.id}: {handling.contact_id}")
            return
        await self._wrap_up(handling)

    async def _work_by_phone(self, handling: Handling) -> None:
        """A call: the phone answers (that accepts the offer) and hangs up; the service
        then puts the desktop in wrap-up — or withdraws the offer (the caller gave up)."""
        await first_of(handling.ended, handling.withdrawn, timeout=None)
        if handling.ended.is_set():
            await self._wrap_up(handling)

    async def _wrap_up(self, handling: Handling) -> None:
        until = handling.wrap_until or 0.0
        remaining = max(0.0, until - (time.time() + self.clock_offset))
        wrap = self.draw(handling.queue, "wrap")
        if wrap is None:
            wrap = remaining / self.plan.speed
        if wrap < remaining - MARGIN_S and not await first_of(handling.completed, timeout=wrap):
            await self._command("complete", handling, handling.completed)
        if not await first_of(handling.completed, timeout=remaining + SETTLE_S * 3):
            self.errors.add("no_completion", f"agent {self.id}: {handling.contact_id}")

    async def _ready_again(self) -> None:
        """A timed-out offer (RONA) made us not-ready; a load-test agent goes ready again."""
        assert self.wire is not None
        await asyncio.sleep(0.05)
        try:
            reply = await self.wire.call("state", state="ready")
        except WireClosed:
            return
        if reply.get("type") == "error":
            self.errors.add(f"error:{reply.get('code')}", f"agent {self.id} ready: {reply}")
