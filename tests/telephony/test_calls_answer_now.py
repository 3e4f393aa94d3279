"""A caller the customer store's cache knows is answered at once: 200 alone, no 180.

`B2bua.on_invite` answers before it returns when nothing needs waiting for (the
phone cache has the number): the edge then sends the 200 without a provisional
(RFC 3261 §8.2.6.1 asks for one only from a UAS that will not answer within
200 ms). A number the cache has not seen yet still gets 180 while it is read.
Both calls run the IVR with the customer's record all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from ivr.flows import FlowSet
from ivr.sip.builders import make_response
from ivr.sip.message import Response, parse_message
from ivr.transport import run
from ringway.app import ServiceBundle, build
from ringway.config import demo_config_path, load_config_text
from ringway.telephony import TelephonySettings

JAMES = "+447700900456"  # demo customer cust-1002
SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0\r\n"
)


def request(method: str, port: int, me: int, call_id: str, to_tag: str = "") -> bytes:
    cseq = 1 if method in ("INVITE", "ACK") else 2
    tag = f";tag={to_tag}" if to_tag else ""
    body = SDP if method == "INVITE" else b""
    lines = [
        f"{method} sip:18005550101@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{call_id}{method};rport",
        "Max-Forwards: 70",
        f"From: <sip:{JAMES}@127.0.0.1>;tag=caller-{call_id}",
        f"To: <sip:18005550101@127.0.0.1>{tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:caller@127.0.0.1:{me}>",
        *(["Content-Type: application/sdp"] if body else []),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def place_call(sock: socket.socket, port: int, call_id: str) -> list[int]:
    """INVITE until the 200, ACK, BYE until its 200: the INVITE's statuses in order."""
    loop = asyncio.get_running_loop()
    me = sock.getsockname()[1]
    sock.sendto(request("INVITE", port, me, call_id), ("127.0.0.1", port))
    statuses: list[int] = []
    while True:
        answer = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
        assert isinstance(answer, Response)
        statuses.append(answer.status)
        if answer.status >= 200:
            break
    to_tag = answer.to_tag or ""
    sock.sendto(request("ACK", port, me, call_id, to_tag), ("127.0.0.1", port))
    await asyncio.sleep(0.1)  # in the IVR, then the queue
    sock.sendto(request("BYE", port, me, call_id, to_tag), ("127.0.0.1", port))
    while True:
        bye = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
        assert isinstance(bye, Response)
        if bye.cseq.method == "BYE":
            assert bye.status == 200
            return statuses


def sqlite_crm_centre(tmp_path: Path, flows: Path | None = None) -> ServiceBundle:
    """The demo centre with its SQLite customer store (whose phone cache this is about)."""
    text = demo_config_path().read_text()
    text = text.replace("  data_dir: var\n", f'  data_dir: "{tmp_path}"\n')
    text = text.replace("  smtp_port: 2525", "  smtp_port: null #")  # the SQLite CRM stays
    config = load_config_text(text, "demo-answer-now.yaml")
    return build(config, {}, sip=TelephonySettings(host="127.0.0.1", port=0, flows=flows))


@contextlib.contextmanager
def caller_socket() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield sock


