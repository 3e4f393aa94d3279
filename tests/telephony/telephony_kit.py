"""A whole Ringway (router, CRM, REST, SIP edge, B2BUA) in this loop, and sipp peers.

The service runs on the demo configuration (demo customers, queues, agents,
the demo IVR) with a private data dir, no SMTP, free SIP and RTP ports and a
short offer timeout. The API is driven over ASGI; SIP peers are real sipp
processes on free ports: callers (UAC) and agent phones that REGISTER with
digest auth and then answer (UAS).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from peer_kit import (
    AWAIT_BYE,
    IN_DIALOG_REPLY,
    RECV_INVITE_KEEP_FROM,
    REGISTER_XML,
    SIPP,
    answer,
    free_media_port,
    free_port,
    reply,
    scenario,
)

from ringway.app import ServiceBundle, build
from ringway.config import demo_config_path, load_config_text
from ringway.telephony import TelephonySettings

PCAPS = Path("/usr/share/sip-tester")
JAMES = "+447700900456"  # demo customer cust-1002, silver: gets the menu
BOB_EXT, BOB_PW = "1002", "bob-phone-secret"  # bob: billing 7
SAM_EXT, SAM_PW = "2001", "sam-phone-secret"  # the supervisor's phone (monitoring)
ENV = {f"RINGWAY_SIP_PASSWORD_{BOB_EXT}": BOB_PW, f"RINGWAY_SIP_PASSWORD_{SAM_EXT}": SAM_PW}


def demo_config(tmp_path: Path, offer_timeout_s: float, record_billing: bool = False) -> Any:
    text = demo_config_text(tmp_path, offer_timeout_s)
    if record_billing:  # docs/recording.md: the queue records, with a notice first
        billing = "  - name: billing\n    channel: voice\n"
        assert billing in text
        text = text.replace(
            billing, billing + "    recording: {enabled: true, announcement: goodbye}\n"
        )
    return load_config_text(text, "demo-test.yaml")


def demo_config_text(tmp_path: Path, offer_timeout_s: float) -> str:
    """The demo configuration with a private data dir, in-memory CRM, no SMTP intake."""
    text = demo_config_path().read_text()
    text = text.replace("offer_timeout_s: 15", f"offer_timeout_s: {offer_timeout_s}")
    text = text.replace("  data_dir: var\n", f'  data_dir: "{tmp_path}"\n')
    text = text.replace("  smtp_port: 2525", '  customer_store: "memory://"\n  smtp_port: null #')
    return text


@dataclass
class Centre:
    bundle: ServiceBundle
    client: httpx.AsyncClient

    @property
    def sip_port(self) -> int:
        assert self.bundle.telephony is not None
        return self.bundle.telephony.port

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bundle.admin_token}"}

    async def get(self, path: str) -> Any:
        response = await self.client.get(f"/api/v1{path}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.asynccontextmanager
async def running_centre(
    tmp_path: Path,
    *,
    offer_timeout_s: float = 3.0,
    announce_every_s: float = 1.0,
    record_billing: bool = False,
) -> AsyncIterator[Centre]:
    config = demo_config(tmp_path, offer_timeout_s, record_billing)
    settings = TelephonySettings(host="127.0.0.1", port=0, announce_every_s=announce_every_s)
    bundle = build(config, ENV, sip=settings)
    app = bundle.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ringway.test") as c:
            yield Centre(bundle, c)


@dataclass
class SippResult:
    code: int
    output: str


class Sipp:
    """One sipp process; `result()` waits for it (always killed at the end)."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path, timeout: float) -> None:
        self.proc = proc
        self.log = log
        self.timeout = timeout

    async def result(self) -> SippResult:
        try:
            out, _ = await asyncio.wait_for(self.proc.communicate(), self.timeout + 10)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        text = out.decode(errors="replace")
        self.log.write_text(text)
        assert self.proc.returncode is not None
        return SippResult(self.proc.returncode, text)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def start_sipp(
    tmp: Path,
    name: str,
    scenario: str,
    *args: str,
    port: int,
    timeout: float = 30.0,
    calls: int = 1,
) -> Sipp:
    assert SIPP is not None
    xml = tmp / f"{name}.xml"
    xml.write_text(scenario)
    command = [
        SIPP, *args, "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port),
        "-mi", "127.0.0.1", "-mp", str(free_media_port()), "-m", str(calls),
        "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-trace_err", "-error_file", str(tmp / f"{name}_err.log"),
        "-trace_msg", "-message_file", str(tmp / f"{name}_msg.log"),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    return Sipp(proc, tmp / f"{name}_stdout.log", timeout)


async def register_phone(
    tmp: Path, centre: Centre, port: int, extension: str = BOB_EXT, password: str = BOB_PW
) -> None:
    """A phone registers its extension (bob's 1002 by default) with digest auth."""
    target = f"127.0.0.1:{centre.sip_port}"
    sipp = await start_sipp(
        tmp, f"register{extension}", REGISTER_XML, target, "-s", extension, "-au", extension,
        "-ap", password, port=port, timeout=10,
    )  # fmt: skip
    result = await sipp.result()
    assert result.code == 0, result.output[-2000:]


async def answering_phone(
    tmp: Path, port: int, scenario: str, timeout: float = 30, name: str = "phone"
) -> Sipp:
    """A phone as a UAS on its registered port, echoing RTP back."""
    return await start_sipp(tmp, name, scenario, "-rtp_echo", port=port, timeout=timeout)


async def caller(
    tmp: Path, centre: Centre, scenario: str, timeout: float = 30, transport: str = "u1"
) -> Sipp:
    """A sipp UAC calling the demo number over UDP (`u1`) or TCP (`t1`)."""
    target = f"127.0.0.1:{centre.sip_port}"
    return await start_sipp(
        tmp, "caller", scenario, target, "-s", "18005550101", "-t", transport,
        port=free_port(), timeout=timeout,
    )  # fmt: skip


_INVITE = """  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "James" <sip:CLI@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      P-Asserted-Identity: <sip:CLI@[local_ip]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "James" <sip:CLI@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
"""

_BYE = """  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "James" <sip:CLI@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200" crlf="true"/>
"""


_INFO = """  <send retrans="500"><![CDATA[
      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "James" <sip:CLI@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=DIGIT
      Duration=160

  ]]></send>
  <recv response="200"/>
"""


def caller_xml(
    *,
    cli: str = JAMES,
    digit: str | None = "2",
    info: bool = False,
    media: str = "",
    hold_ms: int,
    await_bye: bool = False,
) -> str:
    """Call, send `digit` as RFC 4733 events (sipp's pcap) or as a SIP INFO
    (application/dtmf-relay), wait, maybe stream audio, hang up."""
    steps = '  <pause milliseconds="1500"/>\n'
    if digit is not None and info:
        steps += _INFO.replace("DIGIT", digit)
    elif digit is not None:
        pcap = PCAPS / f"dtmf_2833_{digit}.pcap"
        steps += f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
    steps += f'  <pause milliseconds="{hold_ms}"/>\n'
    if media:
        steps += f'  <nop><action><exec rtp_stream="{media},1,0"/></action></nop>\n'
        steps += '  <pause milliseconds="2500"/>\n'
    bye = _BYE.replace("CSeq: 2 BYE", "CSeq: 3 BYE") if info else _BYE
    if await_bye:  # Ringway hangs up (shutdown, routing refused, agent's BYE)
        bye = AWAIT_BYE
    body = (_INVITE + steps + bye).replace("CLI", cli)
    return scenario("caller", body)


ANSWERING_PHONE_XML = scenario(
    "agent phone answers",
    '  <recv request="INVITE" crlf="true"/>\n'
    + reply("180 Ringing")
    + answer()
    + '  <recv request="ACK" rtd="true" crlf="true"/>\n  <recv request="BYE"/>\n'
    + reply("200 OK"),
)

RINGING_PHONE_XML = scenario(
    "agent phone rings and is cancelled",
    """  <recv request="INVITE" crlf="true">
    <action><ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="1"/></action>
  </recv>
"""
    + reply("180 Ringing")
    + '  <recv request="CANCEL"/>\n'
    + reply("200 OK")
    + """  <send><![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq:[$1]
      Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
""",
)

BUSY_PHONE_XML = scenario(
    "agent phone is busy",
    '  <recv request="INVITE" crlf="true"/>\n'
    + reply("486 Busy Here")
    + '  <recv request="ACK"/>\n',
)

_IN_DIALOG_OK = f"""  <send><![CDATA[
      SIP/2.0 200 OK
{IN_DIALOG_REPLY}
  ]]></send>
"""

_ACCEPTED = '  <recv response="202"/>\n  <recv request="NOTIFY"/>\n' + _IN_DIALOG_OK

TRANSFERRING_PHONE_XML = scenario(
    "agent phone answers, then blind-transfers to a queue with REFER",
    RECV_INVITE_KEEP_FROM
    + answer()
    + """  <recv request="ACK" crlf="true"/>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
      REFER sip:ringway@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1002@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To:[$1]
      Call-ID: [call_id]
      CSeq: 1 REFER
      Contact: <sip:1002@[local_ip]:[local_port]>
      Refer-To: <sip:QUEUE@[remote_ip]>
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
"""
    + _ACCEPTED
    + '  <recv request="BYE"/>\n'
    + _IN_DIALOG_OK,
)


async def transferring_phone(
    tmp: Path, centre: Centre, port: int, queue: str, refused: int | None = None
) -> Sipp:
    """The phone REFERs the call to `queue` (or an extension): sipp needs the edge as
    its remote host. `refused`: expect that status instead of 202 + NOTIFY."""
    scenario = TRANSFERRING_PHONE_XML.replace("QUEUE", queue)
    if refused is not None:
        scenario = scenario.replace(_ACCEPTED, f'  <recv response="{refused}"/>\n')
    target = f"127.0.0.1:{centre.sip_port}"
    return await start_sipp(tmp, "phone", scenario, target, port=port, timeout=30)


BARESIP = shutil.which("baresip")
needs_baresip = pytest.mark.skipif(BARESIP is None, reason="baresip (baresip-core) missing")

BARESIP_CONFIG = """poll_method		epoll
sip_listen		127.0.0.1:{sip}
net_interface		127.0.0.1
audio_player		aubridge,nil
audio_alert		aubridge,nil
audio_source		ausine,440
ausrc_srate		48000
ausrc_channels		2
rtp_ports		{rtp}-{rtp_end}
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aubridge.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
"""


@contextlib.asynccontextmanager
async def baresip_phone(tmp: Path, centre: Centre) -> AsyncIterator[Path]:
    """baresip headless as bob's phone: registers 1002 with digest, auto-answers,
    sends a 440 Hz tone as PCMU (research notes §7). Yields its log file."""
    assert BARESIP is not None
    home = tmp / "baresip"
    home.mkdir()
    rtp = free_port()
    (home / "config").write_text(BARESIP_CONFIG.format(sip=free_port(), rtp=rtp, rtp_end=rtp + 10))
    account = (
        f"<sip:{BOB_EXT}@127.0.0.1:{centre.sip_port};transport=udp>;auth_pass={BOB_PW};"
        "regint=60;answermode=auto;dtmfmode=rtpevent;audio_codecs=PCMU"
    )
    (home / "accounts").write_text(account + "\n")
    (home / "contacts").write_text("")
    log = tmp / "baresip.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(home), "-s", stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        try:
            yield log
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
