"""SIP user agents for the load test, on Ringway's own sans-I/O SIP layer.

`LoadEdge` is `ivr.edge.SipEdge` (transaction layer, dialogs, 2xx
retransmission, CANCEL and BYE handling over one asyncio UDP socket) used as a
bank of user agents: callers place INVITEs through it with
`ivr.calls.outbound.OutboundCall`, agents' phones answer INVITEs as its UAS.
One edge carries hundreds of calls. Unlike the service's edge it never sheds
(503) when the load tester's own loop is busy: a load generator that refuses
the calls it is asked to answer would measure itself.

`RtpPort` is one call's RTP socket (RFC 3550): RFC 4733 digits out, and a cheap
check of what comes in — the agent phones put `MAGIC` at the start of their
audio payloads, so a caller knows it hears an agent (the B2BUA relays the
payload and rewrites only the header, RFC 7667 §3.2.1.2) and not the IVR's
prompts or music on hold.
"""

from __future__ import annotations

import asyncio
import math
import random
import socket
from typing import cast

from ivr.edge import CallHandler, SipEdge
from ivr.media.dtmf import dtmf_packets
from ivr.media.rtp import RtpPacket
from ivr.sip.actions import Peer
from ivr.sip.builders import make_request, new_call_id, new_tag
from ivr.sip.digest import compute_ha1, digest_response, parse_digest
from ivr.sip.message import Response
from ivr.sip.offer_answer import LocalMedia, Negotiated

MAGIC = b"RINGWAY-LOADTEST"  # leads every agent phone's audio payload
FRAME = 160  # 20 ms of G.711 at 8 kHz (RFC 3551 §4.5.14)
REGISTER_EXPIRES_S = 3600
ANSWER_TIMEOUT_S = 3.0  # an OPTIONS or REGISTER not answered by then: the target is down


