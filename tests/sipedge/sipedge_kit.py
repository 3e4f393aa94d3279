"""Helpers for the SIP edge tests: a running edge, sipp against it, a raw UDP client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import peer_kit
from peer_kit import SIPP, free_port

from ivr.edge import CallHandler, SipEdge
from ivr.transport import run

T = TypeVar("T")
CREDENTIALS = {"1001": "s3cret", "1002": "other"}

SINGLE_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="one request">
  <send retrans="500"><![CDATA[
      METHOD sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:sipp@[local_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>TO_TAG
      Call-ID: [call_id]
      CSeq: 1 METHOD
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="FINAL"/>
</scenario>
"""


def register_xml(final: int) -> str:
    return peer_kit.register_xml(expires=120, final=final)


def single_xml(method: str, final: int, *, to_tag: str = "") -> str:
    tag = f";tag={to_tag}" if to_tag else ""
    return SINGLE_XML.replace("METHOD", method).replace("FINAL", str(final)).replace("TO_TAG", tag)


def arun(main: Coroutine[Any, Any, T]) -> T:
    return run(main)


@contextlib.asynccontextmanager
async def running_edge(handler: CallHandler | None = None, **kwargs: Any) -> AsyncIterator[SipEdge]:
    edge = SipEdge("127.0.0.1", 0, CREDENTIALS, handler=handler, **kwargs)
    await edge.start()
    try:
        yield edge
    finally:
        await edge.stop()


@dataclass
class SippResult:
    code: int
    output: str

    def stat(self, name: str) -> int:
        """A cumulative counter from sipp's final screen ("Successful call", "Failed call")."""
        for line in self.output.splitlines():
            if line.strip().startswith(name):
                return int(line.split("|")[2].split()[0])
        raise AssertionError(f"{name!r} not in sipp output:\n{self.output[-2000:]}")


async def sipp(edge: SipEdge, tmp: Path, *args: str, timeout: float = 20.0) -> SippResult:
    """Run sipp against the edge; logs go to `tmp`; sipp is always killed."""
    assert SIPP is not None
    command = [
        SIPP, f"127.0.0.1:{edge.port}", "-i", "127.0.0.1", "-p", str(free_port()),
        "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-trace_err", "-error_file", str(tmp / "sipp_err.log"),
        "-trace_msg", "-message_file", str(tmp / "sipp_msg.log"),
        *args,
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode(errors="replace")
    (tmp / "sipp_stdout.log").write_text(text)
    assert proc.returncode is not None
    return SippResult(proc.returncode, text)


class UdpClient(asyncio.DatagramProtocol):
    """A raw UDP peer: send bytes, collect what comes back."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.queue.put_nowait(data)

    def send(self, data: bytes, port: int) -> None:
        assert self.transport is not None
        self.transport.sendto(data, ("127.0.0.1", port))

    async def recv(self, timeout: float = 2.0) -> bytes:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def recv_status(self, timeout: float = 2.0, *, skip_provisional: bool = True) -> bytes:
        while True:
            data = await self.recv(timeout)
            if not (skip_provisional and data.startswith(b"SIP/2.0 1")):
                return data


@contextlib.asynccontextmanager
async def udp_client() -> AsyncIterator[UdpClient]:
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(UdpClient, local_addr=("127.0.0.1", 0))
    try:
        yield client
    finally:
        transport.close()
        await asyncio.sleep(0)
