"""Chat customers over ``/ws/v1/chat``: start, wait, give up when patience runs out.

A customer opens the widget's socket and sends ``start`` (the first message as
``text``, the queue's entry point). Connected (``chat_status: connected``), they
wait for the agent to close the chat. Still waiting when their patience runs
out, they send ``end``: the router counts an abandon, and so does the ledger —
unless an agent's completion shows the chat was answered after all (the two
crossed on the wire). Ringway limits new chats per client address
(``desktop.chat.starts_per_minute``): a load test from one address needs it
raised on the target, or the refusals show as ``error:rate_limited``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ringway.config import RingwayConfig
from simulation.loadtest.drivers import Arrival, ChannelDriver
from simulation.loadtest.errors import LoadTestError
from simulation.loadtest.wire import Frame, Wire, WireClosed, first_of

PATH = "/ws/v1/chat"


class ChatDriver(ChannelDriver):
    channel = "chat"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stopping = asyncio.Event()

    @staticmethod
    def address_of(config: RingwayConfig, queue: str) -> str | None:
        default = config.desktop.chat.entry_point
        if config.queue_for("chat", default) == queue:
            return None
        for entry_point, target in config.routing.entry_points.items():
            if target == queue and config.queue_for("chat", entry_point) == queue:
                return entry_point
        raise LoadTestError(f"chat queue {queue}: no routing.entry_points entry leads to it")

    @staticmethod
    def key_of(contact: Mapping[str, Any]) -> str | None:
        chat = contact.get("chat") or {}
        chat_id = chat.get("chat_id")
        return str(chat_id) if chat_id else None

    async def stop(self) -> None:
        self.stopping.set()

    async def arrive(self, arrival: Arrival) -> None:
        name = f"chat customer {arrival.number}"
        try:
            wire = await Wire.open(self.target.ws_url + PATH, name, self.errors)
        except (OSError, TimeoutError) as exc:
            self.errors.add("connect", f"{name}: {exc}")
            return
        try:
            await self._converse(wire, arrival)
        except WireClosed:
            pass  # counted by the wire when unexpected
        finally:
            await wire.close()

    async def _converse(self, wire: Wire, arrival: Arrival) -> None:
        start: Frame = {"type": "start", "id": 1, "name": f"Load test {arrival.number}"}
        start["text"] = f"load test chat {arrival.number}"
        if arrival.queue.address is not None:
            start["entry_point"] = arrival.queue.address
        created = self.now()
        welcome = await wire.first(start)
        if welcome.get("type") != "welcome":
            self.errors.add(f"error:{welcome.get('code')}", f"chat start: {welcome}")
            return
        key = str(welcome["chat_id"])
        self.ledger.created(self.channel, key, arrival.queue.queue, created)
        connected, ended = asyncio.Event(), asyncio.Event()

        def on_frame(frame: Frame) -> None:
            if frame.get("type") in ("chat_status", "snapshot"):
                status = frame.get("status") or (frame.get("chat") or {}).get("status")
                if status == "connected":
                    connected.set()
                elif status == "ended":
                    ended.set()

        wire.run(on_frame, float(welcome.get("heartbeat_s") or 10))
        if not await first_of(connected, ended, self.stopping, timeout=arrival.patience_s):
            self.ledger.abandoned(self.channel, key, self.now())
            await self._end(wire)
        await first_of(ended, self.stopping, timeout=None)
        if not ended.is_set():  # the run is over: leave rather than linger
            await self._end(wire)

    async def _end(self, wire: Wire) -> None:
        reply = await wire.call("end")
        if reply.get("type") == "error" and reply.get("code") != "chat_ended":
            self.errors.add(f"error:{reply.get('code')}", f"{wire.name} end: {reply}")
