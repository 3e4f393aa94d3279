"""A connected dialled call, until it ends: the agent legs, the hang-ups, transfers.

Split from `ringway.dialer_live.runner` (the pacing loop and the attempts);
the runner's `talk` and `_wire_phones` are these functions.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ringway.dialer_live.bridge import AgentPhones
from ringway.dialer_live.line import DialLine
from ringway.dialer_live.runner_parts import ContactWatch
from router.errors import RoutingError

if TYPE_CHECKING:
    from ringway.dialer_live.runner import CampaignRunner


def wire_phones(
    runner: CampaignRunner, contact_id: str, watch: ContactWatch, phones: AgentPhones
) -> None:
    parts, router = runner.parts, runner.parts.service.router

    def offered(agent_id: str) -> None:
        target = parts.phone_of(agent_id)
        if target is not None:
            phones.ring(agent_id, target)

    def answered(agent_id: str) -> bool:
        try:
            parts.service.execute("accept", lambda now: router.accept(agent_id, contact_id, now))
        except RoutingError:  # taken on the desktop already, or the offer is gone
            with contextlib.suppress(RoutingError):
                return router.contact(contact_id).agent_id == agent_id
            return False
        return True

    watch.on_offer, watch.on_withdrawn = offered, phones.drop
    phones.on_answer = answered
    phones.on_failure = lambda agent_id, status: parts.rona(agent_id, contact_id, status)


async def talk(
    runner: CampaignRunner, contact_id: str, line: DialLine, phones: AgentPhones
) -> None:
    """Until either side ends: the customer's or the agent phone's BYE ends the
    contact (wrap-up starts) and the other leg; the agent ending the contact on the
    desktop hangs both legs up. A blind transfer (REST or desktop, to a queue or an
    agent) BYEs the agent's phone and keeps the customer on: the router's next
    offer rings the new agent's phone, whose answer is the accept, as at first."""
    parts = runner.parts
    watch = parts.watches[contact_id]
    legs = [phones]
    moved = asyncio.Event()

    def transferred() -> None:
        legs[-1].close()  # BYE the transferring agent (counted when talk ends)
        new = runner.phones(line)
        wire_phones(runner, contact_id, watch, new)
        legs.append(new)
        moved.set()

    watch.on_transferred = transferred
    try:
        while True:
            waits = [line.ended, watch.finished, legs[-1].ended, moved]
            futures = {asyncio.ensure_future(w.wait()) for w in waits}
            try:
                await asyncio.wait(futures, return_when="FIRST_COMPLETED")
            finally:
                for future in futures:
                    future.cancel()
            if not moved.is_set() or any(w.is_set() for w in waits[:3]):
                break
            moved.clear()
    finally:
        watch.on_transferred = None
        parts.watches.pop(contact_id, None)
    _hang_up(runner, contact_id, line, legs[-1])
    for leg in legs[1:]:  # the first is the caller's to close
        runner.figures.relayed.update(leg.close())


def _hang_up(runner: CampaignRunner, contact_id: str, line: DialLine, phones: AgentPhones) -> None:
    parts = runner.parts
    if phones.connected is not None:  # also a phone answered after a desktop accept
        runner.figures.phone_connects += 1
    if phones.ended.is_set():
        line.hang_up()
    if line.ended.is_set():
        with contextlib.suppress(RoutingError):
            parts.service.execute("end", lambda now: parts.service.router.end(contact_id, now))
    else:
        line.hang_up()
