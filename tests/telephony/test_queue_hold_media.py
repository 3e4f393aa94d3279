"""``queues[].hold``: a queue whose callers hear nothing from us sends them no RTP.

Real peers: sipp places the calls, the real service answers them, and the caller's
SDP names a UDP socket this test owns, so every RTP packet the service sends the
caller is counted here, not taken from the service's own account. The IVR routes
at once (no prompts): "quiet" to billing, which has ``hold: {music: false,
announcements: false}``; any other number to sales, which has the defaults.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from peer_kit import free_port, needs_sipp, wait_for
from telephony_kit import ENV, Centre, caller_xml, demo_config_text, start_sipp

from ivr.transport import run
from ringway.app import build
from ringway.config import RingwayConfig, load_config_text
from ringway.telephony import TelephonySettings

pytestmark = needs_sipp

FLOWS = """
entries:
  quiet: to_billing
  "*": to_sales
flows:
  to_billing: {start: route, nodes: {route: {type: route, queue: billing}}}
  to_sales: {start: route, nodes: {route: {type: route, queue: sales}}}
"""
HOLD_MS = 2500


def config(tmp: Path) -> RingwayConfig:
    text = demo_config_text(tmp, offer_timeout_s=3.0)
    billing = "  - name: billing\n    channel: voice\n"
    assert billing in text
    silent = "    hold: {music: false, announcements: false}\n"
    return load_config_text(text.replace(billing, billing + silent), "hold-test.yaml")


class CallersMedia(asyncio.DatagramProtocol):
    """The caller's RTP address: counts what arrives, as it arrives (a socket read
    only at the end could overflow its buffer and undercount)."""

    def __init__(self) -> None:
        self.packets = 0
        self.payload_types: set[int] = set()
        self.versions: set[int] = set()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.packets += 1
        self.versions.add(data[0] >> 6)
        self.payload_types.add(data[1] & 0x7F)


async def call_and_count_rtp(tmp: Path, centre: Centre, dialed: str) -> CallersMedia:
    """One call to ``dialed``, queued for HOLD_MS; what reached the caller's media address."""
    loop = asyncio.get_running_loop()
    transport, media = await loop.create_datagram_endpoint(
        CallersMedia, local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    scenario = caller_xml(digit=None, hold_ms=HOLD_MS).replace("[media_port]", str(port))
    target = f"127.0.0.1:{centre.sip_port}"
    try:
        sipp = await start_sipp(tmp, f"caller_{dialed}", scenario, target, "-s", dialed,
                                port=free_port(), timeout=20)  # fmt: skip
        result = await sipp.result()
        assert result.code == 0, result.output[-3000:]
        await asyncio.sleep(0.1)  # the last packets sent before the BYE's 200 are read
    finally:
        transport.close()
    return media


def test_a_silent_queue_sends_its_callers_no_rtp_and_a_normal_queue_plays(
    tmp_path: Path,
) -> None:
    flows = tmp_path / "flows.yaml"
    flows.write_text(FLOWS)
    settings = TelephonySettings(host="127.0.0.1", port=0, flows=flows, announce_every_s=1.0)
    bundle = build(config(tmp_path), ENV, sip=settings)

    async def main() -> None:
        import httpx

        app = bundle.app
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                centre = Centre(bundle, client)
                telephony = bundle.telephony
                assert telephony is not None
                quiet = await call_and_count_rtp(tmp_path, centre, "quiet")
                await wait_for(lambda: len(telephony.centre.cdrs) == 1, what="the first CDR")
                normal = await call_and_count_rtp(tmp_path, centre, "18005550101")
                await wait_for(lambda: len(telephony.centre.cdrs) == 2, what="the second CDR")
                silent_cdr, music_cdr = telephony.centre.cdrs
        assert quiet.packets == 0
        assert (silent_cdr["queue"], silent_cdr["outcome"]) == ("billing", "abandoned_in_queue")
        assert silent_cdr["media"]["played_to_caller"] == 0
        assert silent_cdr["announcements"] == 0
        assert silent_cdr["hold"] == {"music": False, "announcements": False}
        # The queue with the defaults: music and announcements, 50 packets a second of
        # PCMU (payload type 0, what the caller offered) for the time the call waited.
        assert normal.packets >= HOLD_MS // 20, normal.packets
        assert (normal.versions, normal.payload_types) == ({2}, {0})  # RFC 3550 §5.1
        assert music_cdr["queue"] == "sales" and music_cdr["announcements"] >= 2
        assert music_cdr["media"]["played_to_caller"] == normal.packets

    run(main())
