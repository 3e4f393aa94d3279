"""Minimal classic-pcap reader for replaying captured RTP (tests, tools).

libpcap format: a 24-octet global header (magic 0xa1b2c3d4, either byte
order, microsecond or 0xa1b23c4d nanosecond), then per record a 16-octet
header (seconds, fraction, captured length, original length). Only Ethernet
(linktype 1) or raw IPv4 (101) carrying IPv4/UDP is unpacked.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ivr.media.errors import MediaError

_MAGICS = {0xA1B2C3D4: 1e-6, 0xA1B23C4D: 1e-9}


@dataclass(frozen=True, kw_only=True, slots=True)
class UdpDatagram:
    time: float
    source: tuple[str, int]
    destination: tuple[str, int]
    payload: bytes


def read_udp(data: bytes) -> list[UdpDatagram]:
    """Every IPv4/UDP datagram in a pcap file, in capture order."""
    if len(data) < 24:
        raise MediaError("not a pcap file")
    for order in "<>":
        (magic,) = struct.unpack_from(order + "I", data)
        if magic in _MAGICS:
            break
    else:
        raise MediaError("not a pcap file (bad magic)")
    scale = _MAGICS[magic]
    linktype = struct.unpack_from(order + "I", data, 20)[0]
    offset, out = 24, []
    while offset + 16 <= len(data):
        seconds, fraction, length, _ = struct.unpack_from(order + "IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        datagram = _udp(frame[14:] if linktype == 1 else frame, seconds + fraction * scale)
        if datagram is not None:
            out.append(datagram)
    return out


def _udp(ip: bytes, time: float) -> UdpDatagram | None:
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:  # IPv4, protocol 17 = UDP
        return None
    header = (ip[0] & 0x0F) * 4
    sport, dport, length = struct.unpack_from("!HHH", ip, header)
    source = ".".join(map(str, ip[12:16]))
    destination = ".".join(map(str, ip[16:20]))
    payload = ip[header + 8 : header + length]
    return UdpDatagram(
        time=time, source=(source, sport), destination=(destination, dport), payload=payload
    )
