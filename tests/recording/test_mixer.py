"""The pure mixer: who hears whom, timestamp alignment, loss, jitter, late packets."""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable
from dataclasses import replace

import pytest
from recording_signal import amplitude_at, decode, rms, tone_packets

from ivr.media.g711 import alaw_encode
from ivr.media.mixer import Mixer, MixMode, Party, mix
from ivr.media.rtp import RtpPacket

CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 440.0, 1000.0, 1700.0
SSRCS: dict[Party, int] = {"caller": 11, "agent": 22, "supervisor": 33}
Arrival = tuple[float, Party, RtpPacket]


def paced(party: Party, packets: list[RtpPacket], offset: float = 0.005) -> list[Arrival]:
    """Packets arriving every 20 ms, `offset` after each frame boundary."""
    return [(offset + 0.02 * i, party, p) for i, p in enumerate(packets)]


def run(mixer: Mixer, arrivals: Iterable[Arrival], until: float) -> dict[Party, list[RtpPacket]]:
    """Feed arrivals in time order, mixing every frame that falls due in between."""
    out: dict[Party, list[RtpPacket]] = {"caller": [], "agent": [], "supervisor": []}
    for at, party, packet in sorted(arrivals, key=lambda a: a[0]):
        for receiver, mixed in mixer.handle_timer(at):
            out[receiver].append(mixed)
        mixer.feed(party, packet, at)
    for receiver, mixed in mixer.handle_timer(until):
        out[receiver].append(mixed)
    return out


def three_tones(frames: int = 50) -> list[Arrival]:
    return [
        *paced("caller", tone_packets(CALLER_HZ, frames, ssrc=1, ts0=1000)),
        *paced("agent", tone_packets(AGENT_HZ, frames, ssrc=2, ts0=987654), offset=0.011),
        *paced("supervisor", tone_packets(SUPERVISOR_HZ, frames, ssrc=3, ts0=5)),
    ]


def heard(packets: list[RtpPacket]) -> array[int]:
    return decode(packets)[5 * 160 : 45 * 160]  # steady state: after the jitter buffer fills


def test_mix_sums_and_clips_to_16_bits() -> None:
    loud = array("h", [30000, -30000, 5])
    other = array("h", [10000, -10000, 7])
    assert mix([loud, other]) == array("h", [32767, -32768, 12])
    assert mix([None, other, None]) == other
    assert mix([None, None]) is None


def test_silent_listen_supervisor_hears_both_and_nobody_hears_the_supervisor() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS, mode=MixMode.LISTEN)
    out = run(mixer, three_tones(), until=1.2)
    # caller and agent keep the plain relay: the mixer makes no stream for them
    assert out["caller"] == [] and out["agent"] == []
    supervisor = heard(out["supervisor"])
    assert amplitude_at(supervisor, CALLER_HZ) > 6000
    assert amplitude_at(supervisor, AGENT_HZ) > 6000
    assert amplitude_at(supervisor, SUPERVISOR_HZ) < 100  # never their own voice


def test_barge_everyone_hears_the_other_two_but_not_themselves() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS, mode=MixMode.BARGE)
    out = run(mixer, three_tones(), until=1.2)
    own = {"caller": CALLER_HZ, "agent": AGENT_HZ, "supervisor": SUPERVISOR_HZ}
    for receiver, packets in out.items():
        audio = heard(packets)
        for party, hz in own.items():
            level = amplitude_at(audio, hz)
            if party == receiver:
                assert level < 100, (receiver, party, level)
            else:
                assert level > 6000, (receiver, party, level)


def test_whisper_coaches_the_agent_and_the_caller_hears_only_the_relay() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS, mode=MixMode.WHISPER)
    out = run(mixer, three_tones(), until=1.2)
    assert out["caller"] == []
    agent = heard(out["agent"])
    assert amplitude_at(agent, SUPERVISOR_HZ) > 6000 and amplitude_at(agent, CALLER_HZ) > 6000
    assert amplitude_at(agent, AGENT_HZ) < 100
    supervisor = heard(out["supervisor"])
    assert amplitude_at(supervisor, CALLER_HZ) > 6000 and amplitude_at(supervisor, AGENT_HZ) > 6000


