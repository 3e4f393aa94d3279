"""What every suite that drives real peers shares: free ports, waiting, sipp and its scenarios.

On ``sys.path`` through pytest's ``pythonpath = ["tests"]`` (pyproject.toml), so the
suites' own kits (telephony_kit, dialer_kit, sipedge_kit, cluster_testkit) and the test
files import it by name instead of keeping their own copies.

The scenario pieces are sipp XML (sipp 3.6, Debian sip-tester). A UAS reply copies the
request's Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2) and adds its To-tag; a
2xx to an INVITE carries a Contact (§12.1.1).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) not installed")


# Ports the tests choose come from below Linux's ephemeral range (32768-60999 by
# default, net.ipv4.ip_local_port_range): Ringway's RTP sockets, resting in their
# pools for up to a minute, and every outgoing connection bind there at random. A
# port checked free in that range could be taken by one of them before the peer
# binds it, and sipp then exits 254 ("Unable to bind ... socket") with no call made.
_CHOSEN = range(20000, 32000)
_pick = random.Random()


def _bindable(kind: socket.SocketKind, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port free on both UDP and TCP right now (SIP listens on both)."""
    while True:
        port = _pick.choice(_CHOSEN)
        if _bindable(socket.SOCK_DGRAM, port) and _bindable(socket.SOCK_STREAM, port):
            return port


def free_media_port() -> int:
    """An even base for sipp's ``-mp``: sipp binds the port (audio) and the port + 2
    (video), and their RTCP neighbours are kept clear as well."""
    while True:
        port = _pick.choice(_CHOSEN) & ~1
        if all(_bindable(socket.SOCK_DGRAM, port + offset) for offset in range(4)):
            return port


async def wait_for(
    predicate: Callable[[], object],
    timeout: float = 15.0,
    what: str = "condition",
    every: float = 0.02,
) -> None:
    """Poll ``predicate`` every ``every`` s until true; fail the test naming ``what``
    after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


def tone_file(tmp: Path, seconds: float) -> Path:
    """Raw 8 kHz μ-law for sipp's rtp_stream (PT 0): a 440 Hz tone."""
    from ivr.media.audio import tone
    from ivr.media.g711 import ENCODERS

    path = tmp / "tone.ulaw"
    path.write_bytes(ENCODERS["PCMU"](tone(440, int(seconds * 1000))))
    return path


def scenario(name: str, body: str) -> str:
    """A whole sipp scenario document around ``body`` (its steps)."""
    head = '<?xml version="1.0" encoding="ISO-8859-1" ?>'
    return f'{head}\n<scenario name="{name}">\n{body}</scenario>\n'


def register_xml(expires: int = 300, final: int = 200) -> str:
    """REGISTER, take the 401 digest challenge, REGISTER again with credentials
    (sipp's ``-au``/``-ap``), expect ``final``."""
    return _REGISTER.replace("EXPIRES", str(expires)).replace("FINAL", str(final))


_REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with digest">
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: EXPIRES
      Content-Length: 0

  ]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      [authentication]
      Max-Forwards: 70
      Expires: EXPIRES
      Content-Length: 0

  ]]></send>
  <recv response="FINAL"/>
</scenario>
"""

REGISTER_XML = register_xml()  # a phone registering for 300 s

# A phone's reply to the request it just received, with its To-tag and Contact.
REPLY_HEAD = """      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
"""

# A reply inside an established dialog: the To already has the tag.
IN_DIALOG_REPLY = """      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
"""


def reply(status: str, head: str = REPLY_HEAD) -> str:
    """A bodiless reply (e.g. ``"180 Ringing"``) to the request just received."""
    return f"""  <send><![CDATA[
      SIP/2.0 {status}
{head}      Content-Length: 0

  ]]></send>
"""


def answer(origin: str = "phone", head: str = REPLY_HEAD) -> str:
    """A 200 with a PCMU SDP answer (``origin``: the o= user), retransmitted until the ACK."""
    return f"""  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
{head}      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o={origin} 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

  ]]></send>
"""


# Wait for the other side's BYE and answer it.
AWAIT_BYE = """  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
"""

# An INVITE recorded so the phone can later send requests in its dialog: `[$1]` is the
# INVITE's From, which becomes the To of the phone's own requests.
RECV_INVITE_KEEP_FROM = """  <recv request="INVITE" crlf="true">
    <action><ereg regexp=".*" search_in="hdr" header="From:" assign_to="1"/></action>
  </recv>
"""


def hang_up(user: str) -> str:
    """The called side's BYE (its From carries its own tag, To is the saved `[$1]`), and the 200."""
    return f"""  <send retrans="500"><![CDATA[
      BYE sip:ringway@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To:[$1]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200"/>
"""
