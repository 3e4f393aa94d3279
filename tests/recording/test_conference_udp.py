"""Listen, barge and whisper over real UDP sockets: three phones, three B2BUA legs.

Each "phone" is a `MediaEndpoint` playing a tone with a real 20 ms `Player`
(caller 440 Hz, agent 1 kHz, supervisor 1.7 kHz) and recording what it hears;
each call leg is a `MediaEndpoint` on its own socket. The caller and agent legs
are bridged as the SIP driver bridges them; the `Conference` then taps them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from array import array

import pytest
from recording_signal import amplitude_at, windowed

from ivr.media.audio import tone
from ivr.media.conference import Conference, NotBridged
from ivr.media.dtmf import DtmfDigit, dtmf_packets
from ivr.media.endpoint import MediaEndpoint, bridge
from ivr.media.mixer import MixMode
from ivr.media.player import Player
from ivr.media.recorder import Recorder

TONES = {"caller": 440.0, "agent": 1000.0, "supervisor": 1700.0}
PRESENT, ABSENT = 2500.0, 400.0


async def endpoint(remote: tuple[str, int] | None = None) -> MediaEndpoint:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: MediaEndpoint(remote=remote), local_addr=("127.0.0.1", 0)
    )
    return protocol


def address(ep: MediaEndpoint) -> tuple[str, int]:
    assert ep.transport is not None
    host, port = ep.transport.get_extra_info("sockname")[:2]
    return host, port


def heard(recorder: Recorder) -> array[int]:
    """What a phone received (left channel), without the first 200 ms of settling."""
    samples = array("h", recorder.pcm())[0::2]
    return samples[1600:-800]


class Call:
    """Phones and legs for caller, agent and supervisor."""

    def __init__(self) -> None:
        self.phones: dict[str, MediaEndpoint] = {}
        self.legs: dict[str, MediaEndpoint] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for name, hz in TONES.items():
            leg = await endpoint()
            phone = await endpoint(address(leg))
            leg.remote = address(phone)
            self.phones[name], self.legs[name] = phone, leg
            player = Player(start=loop.time(), ssrc=random.getrandbits(32))
            player.loop(tone(hz, 1000))
            self.tasks.append(loop.create_task(phone.run_player(player)))
        bridge(self.legs["caller"], self.legs["agent"], ssrc_to_a=0xCA11, ssrc_to_b=0xA6E7)

    async def listen(self, seconds: float) -> dict[str, Recorder]:
        """Give every phone a fresh recorder for `seconds`; return them."""
        recorders = {name: Recorder() for name in self.phones}
        for name, phone in self.phones.items():
            phone.recorder = recorders[name]
        await asyncio.sleep(seconds)
        return recorders

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for ep in [*self.phones.values(), *self.legs.values()]:
            if ep.transport is not None:
                ep.transport.close()


def levels(recorder: Recorder) -> dict[str, float]:
    audio = heard(recorder)
    return {name: amplitude_at(audio, hz) for name, hz in TONES.items()}


def assert_hears(recorder: Recorder, who: set[str], label: str) -> None:
    found = levels(recorder)
    for name, level in found.items():
        if name in who:
            assert level > PRESENT, (label, name, found)
        else:
            assert level < ABSENT, (label, name, found)


async def monitoring_scenario() -> None:
    call = Call()
    await call.open()
    try:
        call_recording = Recorder(stereo=True)
        call.legs["caller"].recorder = call_recording
        plain = await call.listen(0.6)
        assert_hears(plain["caller"], {"agent"}, "bridged")
        assert_hears(plain["agent"], {"caller"}, "bridged")

        conference = Conference(
            caller=call.legs["caller"],
            agent=call.legs["agent"],
            supervisor=call.legs["supervisor"],
            rng=random.Random(3),
        )
        conference.start()
        listen = await call.listen(1.0)
        assert_hears(listen["supervisor"], {"caller", "agent"}, "listen")
        assert_hears(listen["caller"], {"agent"}, "listen")  # no supervisor energy
        assert_hears(listen["agent"], {"caller"}, "listen")

        conference.set_mode(MixMode.BARGE)
        barge = await call.listen(1.0)
        assert_hears(barge["supervisor"], {"caller", "agent"}, "barge")
        assert_hears(barge["caller"], {"agent", "supervisor"}, "barge")
        assert_hears(barge["agent"], {"caller", "supervisor"}, "barge")

        conference.set_mode(MixMode.WHISPER)
        whisper = await call.listen(1.0)
        assert_hears(whisper["caller"], {"agent"}, "whisper")
        assert_hears(whisper["agent"], {"caller", "supervisor"}, "whisper")

        conference.stop()
        await asyncio.sleep(0.1)  # frames already in flight
        supervisor_before = call.phones["supervisor"].received
        after = await call.listen(0.6)
        assert call.phones["supervisor"].received == supervisor_before
        assert_hears(after["caller"], {"agent"}, "after stop")
        assert_hears(after["agent"], {"caller"}, "after stop")

        # the call's own recorder was kept through the taps and is back in place
        assert call.legs["caller"].recorder is call_recording
        stereo = array("h", call_recording.pcm())
        caller_side, agent_side = stereo[0::2], stereo[1::2]
        assert amplitude_at(caller_side, TONES["supervisor"]) < ABSENT / 4
        # what the caller heard had the supervisor in it for the 1 s barge only
        barged = [w > PRESENT for w in windowed(agent_side, TONES["supervisor"])]
        assert 7 <= sum(barged) <= 12, barged
        assert amplitude_at(agent_side, TONES["agent"]) > PRESENT
    finally:
        call.close()


def test_listen_barge_whisper_and_stop_over_udp() -> None:
    asyncio.run(monitoring_scenario())


async def unbridged() -> None:
    a, b, c = await endpoint(), await endpoint(), await endpoint()
    try:
        with pytest.raises(NotBridged):
            Conference(caller=a, agent=b, supervisor=c)
        bridge(a, c, ssrc_to_a=1, ssrc_to_b=2)
        with contextlib.suppress(Exception):
            b.bridge = a.bridge  # half of another bridge
        with pytest.raises(NotBridged, match="other legs"):
            Conference(caller=a, agent=b, supervisor=c)
    finally:
        for ep in (a, b, c):
            assert ep.transport is not None
            ep.transport.close()


def test_monitoring_needs_a_bridged_pair() -> None:
    asyncio.run(unbridged())


async def keypad_scenario() -> None:
    call = Call()
    await call.open()
    try:
        passed_on: list[str] = []
        call.legs["supervisor"].on_digit = lambda digit: passed_on.append(digit.digit)
        conference = Conference(
            caller=call.legs["caller"],
            agent=call.legs["agent"],
            supervisor=call.legs["supervisor"],
        )
        conference.start()
        phone = call.phones["supervisor"]
        for sequence, (digit, expected) in enumerate(
            [("6", MixMode.BARGE), ("1", MixMode.BARGE), ("5", MixMode.WHISPER)]
        ):
            # RFC 4733 §2.5.1: start, updates, then the end packet three times
            for _, packet in dtmf_packets(
                digit, payload_type=101, ssrc=77, sequence=100 * sequence, timestamp=9000 * sequence
            ):
                phone.send(packet)
            for _ in range(100):
                if conference.mode is expected and (digit != "1" or passed_on):
                    break
                await asyncio.sleep(0.01)
            assert conference.mode is expected, digit
        assert passed_on == ["1"]  # not a mode key: the driver's handler gets it
        conference.stop()
        assert call.legs["supervisor"].on_digit is not None
        call.legs["supervisor"].on_digit(DtmfDigit(digit="4", duration=0))
        assert passed_on == ["1", "4"] and conference.mode is MixMode.WHISPER  # handler restored
    finally:
        call.close()


def test_the_supervisor_switches_mode_from_the_keypad() -> None:
    asyncio.run(keypad_scenario())
