"""The agent leg's RTP port is opened when an agent's phone is rung, not at INVITE:
a caller waiting in queue holds one port (one file descriptor), not two.

Real peers: sipp as the caller and as bob's phone, the real service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from peer_kit import free_port, needs_sipp, wait_for
from telephony_kit import (
    ANSWERING_PHONE_XML,
    Centre,
    answering_phone,
    caller,
    caller_xml,
    register_phone,
    running_centre,
)

from ivr.calls.driver import CallDriver
from ivr.transport import run

pytestmark = needs_sipp


def only_driver(centre: Centre) -> CallDriver | None:
    telephony = centre.bundle.telephony
    assert telephony is not None
    drivers = list(telephony.b2bua.drivers.values())
    return drivers[0] if len(drivers) == 1 else None


def test_agent_port_is_opened_only_when_the_agent_is_rung(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=6000))
            await wait_for(
                lambda: (d := only_driver(centre)) is not None and d.contact_id is not None,
                what="the caller queued",
            )
            driver = only_driver(centre)
            assert driver is not None
            await asyncio.sleep(0.3)  # queued, hearing music: still one port
            assert driver.media.caller.port != 0 and driver.media.caller.transport is not None
            assert driver.media.agent.port == 0 and driver.media.agent.transport is None

            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            agent = await centre.post("/agents/bob/login", {"ready": True})
            assert agent["agent"]["state"] in {"ready", "reserved"}
            await wait_for(lambda: driver.media.agent.transport is not None, what="agent port")
            assert driver.media.agent.port != 0
            assert (await phone.result()).code == 0
            assert (await call.result()).code == 0
            telephony = centre.bundle.telephony
            assert telephony is not None
            await wait_for(lambda: len(telephony.centre.cdrs) == 1, what="the CDR")
            record = telephony.centre.cdrs[0]
            assert record["outcome"] == "completed", record
            # bridged both ways through the port opened at ringing (sipp's RTP echo)
            assert driver.media.agent.transport is None  # closed with the call

    run(main())
