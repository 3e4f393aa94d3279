"""10,000 mutated datagrams and 300 mutated TCP messages at a running edge, then real calls.

The contract (RFC 3261 §16.3/§21.4.1 as the parser applies it, §18.3 for
streams): a request whose top Via can carry a response gets exactly the status
the parser names (400, or 413/416/505); anything else -- responses, junk, a
request without a usable Via -- is dropped without a word; nothing crashes the
process. Afterwards sipp's uac still completes its calls and OPTIONS still
gets 200, over UDP and over TCP.

The mutations are seeded (`random.Random(SEED)`): the captured sipp messages
of tests/sip/fixtures with byte flips, truncations, inserted CR/LF/NUL/UTF-8
junk, dropped, duplicated and swapped header lines, absurd Content-Length, and
plain random bytes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from pathlib import Path

import pytest
from peer_kit import SIPP, needs_sipp
from sipedge_kit import arun, running_edge, sipp, udp_client

from ivr.edge import SipEdge
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, parse_message

pytestmark = needs_sipp

SEED = 20261206
UDP_MESSAGES = 10_000
TCP_MESSAGES = 300
BATCH = 50
FIXTURES = Path(__file__).parent.parent / "sip" / "fixtures"
SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*/*.sip")) if "invalid" not in p.parts]
JUNK = [b"\r", b"\n", b"\r\n", b"\x00", b" ", b":", b";", b",", b'"', b"<", b">", b"\xff\xfe",
        "é".encode(), b"\r\n\r\n", b"\r\n ", b"SIP/2.0", b"z9hG4bK"]  # fmt: skip
MARK = re.compile(rb"z9hG4bKstorm(\d+)x")


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if op == 0 and out:  # flip a byte
            out[min(at, len(out) - 1)] ^= rng.randint(1, 255)
        elif op == 1:  # cut short
            del out[at:]
        elif op == 2:  # insert junk
            out[at:at] = rng.choice(JUNK)
        elif op in (3, 4, 5):  # drop, duplicate or swap header lines
            lines = bytes(out).split(b"\r\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == 3:
                del lines[i]
            elif op == 4:
                lines.insert(i, lines[j])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            out = bytearray(b"\r\n".join(lines))
        elif op == 6:  # absurd Content-Length
            length = rng.choice([b"-1", b"99999999", b"1e3", b"", b"0x10", b"7 7"])
            out = bytearray(
                re.sub(
                    rb"(?i)(content-length|l) *:[^\r]*",
                    b"Content-Length: " + length,
                    bytes(out),
                    count=1,
                )
            )
        else:  # random bytes
            out = bytearray(rng.randbytes(rng.randint(0, 300)))
    return bytes(out)


def marked(data: bytes, index: int) -> bytes:
    """A branch no other example has: an intact message is not a retransmission (§17.2.3)."""
    return data.replace(b"z9hG4bK", b"z9hG4bKstorm%dx" % index)  # every Via a 400 may copy


def verdict(data: bytes, *, stream: bool = False) -> tuple[int | None, bool]:
    """The parser's verdict -- a status to answer with, 0 for a valid request, None for
    silence -- and whether an answer would carry this example's mark (in a Via it copies)."""
    try:
        message = parse_message(data, stream=stream)
    except SipParseError as exc:
        vias = exc.headers.get_all("via") if exc.headers is not None else []
        status = exc.status if exc.can_respond else None
    else:
        vias = message.headers.get_all("via")
        status = 0 if isinstance(message, Request) and message.method != "ACK" else None
    return status, any(MARK.search(v.encode()) for v in vias)


def storm(rng: random.Random, count: int) -> list[bytes]:
    return [marked(mutate(rng, rng.choice(SEEDS)), i) for i in range(count)]


