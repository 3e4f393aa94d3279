"""`RouterCentre.end`, the router path's every hang-up, runs the router's ``end`` itself.

It takes the short way (no argument dict, no `LOCAL_COMMANDS` lambda) where this node
routes, and forwards as `_command` does where it does not: the same contact, events
and refusals either way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from test_contact_now import centre

from ivr.transport import run
from ringway.service import NewContact
from router.model import Channel, ContactStatus


def test_end_abandons_the_contact_publishes_its_events_and_logs_a_refusal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = centre(tmp_path)

    async def main() -> None:
        app = bundle.app
        async with app.router.lifespan_context(app):
            telephony = bundle.telephony
            assert telephony is not None
            service = bundle.service
            new = NewContact(channel=Channel.VOICE, queue="cps", origin="+447700900456")
            contact = await service.create_contact(new)
            seen: list[Any] = []
            feed = service.listen(seen.append)
            telephony.centre.end(contact.id)
            router = service.router
            ended = router.store.get_contact(contact.id)
            assert ended is not None and ended.status is ContactStatus.ABANDONED
            logged = [
                e for e in router.store.events.read(0, 1000) if e.kind != "agent_state_changed"
            ]
            assert [e.kind for e in logged] == ["contact_queued", "contact_abandoned"]
            telephony.centre.end(contact.id)  # reported twice: nothing more
            assert len(router.store.events.read(0, 1000)) == len(logged)
            with caplog.at_level(logging.INFO, logger="ringway.telephony"):
                telephony.centre.end("c-nobody")  # refused: logged, not raised
            assert "end refused" in caplog.text and "c-nobody" in caplog.text
            await _settle()
            feed.stop()
            service.unsubscribe(feed)
            assert [e.kind for e in seen] == ["contact_abandoned"]  # published to listeners

    run(main())


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_end_on_a_node_that_does_not_route_is_forwarded(tmp_path: Path) -> None:
    bundle = centre(tmp_path)
    telephony = bundle.telephony
    assert telephony is not None
    sent: list[tuple[str, dict[str, str]]] = []

    class Host:
        reads = object()  # a follower's replica, not a Router

    service = bundle.service  # not started: no router here
    service.host = Host()  # type: ignore[assignment]

    async def call(name: str, **args: str) -> None:  # the leader's side of the forward
        sent.append((name, args))

    # The forwarder is compiled (a native class: its methods cannot be replaced), so the
    # command is caught where it leaves the node: the service's `call`, a plain class's.
    service.call = call  # type: ignore[method-assign,assignment]
    forwarder = telephony.centre.forwarder

    async def main() -> None:
        telephony.centre.end("c-1")
        chained = forwarder._chains.get("c-1")
        assert chained is not None and chained.get_name() == "telephony-end"
        await chained

    asyncio.run(main())
    assert sent == [("end", {"contact_id": "c-1"})]