def test_a_known_caller_gets_200_alone_and_a_cold_one_180_first(tmp_path: Path) -> None:
    bundle = sqlite_crm_centre(tmp_path)

    async def main() -> None:
        app = bundle.app
        async with app.router.lifespan_context(app):
            assert bundle.telephony is not None
            port = bundle.telephony.port
            with caller_socket() as sock:
                cold = await place_call(sock, port, "cold1")
                warm = await place_call(sock, port, "warm1")
            assert cold[0] == 180 and cold[-1] == 200  # read from the store, ringing
            assert warm == [200]  # the cache knew the number: answered at once
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {bundle.admin_token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                records = [
                    (await client.get(f"/api/v1/calls/{call_id}", headers=headers)).json()
                    for call_id in ("cold1", "warm1")
                ]
            # both ran the demo IVR for the known customer (its menu, hung up in it)
            for record in records:
                assert record["customer_id"] == "cust-1002", record
                assert record["outcome"] == "abandoned_in_ivr", record
                assert record["started_at"] <= record["answered_at"] <= record["ended_at"]

    run(main())


HANG_UP_AT_ONCE = """\
entries:
  "*": main
flows:
  main:
    start: bye
    nodes:
      bye: {type: hangup, prompts: [], reason: closed}
"""


def test_an_ivr_that_hangs_up_at_once_byes_a_caller_answered_inside_on_invite(
    tmp_path: Path,
) -> None:
    """The set-up runs inside the edge's INVITE handling; an IVR that ends the call there
    and then still gives the caller its 200 first, then our BYE (§15), and a CDR."""
    flows = tmp_path / "hang.yaml"
    flows.write_text(HANG_UP_AT_ONCE)
    bundle = sqlite_crm_centre(tmp_path, flows)

    async def call(sock: socket.socket, port: int, call_id: str) -> list[str]:
        loop = asyncio.get_running_loop()
        me = sock.getsockname()[1]
        sock.sendto(request("INVITE", port, me, call_id), ("127.0.0.1", port))
        seen: list[str] = []
        while "BYE" not in seen:
            message = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
            if isinstance(message, Response):
                seen.append(str(message.status))
                if message.status == 200:
                    ack = request("ACK", port, me, call_id, message.to_tag or "")
                    sock.sendto(ack, ("127.0.0.1", port))
            else:
                seen.append(message.method)
                sock.sendto(bytes(make_response(message, 200)), ("127.0.0.1", port))
        return seen

    async def main() -> None:
        app = bundle.app
        async with app.router.lifespan_context(app):
            assert bundle.telephony is not None
            port = bundle.telephony.port
            with caller_socket() as sock:
                cold = await call(sock, port, "hang-cold")
                warm = await call(sock, port, "hang-warm")
                await asyncio.sleep(0.1)
            assert cold == ["180", "200", "BYE"]
            assert warm == ["200", "BYE"]  # answered inside on_invite, then our BYE
            records = {r["call_id"]: r for r in bundle.telephony.centre.cdrs}
            assert records["hang-warm"]["outcome"] == records["hang-cold"]["outcome"]

    run(main())


def test_a_failed_set_up_is_a_500_on_either_path_and_leaves_no_call(tmp_path: Path) -> None:
    """The IVR cannot start (a broken flow set): the caller gets 500 whether answered
    inside on_invite or after the awaited lookup, and nothing of the call stays."""
    bundle = sqlite_crm_centre(tmp_path)

    class Unreadable(Mapping[str, str]):
        """Entries that fail to read: choosing the call's flow raises."""

        def __getitem__(self, key: str) -> str:
            raise RuntimeError("flow set unreadable")

        def __iter__(self) -> Iterator[str]:
            return iter(())

        def __len__(self) -> int:
            return 0

    async def statuses(sock: socket.socket, port: int, invite: bytes) -> list[int]:
        loop = asyncio.get_running_loop()
        sock.sendto(invite, ("127.0.0.1", port))
        seen: list[int] = []
        while not seen or seen[-1] < 200:
            answer = parse_message(await asyncio.wait_for(loop.sock_recv(sock, 65535), 5))
            assert isinstance(answer, Response)
            seen.append(answer.status)
        return seen

    async def main() -> None:
        app = bundle.app
        async with app.router.lifespan_context(app):
            telephony = bundle.telephony
            assert telephony is not None
            await telephony.service.lookup.lookup_cli(f"sip:{JAMES}@127.0.0.1")  # warm
            # the real centre, choosing from a broken flow set (a compiled
            # RouterCentre's methods cannot be replaced on the instance)
            telephony.centre.flows = FlowSet(
                source="broken", flows=telephony.flows.flows, entries=Unreadable()
            )
            port = telephony.port
            with caller_socket() as sock:
                me = sock.getsockname()[1]
                warm = await statuses(sock, port, request("INVITE", port, me, "broken-warm"))
                # a number the cache has not seen: the awaited path
                cold_invite = request("INVITE", port, me, "broken-cold")
                cold_invite = cold_invite.replace(JAMES.encode(), b"+447700900999")
                cold = await statuses(sock, port, cold_invite)
            assert warm == [500]
            assert cold == [180, 500]
            assert telephony.b2bua.drivers == {} and telephony.b2bua._setups == {}

    run(main())
