"""A known caller's contact is queued inside the INVITE's handling: no task, no await.

`CallDriver` asks the centre to create the contact at once when it can
(`RouterCentre.create_contact_now`: this node routes and the B2BUA's lookup of the
caller is fresh). A cold caller's set-up awaits its lookup, so its call (and contact)
comes after on_invite returns. Either way the contact, the router's events and the
call's record are the same.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from ivr.sip.actions import Peer
from ivr.sip.message import Response, parse_message
from ivr.transport import run
from ringway.app import ServiceBundle, build
from ringway.config import load_config
from ringway.telephony import TelephonySettings

FLOWS = Path(__file__).resolve().parents[2] / "benchmarks" / "flows"
KNOWN = "+447700900456"  # demo customer cust-1002
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\n"
)


def request(method: str, port: int, me: int, call_id: str, to_tag: str = "") -> bytes:
    cseq = 2 if method == "BYE" else 1
    tag = f";tag={to_tag}" if to_tag else ""
    body = SDP if method == "INVITE" else ""
    lines = [
        f"{method} sip:service@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-{call_id}-{method}",
        "Max-Forwards: 70",
        f"From: <sip:{KNOWN}@127.0.0.1:{me}>;tag=from-{call_id}",
        f"To: <sip:service@127.0.0.1:{port}>{tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:caller@127.0.0.1:{me}>",
        *(["Content-Type: application/sdp"] if body else []),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def centre(tmp_path: Path) -> ServiceBundle:
    """The router path's centre (benchmarks/flows): one queue, no agent, queued at once."""
    config = tmp_path / "centre.yaml"
    text = (FLOWS / "cps_centre.yaml").read_text()
    config.write_text(text.replace("{data_dir}", str(tmp_path / "data")))
    settings = TelephonySettings(host="127.0.0.1", port=0, flows=FLOWS / "cps_queue.yaml")
    return build(load_config(config), {}, sip=settings)


async def answer(sock: socket.socket) -> Response:
    loop = asyncio.get_running_loop()
    while True:
        message = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
        assert isinstance(message, Response)
        if message.status >= 200:
            return message


async def call(bundle: ServiceBundle, sock: socket.socket, call_id: str) -> str | None:
    """INVITE into the edge; the contact id the call had as on_invite returned; then the
    caller's ACK and BYE, once it waits in the queue."""
    telephony = bundle.telephony
    assert telephony is not None
    me = sock.getsockname()[1]
    peer = Peer("127.0.0.1", me, "UDP")
    loop = asyncio.get_running_loop()
    invite = request("INVITE", telephony.port, me, call_id)
    telephony.edge.on_data(invite, peer, loop.time())
    driver = telephony.b2bua.drivers.get(call_id)
    queued_at_once = None if driver is None else driver.contact_id
    ok = await answer(sock)
    assert ok.status == 200
    tag = ok.to_tag or ""
    telephony.edge.on_data(request("ACK", telephony.port, me, call_id, tag), peer, loop.time())
    for _ in range(200):  # until it waits in the queue (the cold caller: its task)
        if call_id in {c.attributes.get("sip_call_id") for c in waiting(bundle)}:
            break
        await asyncio.sleep(0.01)
    telephony.edge.on_data(request("BYE", telephony.port, me, call_id, tag), peer, loop.time())
    bye = await answer(sock)
    assert bye.status == 200
    return queued_at_once


def waiting(bundle: ServiceBundle) -> list[Any]:
    return list(bundle.service.router.waiting("cps"))


def test_a_known_caller_is_queued_before_on_invite_returns(
    tmp_path: Path,
) -> None:
    bundle = centre(tmp_path)

    async def main() -> None:
        app = bundle.app
        async with app.router.lifespan_context(app):
            telephony = bundle.telephony
            assert telephony is not None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sock.setblocking(False)
                me = sock.getsockname()[1]
                cold = await call(bundle, sock, "cold-1")  # the CRM's cache learns it
                warm = await call(bundle, sock, "warm-1")
                await asyncio.sleep(0.05)
            assert cold is None  # its set-up awaited the lookup: no call yet
            assert warm is not None and warm.startswith("c-")  # created inside it
            records = {r["call_id"]: r for r in telephony.centre.cdrs}
            router = bundle.service.router
            for call_id in ("cold-1", "warm-1"):
                record = records[call_id]
                assert record["outcome"] == "abandoned_in_queue", record
                assert record["customer_id"] == "cust-1002"
                contact = router.store.get_contact(record["contact_id"])
                assert contact is not None
                assert contact.status.value == "abandoned"
                assert contact.customer_id == "cust-1002" and contact.tier is not None
                assert contact.origin == f"sip:{KNOWN}@127.0.0.1:{me}" and contact.queue == "cps"
                assert contact.attributes["sip_call_id"] == call_id
                assert contact.attributes["pop"]["customer_id"] == "cust-1002"
                kinds = [
                    e.kind
                    for e in router.store.events.read(0, 10_000)
                    if getattr(e, "contact_id", None) == contact.id
                ]
                assert kinds == ["contact_queued", "contact_abandoned"]
                timeline = [e["event"] for e in record["events"]]
                assert timeline == ["contact_queued", "call_ended"], timeline
            assert records["warm-1"]["contact_id"] == warm
            # the same counters as the awaited path: one lookup counted per contact
            lookups = bundle.service.metrics._counts.lookups
            assert sum(count.value for count in lookups.values()) == 2

    run(main())
