"""A prompt's end reaches the session: the driver hooks the caller leg's idle callback
when it first plays (`CallDriver._play`; not at set-up, where a call that plays nothing
paid for a bound method), so the IVR moves on when the leg falls quiet."""

from __future__ import annotations

import asyncio
import random

from ivr.calls.b2bua import B2bua
from ivr.calls.driver import CallDriver
from ivr.calls.media import CallMedia
from ivr.calls.session import CallSession
from ivr.edge import Call, SipEdge
from ivr.flows import DEMO_FLOWS, FlowRun, load_flows
from ivr.flows.run import State
from ivr.sip.actions import Peer
from ivr.sip.builders import make_request


def test_the_end_of_the_first_prompt_moves_the_ivr_on() -> None:
    async def scenario() -> tuple[bool, State, State, int]:
        rng = random.Random(1)
        b2bua = B2bua(None, host="127.0.0.1", rng=rng)  # type: ignore[arg-type]
        edge = SipEdge("127.0.0.1", 5060, {}, handler=b2bua, rng=rng)
        request = make_request(
            "INVITE",
            "sip:18005550101@ringway.example",
            via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcli1",
            from_="<sip:+447700900456@trunk.example>;tag=t1",
            to="<sip:18005550101@ringway.example>",
            call_id="call-1",
            cseq=1,
        )
        call = Call(edge, request, Peer("192.0.2.1", 5060, "UDP"), ("z9hG4bKcli1", "INVITE"))
        flows = load_flows(DEMO_FLOWS)
        run = FlowRun(flows, flows.entry_for("18005550101"), None, {}, rng)
        session = CallSession(call.call_id, run)
        media = CallMedia("127.0.0.1", rng, b2bua.prompts, b2bua.ports)
        driver = CallDriver(b2bua, call, session, media)
        quiet_before = media.caller.on_idle is None
        driver.start()  # the welcome prompt
        playing = run.state
        idle = media.caller.on_idle
        assert idle is not None
        idle()  # the leg fell quiet: the prompt has ended
        after = run.state
        timeline = len(session.record["events"])
        media.close()
        return quiet_before, playing, after, timeline

    quiet_before, playing, after, timeline = asyncio.run(scenario())
    assert quiet_before
    assert playing is State.PLAYING
    assert after is State.PROMPTING  # the menu's prompt: the IVR moved on
    assert timeline == 0  # a prompt's end is not an entry of the timeline
