"""A whole Ringway with its SIP edge and live dialer, and sipp as the carrier (UAS).

The service runs the demo configuration plus one outbound queue
(``outbound-sales``, agents with sales >= 3: alice and carol), a private data
dir and free ports. The dialer's trunk is a sipp UAS on a free port that
echoes our RTP back (``-rtp_echo``), so what our side receives is what sipp
got. The wall clock handed to the compliance check starts on a Wednesday at
17:00 UTC (noon in New York, 09:00 in California), inside every US window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from peer_kit import AWAIT_BYE, SIPP, answer, free_media_port, free_port, reply, scenario

from ringway.app import ServiceBundle, build
from ringway.config import demo_config_path, load_config_text
from ringway.dialer_live.service import DialerService
from ringway.dialer_live.settings import DialerSettings
from ringway.telephony import TelephonySettings

START = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # a Wednesday
CALLER_ID = "+12125550199"

OUTBOUND_QUEUE = """queues:
  - name: outbound-sales
    channel: outbound
    requires: "sales>=3"
    strategy: longest-idle
"""

CAMPAIGN = """name: spring
mode: progressive
queue: outbound-sales
caller_id: "+1 212 555 0199"
safe_harbour_prompt: safe-harbour-us
"""


def config_text(tmp_path: Path, outbound_queue: str = OUTBOUND_QUEUE) -> str:
    text = demo_config_path().read_text()
    text = text.replace("  data_dir: var\n", f'  data_dir: "{tmp_path}"\n')
    text = text.replace("  smtp_port: 2525", '  customer_store: "memory://"\n  smtp_port: null #')
    text = text.replace("  seed_demo_customers: true", "  seed_demo_customers: false")
    return text.replace("\nqueues:\n", "\n" + outbound_queue, 1)


@dataclass
class Centre:
    bundle: ServiceBundle
    client: httpx.AsyncClient
    dialer: DialerService
    trunk_port: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bundle.admin_token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(
            method, f"/api/v1{path}", headers=self.headers, **kwargs
        )
        assert response.status_code == 200, response.text
        return response.json()


def moving_clock() -> Callable[[], datetime]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    return lambda: START + timedelta(seconds=loop.time() - started)


@contextlib.asynccontextmanager
async def running_centre(
    tmp_path: Path,
    *,
    ring_timeout_s: float = 3.0,
    env: dict[str, str] | None = None,
    outbound_queue: str = OUTBOUND_QUEUE,
    edit: Callable[[str], str] = lambda text: text,
    **dialer: Any,
) -> AsyncIterator[Centre]:
    """``outbound_queue``: the campaign queue's YAML (``queues:`` and one entry);
    ``edit``: a change to the configuration's text (e.g. an agent's capacity);
    ``dialer``: more `DialerSettings` fields (e.g. ``detector="energy"``)."""
    config = load_config_text(edit(config_text(tmp_path, outbound_queue)), "dialer-test.yaml")
    trunk_port = free_port()
    settings = DialerSettings(
        trunk=f"127.0.0.1:{trunk_port}",
        ring_timeout_s=ring_timeout_s,
        allow_short_ring=True,  # the test carrier's no-answer case; live minimum is 15 s
        reevaluate_s=0.2,
        **dialer,
    )
    sip = TelephonySettings(host="127.0.0.1", port=free_port())  # UDP and TCP both free
    bundle = build(config, env or {}, sip=sip, dialer=settings)  # env: phone passwords
    app = bundle.app
    async with app.router.lifespan_context(app):
        assert bundle.dialer is not None
        bundle.dialer.wall = moving_clock()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ringway.test") as c:
            yield Centre(bundle, c, bundle.dialer, trunk_port)


class Sipp:
    def __init__(self, proc: asyncio.subprocess.Process, messages: Path, timeout: float) -> None:
        self.proc, self.messages, self.timeout = proc, messages, timeout

    async def result(self) -> tuple[int, str]:
        try:
            out, _ = await asyncio.wait_for(self.proc.communicate(), self.timeout + 10)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.returncode is not None
        return self.proc.returncode, out.decode(errors="replace")

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    def seen(self) -> str:
        return self.messages.read_text() if self.messages.exists() else ""


async def carrier(
    tmp: Path,
    name: str,
    scenario: str,
    *,
    port: int,
    calls: int = 1,
    timeout: float = 30,
    echo: bool = True,
    args: tuple[str, ...] = (),
) -> Sipp:
    """A sipp UAS on ``port`` that handles ``calls`` calls with ``scenario``, echoing RTP
    unless ``echo`` is false; ``args`` go before the others (e.g. a REGISTER's target)."""
    assert SIPP is not None
    xml = tmp / f"{name}.xml"
    xml.write_text(scenario)
    messages = tmp / f"{name}_msg.log"
    command = [
        SIPP, *args, "-sf", str(xml), "-i", "127.0.0.1", "-p", str(port),
        *(["-rtp_echo"] if echo else []),
        "-mi", "127.0.0.1", "-mp", str(free_media_port()), "-m", str(calls), "-nostdin",
        "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-trace_msg", "-message_file", str(messages),
        "-trace_err", "-error_file", str(tmp / f"{name}_err.log"),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    await asyncio.sleep(0.3)  # let sipp bind its port before the first INVITE
    return Sipp(proc, messages, timeout)


# The carrier's replies name it in their Contact.
_CARRIER_HEAD = """      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:carrier@[local_ip]:[local_port]>
"""

_RINGING = '  <recv request="INVITE" crlf="true"/>\n' + reply("180 Ringing", _CARRIER_HEAD)

_ANSWER = answer("carrier", _CARRIER_HEAD) + '  <recv request="ACK" crlf="true"/>\n'

_FINAL = """  <send><![CDATA[
      SIP/2.0 STATUS
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
"""

_CANCELLED = """  <recv request="CANCEL">
    <action>
      <ereg regexp="([0-9]+)" search_in="hdr" header="CSeq:" assign_to="whole,invite_cseq"/>
    </action>
  </recv>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
  <send><![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$invite_cseq] INVITE
      Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
  <Reference variables="whole"/>
"""


def answering(answer_after_ms: int) -> str:
    """Ring, answer after ``answer_after_ms``, echo RTP, wait for our BYE."""
    pause = f'  <pause milliseconds="{answer_after_ms}"/>\n'
    return scenario("carrier answers", _RINGING + pause + _ANSWER + AWAIT_BYE)


def rejecting(status: str) -> str:
    """Ring, then answer the INVITE with a final failure (e.g. '486 Busy Here')."""
    pause = '  <pause milliseconds="200"/>\n'
    return scenario(f"carrier {status}", _RINGING + pause + _FINAL.replace("STATUS", status))


def never_answering() -> str:
    """Ring until we CANCEL (RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE)."""
    return scenario("carrier never answers", _RINGING + _CANCELLED)


def talking(media: Path, talk_ms: int) -> str:
    """Answer at once, send ``media`` (raw μ-law) as RTP for ``talk_ms``, wait for our BYE."""
    play = f'  <nop><action><exec rtp_stream="{media},1,0"/></action></nop>\n'
    pause = f'  <pause milliseconds="{talk_ms}"/>\n'
    return scenario("carrier talks", _RINGING + _ANSWER + play + pause + AWAIT_BYE)


def mixed(*, busy: str, silent: str, answer_after_ms: int) -> str:
    """Numbers starting ``busy`` get 486, ``silent`` ring until CANCELled, any other
    answers after ``answer_after_ms`` (echoing RTP) and waits for our BYE."""
    invite = (
        '  <recv request="INVITE" crlf="true">\n    <action>\n'
        f'      <ereg regexp="INVITE sip:[+]{busy[1:]}" search_in="msg" check_it="false"'
        ' assign_to="busy"/>\n'
        f'      <ereg regexp="INVITE sip:[+]{silent[1:]}" search_in="msg" check_it="false"'
        ' assign_to="silent"/>\n'
        "    </action>\n  </recv>\n"
    )
    ringing = _RINGING.replace('  <recv request="INVITE" crlf="true"/>\n', invite)
    body = (
        ringing
        + '  <nop next="busy" test="busy"/>\n  <nop next="silent" test="silent"/>\n'
        + f'  <pause milliseconds="{answer_after_ms}"/>\n'
        + _ANSWER
        + AWAIT_BYE
        + '  <nop next="end"/>\n  <label id="busy"/>\n  <pause milliseconds="200"/>\n'
        + _FINAL.replace("STATUS", "486 Busy Here")
        + '  <nop next="end"/>\n  <label id="silent"/>\n'
        + _CANCELLED
        + '  <label id="end"/>\n'
    )
    return scenario("carrier: busy, unanswered or answered by number", body)