def local_address(host: str, port: int) -> str:
    """The address this machine reaches ``host`` from (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))
        return str(probe.getsockname()[0])


class LoadEdge(SipEdge):
    def __init__(self, host: str, handler: CallHandler | None = None) -> None:
        super().__init__(
            host, 0, {}, handler=handler, rng=random.Random(), max_lag=math.inf, max_busy=math.inf
        )

    async def start(self) -> None:
        await super().start()
        assert self.transport is not None
        self.transport.max_queue_delay = math.inf  # the third overload signal: off too

    async def request(
        self,
        method: str,
        uri: str,
        peer: Peer,
        *,
        aor: str | None = None,
        call_id: str | None = None,
        cseq: int = 1,
        contact: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        """Send a request outside any dialog (From/To ``aor``) and wait for its final
        response; `TimeoutError` after `ANSWER_TIMEOUT_S`."""
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[Response] = loop.create_future()

        def on_response(response: Response, local: bool) -> None:
            if response.status >= 200 and not answered.done():
                answered.set_result(response)

        party = aor or f"<sip:loadtest@{self.host}>"
        request = make_request(
            method,
            uri,
            via=self.new_via(),
            from_=f"{party};tag={new_tag(self.rng)}",
            to=party if aor else f"<{uri}>",
            call_id=call_id or new_call_id(self.rng, self.host),
            cseq=cseq,
            contact=contact,
            headers=headers or [],
        )
        tx = self.send_request(request, peer, on_response)
        try:
            return await asyncio.wait_for(answered, ANSWER_TIMEOUT_S)
        finally:
            self.forget(tx)


async def register(
    edge: LoadEdge,
    registrar: tuple[str, int],
    extension: str,
    password: str,
    expires: int = REGISTER_EXPIRES_S,
) -> Response:
    """REGISTER ``extension`` with digest authentication (RFC 3261 §10.2, §22.2);
    ``expires`` 0 removes our binding (§10.2.2)."""
    host, port = registrar
    uri, peer = f"sip:{host}:{port}", Peer(host, port, "UDP")
    aor, contact = f"<sip:{extension}@{host}>", f"<sip:{extension}@{edge.host}:{edge.port}>"
    call_id = new_call_id(edge.rng, edge.host)  # one Call-ID for the registration (§10.2)
    expires_header = ("Expires", str(expires))

    async def send(cseq: int, headers: list[tuple[str, str]]) -> Response:
        return await edge.request(
            "REGISTER", uri, peer, aor=aor, call_id=call_id, cseq=cseq, contact=contact,
            headers=headers,
        )  # fmt: skip

    response = await send(1, [expires_header])
    challenge = response.headers.get("www-authenticate")
    if response.status != 401 or challenge is None:
        return response
    authorization = _authorization(parse_digest(challenge), "REGISTER", uri, extension, password)
    headers = [expires_header, ("Authorization", authorization)]
    return await send(2, headers)


def _authorization(challenge: dict[str, str], method: str, uri: str, user: str, pw: str) -> str:
    algorithm = challenge.get("algorithm", "MD5")
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    qop = "auth" if "auth" in challenge.get("qop", "").split(",") else None
    cnonce, nc = f"{random.getrandbits(64):016x}", "00000001"
    ha1 = compute_ha1(algorithm, user, realm, pw)
    digest = digest_response(
        algorithm=algorithm, ha1=ha1, nonce=nonce, method=method, uri=uri, qop=qop, nc=nc,
        cnonce=cnonce,
    )  # fmt: skip
    parts = [
        f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
        f'response="{digest}"', f"algorithm={algorithm}",
    ]  # fmt: skip
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


class RtpPort(asyncio.DatagramProtocol):
    """One call's RTP socket: sends digits and audio, notices the agent's voice."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.remote: tuple[str, int] | None = None
        self.received = 0
        self.heard_agent = asyncio.Event()
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.payload_type = 0
        self._talking: asyncio.TimerHandle | None = None

    @classmethod
    async def open(cls, host: str) -> RtpPort:
        port = cls(host)
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: port, local_addr=(host, 0))
        return port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.port = int(self.transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        if not self.heard_agent.is_set() and data.find(MAGIC, 12, 80) >= 0:
            self.heard_agent.set()

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable after the far end closed its port: nothing to do

    def local(self) -> LocalMedia:
        return LocalMedia(address=self.host, port=self.port, username="loadtest")

    def connect(self, media: Negotiated) -> None:
        self.remote = (media.remote_address, media.remote_port)
        self.payload_type = media.payload_type

    def _send(self, packet: RtpPacket) -> None:
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(packet.serialize(), self.remote)

    def send_digit(self, digit: str, payload_type: int) -> float:
        """Send one RFC 4733 event (§2.5) on its 20 ms schedule; returns its length (s)."""
        loop = asyncio.get_running_loop()
        packets = dtmf_packets(
            digit,
            payload_type=payload_type,
            ssrc=self.ssrc,
            sequence=self.sequence,
            timestamp=self.timestamp,
        )
        for offset, packet in packets:
            loop.call_later(offset / 8000, self._send, packet)
        self.sequence = (self.sequence + len(packets)) & 0xFFFF
        last = packets[-1][0]
        self.timestamp = (self.timestamp + last + FRAME) & 0xFFFFFFFF
        return last / 8000

    def talk(self, every_s: float) -> None:
        """Send a marked G.711 frame every ``every_s`` (sparser than 50/s: the load test
        needs proof the bridge relays audio, not a voice; the service's relay cost per
        packet is measured elsewhere)."""
        payload = MAGIC + b"\xff" * (FRAME - len(MAGIC))
        packet = RtpPacket(
            payload_type=self.payload_type,
            sequence=self.sequence,
            timestamp=self.timestamp,
            ssrc=self.ssrc,
            payload=payload,
        )
        self._send(packet)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + int(every_s * 8000)) & 0xFFFFFFFF
        self._talking = asyncio.get_running_loop().call_later(every_s, self.talk, every_s)

    def close(self) -> None:
        if self._talking is not None:
            self._talking.cancel()
            self._talking = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None