async def udp_storm(edge: SipEdge, messages: list[bytes]) -> dict[int, list[int]]:
    """Send in batches, each closed by an OPTIONS probe; statuses seen per example."""
    seen: dict[int, list[int]] = {}
    async with udp_client() as peer:
        for start in range(0, len(messages), BATCH):
            for data in messages[start : start + BATCH]:
                if data:
                    peer.send(data, edge.port)
            probe = marked(SEEDS_OPTIONS, 1_000_000 + start)
            peer.send(probe, edge.port)
            while True:  # the edge answers in order: the probe's 200 closes the batch
                reply = await peer.recv(5.0)
                found = MARK.search(reply)
                if found is None:
                    continue
                index = int(found.group(1))
                if index == 1_000_000 + start:
                    assert reply.startswith(b"SIP/2.0 200 ")
                    break
                status = reply.split(b" ", 2)[1]
                seen.setdefault(index, []).append(int(status))
    return seen


SEEDS_OPTIONS = (
    b"OPTIONS sip:ringway@127.0.0.1 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK;rport\r\nMax-Forwards: 70\r\n"
    b"From: <sip:a@test>;tag=1\r\nTo: <sip:ringway@127.0.0.1>\r\nCall-ID: probe@test\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


async def tcp_one(port: int, data: bytes) -> list[bytes]:
    """One message on its own connection, then an OPTIONS; what came back before close/probe."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    probe = marked(SEEDS_OPTIONS.replace(b"/UDP", b"/TCP"), 2_000_000)
    writer.write(data + probe)
    replies: list[bytes] = []
    try:
        while True:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
            if b"z9hG4bKstorm2000000x" in head:
                break
            replies.append(head)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        pass  # framing lost: the edge closes (§18.3); or the probe became the body
    finally:
        writer.close()
        await writer.wait_closed()
    return replies


def check_udp(messages: list[bytes], seen: dict[int, list[int]]) -> dict[int, int]:
    outcomes: dict[int, int] = {}
    for index, data in enumerate(messages):
        expected, matchable = verdict(data)
        statuses = seen.get(index, [])
        if not matchable or (expected == 0 and b"INVITE" in data[:7]):
            continue  # unmatchable, or a call whose 2xx retransmissions trail into later batches
        if expected is None:
            assert statuses == [], (index, data, statuses)
        elif expected > 0:
            assert statuses == [expected], (index, data, statuses)
        else:
            assert statuses and all(s >= 100 for s in statuses), (index, data, statuses)
        key = expected if expected is not None else -1
        outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


def test_10000_mutated_datagrams_and_300_tcp_messages_then_calls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    udp_messages = storm(rng, UDP_MESSAGES)
    tcp_messages = storm(rng, TCP_MESSAGES)

    async def main() -> None:
        # Shedding off: the storm shares the edge's loop, which the overload
        # probe would see as saturation (test_sipedge_edge covers shedding).
        async with running_edge(max_lag=5.0, max_busy=1.1) as edge:
            seen = await udp_storm(edge, udp_messages)
            outcomes = check_udp(udp_messages, seen)
            assert outcomes.get(400, 0) >= 1000  # most mutations break a request it can answer
            assert outcomes.get(-1, 0) >= 1000  # and many leave nothing to answer
            assert outcomes.get(0, 0) >= 100  # some stay valid requests
            gate = asyncio.Semaphore(20)

            async def one(data: bytes) -> list[bytes]:
                async with gate:
                    return await tcp_one(edge.port, data)

            replies = await asyncio.gather(*(one(d) for d in tcp_messages))
            answered = [r for rs in replies for r in rs]
            assert all(r.startswith(b"SIP/2.0 ") for r in answered)
            assert any(r.startswith(b"SIP/2.0 400 ") for r in answered)
            for transport in ("u1", "t1"):  # the process keeps serving calls
                done = await sipp(edge, tmp_path, "-sn", "uac", "-t", transport, "-m", "20",
                                  "-r", "20", "-d", "100", timeout=30)  # fmt: skip
                assert done.code == 0, done.output[-2000:]
                assert done.stat("Successful call") == 20
            assert edge.counters["shed"] == 0

    assert SIPP is not None
    with caplog.at_level(logging.ERROR):
        arun(main())
    # An exception escaping a protocol callback is only logged by asyncio: none may.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
