"""The answering-machine detector on synthetic G.711 audio: every verdict asserted.

A person says a short hello and waits; a machine talks on (short gaps between
its words) and beeps; a silent line gets the configured rule; anything unclear
is a person, since a person hung up on counts as an abandoned call (Ofcom 2016,
47 CFR 64.1200(a)(7)).
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from amd_audio import HUMAN_HELLO, MACHINE_GREETING, greeting, mix, noise, speech

from dialer.pacing.accounting import AbandonmentLedger, rule_pack
from ivr.media.audio import silence, tone
from ivr.media.endpoint import MediaEndpoint
from ivr.media.g711 import ENCODERS, PAYLOAD_TYPES
from ivr.media.recorder import Recorder
from ivr.media.rtp import RtpPacket
from ringway.dialer_live.amd import AmdAnalyser, AmdSettings, AmdSettingsError, Verdict
from ringway.dialer_live.amd_tap import EnergyDetector
from ringway.dialer_live.outcomes import detector
from ringway.dialer_live.settings import DialerSettings


def analyse(
    pcm: bytes, settings: AmdSettings | None = None, *, codec: str = "PCMU", ptime_ms: int = 20
) -> Verdict:
    """Feed ``pcm`` as G.711 RTP payloads of ``ptime_ms``; the verdict (expired at the end)."""
    analyser = AmdAnalyser(settings)
    payload = ENCODERS[codec](pcm)
    size = 8 * ptime_ms
    for offset in range(0, len(payload), size):
        verdict = analyser.feed_g711(payload[offset : offset + size], PAYLOAD_TYPES[codec])
        if verdict is not None:
            return verdict
    return analyser.expire()


def test_a_short_hello_then_silence_is_a_person() -> None:
    verdict = analyse(HUMAN_HELLO)
    assert (verdict.kind, verdict.reason) == ("human", "short_greeting")
    # 0.4 s before, 0.6 s hello, 0.8 s of waiting: decided as soon as the wait is heard
    assert 1.7 <= verdict.after_s <= 1.95


def test_a_long_greeting_is_a_machine_before_its_beep() -> None:
    verdict = analyse(MACHINE_GREETING)
    assert (verdict.kind, verdict.reason) == ("machine", "long_greeting")
    assert verdict.machine
    assert 2.7 <= verdict.after_s <= 3.0  # 0.3 s before + 2.5 s of greeting


def test_four_seconds_of_continuous_speech_is_a_machine() -> None:
    verdict = analyse(silence(200) + speech(4000, seed=3))
    assert (verdict.kind, verdict.reason) == ("machine", "long_greeting")
    assert verdict.after_s <= 2.8


def test_a_beep_is_a_machine_at_once() -> None:
    verdict = analyse(greeting(("quiet", 300), ("beep", 500), ("quiet", 1000)))
    assert (verdict.kind, verdict.reason) == ("machine", "beep")
    assert verdict.after_s <= 0.5  # 0.3 s + 0.12 s of tone
    for hz in (440, 1400, 2000):  # any steady pitch in the band, any codec
        pcm = silence(300) + tone(hz, 400, amplitude=5000)
        assert analyse(pcm, codec="PCMA").reason == "beep", hz


def test_a_low_hum_or_a_voice_is_no_beep() -> None:
    assert analyse(tone(100, 3000) + silence(1000)).reason != "beep"  # mains hum: out of band
    assert analyse(speech(600, seed=9) + silence(1000)).reason == "short_greeting"
    chirps = (tone(1000, 100) + silence(40)) * 30  # no 0.12 s of unbroken tone
    assert analyse(chirps).reason == "long_greeting"


def test_a_long_initial_silence_follows_the_rule() -> None:
    quiet = silence(4000)
    default = analyse(quiet)
    assert (default.kind, default.reason, default.after_s) == ("human", "initial_silence", 2.5)
    strict = analyse(quiet, AmdSettings(initial_silence_verdict="machine"))
    assert (strict.kind, strict.reason) == ("machine", "initial_silence")


def test_line_noise_is_not_speech_and_speech_over_it_is() -> None:
    hiss = noise(4000, dbfs=-50)
    assert analyse(hiss).reason == "initial_silence"
    assert analyse(mix(HUMAN_HELLO, noise(3500, dbfs=-50))).reason == "short_greeting"
    assert analyse(mix(MACHINE_GREETING, hiss)).reason == "long_greeting"
    loud_hiss = noise(4000, dbfs=-32, seed=3)  # a bad trunk: louder than the minimum
    assert analyse(loud_hiss).reason == "long_greeting"  # taken for talk ...
    noisy_trunk = AmdSettings(min_speech_dbfs=-25)  # ... unless the minimum is raised
    assert analyse(loud_hiss, noisy_trunk).reason == "initial_silence"


def test_clicks_do_not_start_a_greeting() -> None:
    clicks = b"".join(silence(400) + speech(40, seed=i) for i in range(8))
    assert analyse(clicks).reason == "initial_silence"


def test_unsure_means_a_person() -> None:
    middling = greeting(("quiet", 300), ("talk", 2000), ("quiet", 1500))  # 1.5 s < 2 s < 2.5 s
    assert (analyse(middling).kind, analyse(middling).reason) == ("human", "unsure")
    late = greeting(("quiet", 1500), ("talk", 3000))  # still talking when time is up
    verdict = analyse(late)
    assert (verdict.kind, verdict.reason, verdict.after_s) == ("human", "timeout", 3.5)


def test_packet_size_and_codec_do_not_change_the_verdict() -> None:
    for codec in ("PCMU", "PCMA"):
        for ptime in (10, 20, 30, 60):
            assert analyse(HUMAN_HELLO, codec=codec, ptime_ms=ptime).kind == "human"
            assert analyse(MACHINE_GREETING, codec=codec, ptime_ms=ptime).kind == "machine"


def test_thresholds_are_configurable() -> None:
    brisk = AmdSettings(machine_greeting_s=1.8, human_greeting_max_s=1.0, max_decision_s=2.5)
    middling = greeting(("quiet", 300), ("talk", 2000), ("quiet", 1500))
    assert analyse(middling, brisk).reason == "long_greeting"
    assert analyse(silence(200) + speech(3000), AmdSettings(max_decision_s=2.0)).reason == (
        "timeout"
    )
    assert analyse(b"", AmdSettings()).reason == "initial_silence"  # no audio at all
    assert analyse(b"", AmdSettings(max_decision_s=2.0)).reason == "timeout"


@pytest.mark.parametrize(
    "bad",
    [
        {"max_decision_s": 0},
        {"max_decision_s": 12},
        {"human_greeting_max_s": 3.0, "machine_greeting_s": 2.5},
        {"initial_silence_verdict": "maybe"},
        {"min_word_s": 0.0},
        {"false_positive_rate": 1.0},
        {"min_speech_dbfs": 3},
    ],
)
def test_bad_thresholds_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(AmdSettingsError, match=r"^amd: "):
        AmdSettings(**bad)  # type: ignore[arg-type]


# -- the RTP adapter, on a real UDP socket -----------------------------------------------


async def listen_to(pcm: bytes, settings: AmdSettings) -> tuple[Verdict, float, MediaEndpoint]:
    """Send ``pcm`` as 20 ms PCMU RTP packets (paced) to an endpoint the detector taps."""
    loop = asyncio.get_running_loop()
    endpoint = MediaEndpoint(dtmf_payload_type=None)
    kept = endpoint.recorder = Recorder()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: endpoint, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    payload = ENCODERS["PCMU"](pcm)

    async def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for index, offset in enumerate(range(0, len(payload), 160)):
                packet = RtpPacket(
                    payload_type=0,
                    sequence=index,
                    timestamp=offset,
                    ssrc=0x1234,
                    payload=payload[offset : offset + 160],
                )
                sock.sendto(packet.serialize(), ("127.0.0.1", port))
                await asyncio.sleep(0.005)  # faster than real time: the frames decide

    sender = asyncio.ensure_future(send())
    started = loop.time()
    try:
        verdict = await EnergyDetector(settings).listen(endpoint)
        took = loop.time() - started
    finally:
        sender.cancel()
        transport.close()
    assert endpoint.recorder is kept  # handed back
    return verdict, took, endpoint


def test_the_detector_listens_to_rtp_and_hands_the_endpoint_back() -> None:
    settings = AmdSettings()
    human, _, endpoint = asyncio.run(listen_to(HUMAN_HELLO, settings))
    assert (human.kind, human.reason) == ("human", "short_greeting")
    assert endpoint.received >= 90  # 1.8 s of 20 ms packets at least
    machine, _, _ = asyncio.run(listen_to(MACHINE_GREETING, settings))
    assert (machine.kind, machine.reason) == ("machine", "long_greeting")


def test_no_rtp_at_all_is_decided_within_the_bound() -> None:
    settings = AmdSettings(max_decision_s=0.6, initial_silence_s=0.5)
    verdict, took, _ = asyncio.run(listen_to(b"", settings))
    assert (verdict.kind, verdict.reason) == ("human", "initial_silence")
    assert 0.55 <= took < 1.2


def test_detectors_by_name_carry_the_thresholds() -> None:
    settings = AmdSettings(max_decision_s=2.0)
    energy = detector("energy", settings)
    assert isinstance(energy, EnergyDetector) and energy.settings is settings


def test_uk_accounting_counts_machine_releases_only_when_a_detector_runs() -> None:
    none = DialerSettings(trunk="192.0.2.10:5060")
    energy = DialerSettings(trunk="192.0.2.10:5060", detector="energy")
    assert none.amd_false_positive_rate == 0.0  # no detector, no releases to count
    assert energy.amd_false_positive_rate == energy.amd.false_positive_rate == 0.1
    ledger = AbandonmentLedger(rule_pack("UK", energy.amd_false_positive_rate))
    for second in range(9):
        ledger.record("spring", "connected_human", float(second))
    for second in range(10):
        ledger.record("spring", "amd_machine", float(second))
    # Ofcom: 10 releases x 0.1 = 1 person hung up on, of 9 + 1 live calls
    assert ledger.rate("spring", 10.0) == pytest.approx(0.1)
    us = AbandonmentLedger(rule_pack("US", energy.amd_false_positive_rate))
    us.record("spring", "amd_machine", 0.0)
    assert us.rate("spring", 1.0) is None  # the FCC formula counts live answers only
