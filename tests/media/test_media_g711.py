"""ITU-T G.711 μ-law/A-law against known code points and the reference algorithm."""

from __future__ import annotations

import math
import warnings
from array import array
from pathlib import Path

from ivr.media import g711
from ivr.media.pcap import read_udp
from ivr.media.rtp import parse_rtp

ALL_SAMPLES = array("h", range(-32768, 32768)).tobytes()


def test_known_mu_law_code_points() -> None:
    # G.711 Table 2a: 0xFF/0x7F are ±0, 0x80/0x00 the extremes ±32124
    assert (
        g711.ulaw_decode(bytes([0xFF, 0x7F, 0x80, 0x00]))
        == array("h", [0, 0, 32124, -32124]).tobytes()
    )
    assert g711.ulaw_encode(array("h", [0, 32767, -32768, 8]).tobytes()) == bytes(
        [0xFF, 0x80, 0x00, 0xFE]
    )


def test_known_a_law_code_points() -> None:
    # G.711 Table 1a: even bits inverted; 0xD5/0x55 are ±8, 0xAA/0x2A the extremes ±32256
    assert (
        g711.alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A]))
        == array("h", [8, -8, 32256, -32256]).tobytes()
    )
    assert g711.alaw_encode(array("h", [0, 32767, -32768]).tobytes()) == bytes([0xD5, 0xAA, 0x2A])


def test_tables_match_stdlib_audioop_on_every_value() -> None:
    with warnings.catch_warnings():  # audioop: deprecated reference (removed in 3.13)
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    codes = bytes(range(256))
    assert g711.ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(ALL_SAMPLES, 2)
    assert g711.alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES, 2)
    assert g711.ulaw_decode(codes) == audioop.ulaw2lin(codes, 2)
    assert g711.alaw_decode(codes) == audioop.alaw2lin(codes, 2)


def test_every_code_is_a_fixed_point_of_decode_then_encode() -> None:
    codes = bytes(range(256))
    assert g711.alaw_encode(g711.alaw_decode(codes)) == codes
    mu = g711.ulaw_encode(g711.ulaw_decode(codes))
    assert mu == codes.replace(b"\x7f", b"\xff")  # μ-law -0 encodes back as +0


def test_round_trip_error_is_within_half_a_quantisation_step() -> None:
    # G.711 segments: step doubles per segment; the error stays below ~3.2 % (+ near-zero floor)
    samples = array("h", ALL_SAMPLES)
    for encode, decode in (
        (g711.ulaw_encode, g711.ulaw_decode),
        (g711.alaw_encode, g711.alaw_decode),
    ):
        back = array("h", decode(encode(ALL_SAMPLES)))
        worst = max(abs(a - b) - 0.032 * abs(a) for a, b in zip(samples, back, strict=True))
        assert worst <= 16


def test_sine_survives_with_high_snr() -> None:
    tone = array("h", (round(10000 * math.sin(2 * math.pi * 1000 * n / 8000)) for n in range(800)))
    for encode, decode in (
        (g711.ulaw_encode, g711.ulaw_decode),
        (g711.alaw_encode, g711.alaw_decode),
    ):
        back = array("h", decode(encode(tone.tobytes())))
        noise = sum((a - b) ** 2 for a, b in zip(tone, back, strict=True))
        signal = sum(a * a for a in tone)
        assert 10 * math.log10(signal / noise) > 35  # G.711 SNR is ~38 dB at this level


def test_captured_pcma_payload_decodes_to_speech_levels() -> None:
    datagrams = read_udp(Path("/usr/share/sip-tester/g711a.pcap").read_bytes())
    pcm = array("h", b"".join(g711.alaw_decode(parse_rtp(d.payload).payload) for d in datagrams))
    assert len(pcm) == 236 * 240
    assert max(map(abs, pcm)) > 1000 and abs(sum(pcm) / len(pcm)) < 500
    assert g711.alaw_encode(pcm.tobytes()) == b"".join(
        parse_rtp(d.payload).payload for d in datagrams
    )