def test_lost_packets_mix_as_silence_in_their_own_frames() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS, delay_frames=2)
    packets = tone_packets(CALLER_HZ, 40, ssrc=1, ts0=70000)
    lost = {10, 11, 25}
    kept = [p for i, p in enumerate(packets) if i not in lost]
    arrivals = [(0.005 + 0.02 * ((p.timestamp - 70000) // 160), "caller", p) for p in kept]
    out = run(mixer, arrivals, until=1.0)["supervisor"]
    # first packet at 5 ms: the next frame due is 1, plus 2 frames of delay → frame 3
    for index in range(40):
        frame = decode([out[index + 3]])
        if index in lost:
            assert rms(frame) == 0, index
        else:
            assert rms(frame) > 3000, index
    assert all(rms(decode([p])) == 0 for p in out[:3])  # silence before the caller starts


def test_jitter_and_reordering_are_absorbed_by_timestamp_placement() -> None:
    packets = tone_packets(CALLER_HZ, 60, ssrc=1, ts0=123)
    steady = run(Mixer(start=0.0, ssrcs=SSRCS), paced("caller", packets), until=1.5)
    rng = random.Random(7)
    # up to 30 ms of extra delay (packets overtake each other), the first one on time
    jittered = [
        (at + (rng.uniform(0, 0.03) if i else 0.0), who, p)
        for i, (at, who, p) in enumerate(paced("caller", packets))
    ]
    assert [a[2] for a in sorted(jittered, key=lambda a: a[0])] != packets  # really reordered
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    shaken = run(mixer, jittered, until=1.5)
    assert mixer.late == 0
    assert decode(shaken["supervisor"]) == decode(steady["supervisor"])


def test_a_packet_later_than_the_buffer_is_counted_and_dropped() -> None:
    packets = tone_packets(CALLER_HZ, 20, ssrc=1)
    arrivals = paced("caller", packets)
    at, who, late_packet = arrivals[8]
    arrivals[8] = (at + 0.2, who, late_packet)  # 200 ms late: its frame is long mixed
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    out = run(mixer, arrivals, until=0.6)["supervisor"]
    assert mixer.late == 1
    assert rms(decode([out[8 + 3]])) == 0 and rms(decode([out[9 + 3]])) > 3000


def test_a_new_ssrc_is_placed_where_it_arrives() -> None:
    first = tone_packets(CALLER_HZ, 10, ssrc=1, ts0=0)
    second = tone_packets(CALLER_HZ, 10, ssrc=99, ts0=4_000_000_000)  # e.g. after a re-INVITE
    arrivals = paced("caller", first) + [
        (0.205 + 0.02 * i, "caller", p) for i, p in enumerate(second)
    ]
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    out = run(mixer, arrivals, until=0.6)["supervisor"]
    loud = [i for i, p in enumerate(out) if rms(decode([p])) > 3000]
    assert mixer.late == 0 and len(loud) == 20
    assert loud[-1] - loud[0] <= 21  # at most one frame of gap at the switch


def test_a_sender_with_a_slow_clock_is_re_anchored_not_lost() -> None:
    # the sender's 20 ms are 20.5 ms of ours: its packets drift later until they are late
    packets = tone_packets(CALLER_HZ, 400, ssrc=1)
    arrivals = [(0.005 + 0.0205 * i, "caller", p) for i, p in enumerate(packets)]
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    out = run(mixer, arrivals, until=9.0)["supervisor"]
    loud = sum(1 for p in out if rms(decode([p])) > 3000)
    assert 0 < mixer.late <= 12  # a few packets per re-anchor, not the rest of the call
    assert loud >= 400 - 12


def test_switching_to_barge_starts_marked_streams_and_keeps_the_supervisor_sequence() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    first = run(mixer, paced("caller", tone_packets(CALLER_HZ, 10, ssrc=1)), until=0.3)
    mixer.set_mode(MixMode.BARGE)
    later = [
        (0.305 + 0.02 * i, "caller", p)
        for i, p in enumerate(tone_packets(CALLER_HZ, 10, ssrc=1, ts0=15 * 160))
    ]
    second = run(mixer, later, until=0.6)
    assert first["caller"] == [] and second["caller"][0].marker
    assert second["agent"][0].marker and not second["agent"][1].marker
    sequences = [p.sequence for p in first["supervisor"] + second["supervisor"]]
    assert sequences == list(range(len(sequences)))
    timestamps = [p.timestamp for p in first["supervisor"] + second["supervisor"]]
    assert timestamps == [160 * i for i in range(len(timestamps))]
    assert {p.ssrc for p in second["agent"]} == {SSRCS["agent"]}


def test_telephone_events_are_not_mixed() -> None:
    mixer = Mixer(start=0.0, ssrcs=SSRCS)
    event = RtpPacket(
        payload_type=101, sequence=1, timestamp=0, ssrc=5, payload=b"\x05\x0a\x00\xa0"
    )
    mixer.feed("caller", event, 0.001)
    assert mixer.ignored == 1
    assert all(rms(decode([p])) == 0 for _, p in mixer.handle_timer(0.2))


def test_each_receiver_gets_its_own_codec() -> None:
    alaw = [
        replace(p, payload_type=8, payload=alaw_encode(bytes(320)))
        for p in tone_packets(SUPERVISOR_HZ, 5, ssrc=3)
    ]
    mixer = Mixer(start=0.0, ssrcs=SSRCS, mode=MixMode.BARGE, codecs={"caller": "PCMA"})
    out = run(mixer, paced("supervisor", alaw), until=0.2)
    # once the supervisor's leg has sent, it gets the law it sends (μ-law before)
    assert [p.payload_type for p in out["supervisor"]] == [0] + [8] * (len(out["supervisor"]) - 1)
    assert {p.payload_type for p in out["caller"]} == {8}  # configured
    assert {p.payload_type for p in out["agent"]} == {0}  # unknown: μ-law


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="delay_frames"):
        Mixer(start=0.0, ssrcs=SSRCS, delay_frames=-1)
