"""/metrics shows the SIP edge's overload signals, sheds and calls (`ringway.sip_metrics`)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from telephony_kit import Centre, running_centre

from ivr.transport import run

INVITE = (
    "INVITE sip:support@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKmetrics1;rport\r\n"
    "From: <sip:+441632960001@127.0.0.1>;tag=m1\r\nTo: <sip:support@127.0.0.1>\r\n"
    "Call-ID: metrics-shed\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
    "Contact: <sip:caller@127.0.0.1:{me}>\r\nContent-Length: 0\r\n\r\n"
)


async def scrape(centre: Centre) -> dict[str, float]:
    response = await centre.client.get("/metrics", headers=centre.headers)
    assert response.status_code == 200, response.text
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("ringway_sip_"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def final_status(sock: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    while True:
        data = await asyncio.wait_for(loop.sock_recv(sock, 65535), 5.0)
        status = int(data.split(b" ", 2)[1])
        if status >= 200:
            return status


def test_metrics_show_the_edge_idle_then_a_shed_invite(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            idle = await scrape(centre)
            assert idle['ringway_sip_overloads_total{signal="busy"}'] == 0
            assert idle["ringway_sip_shed_total"] == 0
            assert idle["ringway_sip_admit_ratio"] == 1.0
            assert 0 <= idle["ringway_sip_loop_busy_ratio"] < 1
            assert idle["ringway_sip_calls"] == 0
            telephony = centre.bundle.telephony
            assert telephony is not None and telephony.edge.transport is not None
            transport = telephony.edge.transport
            # as after a probe that found overload: a small share admitted for a while
            transport.admit, transport.lagging = 0.02, True
            transport._lagging_until = transport.loop.time() + 60
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sock.setblocking(False)
                me = sock.getsockname()[1]
                invite = INVITE.format(port=centre.sip_port, me=me).encode()
                sock.sendto(invite, ("127.0.0.1", centre.sip_port))
                assert await final_status(sock) == 503
            shed = await scrape(centre)
            assert shed["ringway_sip_shed_total"] == 1
            assert shed["ringway_sip_admit_ratio"] < 1.0
            assert shed["ringway_sip_calls"] == 0  # turned away before any work

    run(main())
