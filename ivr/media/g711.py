"""ITU-T G.711 μ-law and A-law for 16-bit signed little-endian linear PCM.

Pure-Python tables (the stdlib `audioop` is deprecated since 3.11 and gone in
3.13): decode is two `bytes.translate` passes interleaved by slice assignment;
encode maps each 16-bit sample through a 65 536-entry table. The segment
arithmetic is the reference algorithm of G.711 Tables 1a/2a (as in Sun's
public-domain g711.c, which `audioop` also uses), so results match it exactly.
"""

from __future__ import annotations

import sys
from array import array

_ULAW_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_BIAS = 0x84  # G.711 Table 2a: μ-law bias 33 on the 14-bit scale (x4)
SILENCE_ULAW = 0xFF  # encode(0): positive zero
SILENCE_ALAW = 0xD5  # encode(0): 0x80 with even bits inverted (G.711 §A.2)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for seg, end in enumerate(ends):
        if value <= end:
            return seg
    return len(ends)


def ulaw_encode_sample(sample: int) -> int:
    """One 16-bit sample to a μ-law octet (G.711 Table 2a, 14-bit magnitude)."""
    pcm = sample >> 2
    mask = 0xFF
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    pcm = min(pcm, 8159) + (_ULAW_BIAS >> 2)
    seg = _segment(pcm, _ULAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_decode_sample(code: int) -> int:
    """One μ-law octet to a 16-bit sample (G.711 Table 2a)."""
    u = ~code & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return _ULAW_BIAS - t if u & 0x80 else t - _ULAW_BIAS


def alaw_encode_sample(sample: int) -> int:
    """One 16-bit sample to an A-law octet (G.711 Table 1a, 13-bit magnitude)."""
    pcm = sample >> 3
    mask = 0xD5
    if pcm < 0:
        pcm, mask = -pcm - 1, 0x55
    seg = _segment(pcm, _ALAW_SEG_END)
    if seg >= 8:
        return 0x7F ^ mask
    shift = 1 if seg < 2 else seg
    return ((seg << 4) | ((pcm >> shift) & 0x0F)) ^ mask


def alaw_decode_sample(code: int) -> int:
    """One A-law octet to a 16-bit sample (G.711 Table 1a)."""
    a = code ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


def _decode_tables(decode: object) -> tuple[bytes, bytes]:
    assert callable(decode)
    words = array("h", (decode(code) for code in range(256)))
    if sys.byteorder == "big":
        words.byteswap()
    raw = words.tobytes()
    return raw[0::2], raw[1::2]  # low octets, high octets (little-endian PCM)


def _encode_table(encode: object) -> bytes:
    assert callable(encode)
    # Indexed by the sample's unsigned 16-bit pattern, so a memoryview cast 'H' indexes it.
    return bytes(encode(index - 65536 if index >= 32768 else index) for index in range(65536))


_ULAW_LO, _ULAW_HI = _decode_tables(ulaw_decode_sample)
_ALAW_LO, _ALAW_HI = _decode_tables(alaw_decode_sample)
_ULAW_ENC = _encode_table(ulaw_encode_sample)
_ALAW_ENC = _encode_table(alaw_encode_sample)


def _decode(data: bytes, low: bytes, high: bytes) -> bytes:
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(low)
    out[1::2] = data.translate(high)
    return bytes(out)


def _encode(pcm: bytes, table: bytes) -> bytes:
    if len(pcm) % 2:
        raise ValueError("16-bit PCM must have an even number of octets")
    samples = array("H", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    return bytes(map(table.__getitem__, samples))


def ulaw_decode(data: bytes) -> bytes:
    """μ-law octets to 16-bit signed little-endian PCM."""
    return _decode(data, _ULAW_LO, _ULAW_HI)


def alaw_decode(data: bytes) -> bytes:
    """A-law octets to 16-bit signed little-endian PCM."""
    return _decode(data, _ALAW_LO, _ALAW_HI)


def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM to μ-law octets."""
    return _encode(pcm, _ULAW_ENC)


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM to A-law octets."""
    return _encode(pcm, _ALAW_ENC)


# RFC 3551 §6 Table 4: static payload types of the two G.711 laws.
PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8}
ENCODERS = {"PCMU": ulaw_encode, "PCMA": alaw_encode}
DECODERS = {0: ulaw_decode, 8: alaw_decode}
SILENCE = {"PCMU": SILENCE_ULAW, "PCMA": SILENCE_ALAW}
