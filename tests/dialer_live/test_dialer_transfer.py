"""Blind transfer of a bridged dialled call, over REST, to another agent.

Real peers: sipp as the carrier (answers, sends 4 s of tone), as alice's phone
(answers, waits for our BYE) and as carol's phone (answers, echoes, hangs up).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import Centre, carrier, running_centre, talking
from peer_kit import REGISTER_XML, free_port, needs_sipp, tone_file, wait_for
from test_dialer_bridge import (
    ALICE_EXT,
    ALICE_PW,
    PHONE_AWAITS_BYE_XML,
    PHONE_HANGS_UP_XML,
    telephony_port,
)
from test_dialer_cdrs import cdrs, start

pytestmark = needs_sipp
# carol's phone stays on past the customer's 4 s of tone (their BYE would cut it short)
CAROL_PHONE_XML = PHONE_HANGS_UP_XML.replace('milliseconds="3500"', 'milliseconds="5000"')
CAROL_EXT, CAROL_PW = "1003", "carol-phone-secret"
ENV = {
    f"RINGWAY_SIP_PASSWORD_{ALICE_EXT}": ALICE_PW,
    f"RINGWAY_SIP_PASSWORD_{CAROL_EXT}": CAROL_PW,
}


def carol_dials(text: str) -> str:
    """carol (sales 3) may take an outbound call too (the demo gives her none)."""
    return text.replace("email: 1}, budget: 4}", "email: 1, outbound: 1}, budget: 4}", 1)


async def register(tmp: Path, centre: Centre, port: int, ext: str, password: str) -> None:
    target = f"127.0.0.1:{telephony_port(centre)}"
    args = (target, "-s", ext, "-au", ext, "-ap", password)
    sipp = await carrier(tmp, f"register-{ext}", REGISTER_XML, port=port, echo=False, args=args)
    code, output = await sipp.result()
    assert code == 0, output[-2000:]


def test_blind_transfer_rings_the_new_agents_phone_and_keeps_the_customer(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV, edit=carol_dials) as centre:
            alice_port, carol_port = free_port(), free_port()
            await register(tmp_path, centre, alice_port, ALICE_EXT, ALICE_PW)
            await register(tmp_path, centre, carol_port, CAROL_EXT, CAROL_PW)
            edge = f"127.0.0.1:{telephony_port(centre)}"
            alice_phone = await carrier(tmp_path, "alice", PHONE_AWAITS_BYE_XML, port=alice_port)
            carol_phone = await carrier(
                tmp_path, "carol", CAROL_PHONE_XML, port=carol_port, args=(edge,)
            )
            media = tone_file(tmp_path, 4.0)
            line = await carrier(
                tmp_path, "carrier", talking(media, 4000), port=centre.trunk_port, echo=False
            )
            try:
                await start(centre)
                router = centre.bundle.service.router

                def alice_talking() -> bool:
                    return router.agent("alice").state.value == "busy"

                await wait_for(alice_talking, 10, "alice connected")
                (contact,) = [c for c in router.live_contacts() if c.agent_id == "alice"]
                await centre.call("POST", "/agents/carol/login", json={"ready": True})
                path = f"/agents/alice/contacts/{contact.id}/transfer"
                await centre.call("POST", path, json={"agent": "carol"})

                assert (await alice_phone.result())[0] == 0  # our BYE reached alice's phone
                assert (await carol_phone.result())[0] == 0  # rung, answered, hung up
                assert (await line.result())[0] == 0  # the customer stayed on until then
                assert router.contact(contact.id).agent_id == "carol"
                (cdr,) = await cdrs(centre, 1)
                assert (cdr["outcome"], cdr["agent_id"]) == ("answered", "carol")
                assert cdr["hangup_by"] == "agent"
                assert cdr["dialer"]["rtp"]["caller_to_agent"] > 0  # carol heard the tone
                status = centre.dialer.status("spring")
                assert status["agent_phones"]["relayed"]["agent_to_caller"] > 0
                assert centre.dialer.watches == {}
                await centre.dialer.stop_campaign("spring")
            finally:
                await alice_phone.stop()
                await carol_phone.stop()
                await line.stop()

    asyncio.run(main())
