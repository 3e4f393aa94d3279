"""Preview dialing end to end: the lead reaches the agent's desktop before any INVITE.

Real peers: the service under uvicorn, the agent's desktop over its websocket,
sipp as the carrier (and as alice's registered phone). Each test asserts what
the carrier saw (or did not see) besides what the desktop and the store say.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from dialer_kit import answering, carrier, rejecting, talking
from peer_kit import REGISTER_XML, free_port, needs_sipp, tone_file, wait_for
from preview_kit import CUSTOMER, PreviewCentre, preview_centre
from test_dialer_bridge import ALICE_EXT, ALICE_PW, PHONE_HANGS_UP_XML

from agent_desktop.client import Client
from dialer.leads import Lead, LeadStatus, Outcome
from ringway.dialer_live.service import DialerService

pytestmark = needs_sipp
ENV = {f"RINGWAY_SIP_PASSWORD_{ALICE_EXT}": ALICE_PW}


async def previewed(centre: PreviewCentre, alice: Client) -> dict[str, Any]:
    centre.dialer.start_campaign("look")
    frame = await alice.expect("preview", timeout=10)
    assert centre.state("alice") == "reserved"  # no inbound offer reaches her meanwhile
    return frame


def lead_of(dialer: DialerService) -> Lead:
    lead = dialer.store.lead("lead-1")
    assert lead is not None
    return lead


async def register_alice(tmp: Path, centre: PreviewCentre, port: int) -> str:
    """alice's desk phone (sipp) registers; the edge's address, where its BYE goes."""
    assert centre.bundle.telephony is not None
    edge = f"127.0.0.1:{centre.bundle.telephony.port}"
    args = (edge, "-s", ALICE_EXT, "-au", ALICE_EXT, "-ap", ALICE_PW)
    sipp = await carrier(tmp, "register", REGISTER_XML, port=port, echo=False, args=args)
    code, output = await sipp.result()
    assert code == 0, output[-2000:]
    return edge


def test_accept_dials_the_carrier_and_bridges_the_agents_phone(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path, ENV) as centre:
            phone_port = free_port()
            edge = await register_alice(tmp_path, centre, phone_port)
            phone = await carrier(
                tmp_path, "phone", PHONE_HANGS_UP_XML, port=phone_port, args=(edge,)
            )
            media = tone_file(tmp_path, 2.0)  # the customer speaks: RTP to relay
            line = await carrier(
                tmp_path, "carrier", talking(media, 2000), port=centre.trunk_port, echo=False
            )
            try:
                await centre.campaign()
                alice = await centre.desktop("alice")
                frame = await previewed(centre, alice)
                lead = frame["lead"]
                assert isinstance(lead, dict)
                assert (lead["lead_id"], lead["name"], lead["number"]) == (
                    "lead-1",
                    "Ann",
                    CUSTOMER,
                )
                assert (lead["campaign"], lead["attempts"]) == ("look", 0)
                assert lead["verdict"]["allowed"] is True
                assert {c["check"] for c in lead["verdict"]["checks"]} >= {"dnc.internal", "window"}
                customer = frame["customer"]
                assert isinstance(customer, dict) and customer["id"] == "cust-ann"
                await asyncio.sleep(0.5)
                assert "INVITE" not in line.seen()  # nothing dialled before the accept
                assert centre.dialer.status("look")["previews"][0]["agent"] == "alice"

                result = await alice.ok("preview_accept", lead_id="lead-1")
                assert result["lead_id"] == "lead-1"
                await alice.expect("contact_started", timeout=5)
                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]
                line_code, line_out = await line.result()
                assert line_code == 0, line_out[-3000:]  # answered, then our BYE
                assert f"INVITE sip:{CUSTOMER}@" in line.seen()
                outcome = await alice.expect("preview_result", timeout=10)
                assert outcome["outcome"] == "answered"
                done = lead_of(centre.dialer)
                assert done.outcomes == (Outcome.ANSWERED,)
                status = centre.dialer.status("look")
                assert status["agent_phones"]["connects"] == 1
                assert status["agent_phones"]["relayed"]["caller_to_agent"] > 0
                assert status["abandon_rate"]["counts"]["dropped"] == 0
                assert centre.state("alice") == "wrap_up"  # she dispositions the call
                assert status["previews"] == [] and centre.dialer.watches == {}
                await alice.close()
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())


def test_skip_returns_the_lead_later_and_frees_the_agent(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                await centre.campaign()
                alice = await centre.desktop("alice")
                await previewed(centre, alice)
                sam, board = await centre.wallboard()  # supervisors see who reads what
                rows = board["dialer"][0]["previews"]
                assert [(r["agent"], r["lead_id"], r["state"]) for r in rows] == [
                    ("alice", "lead-1", "previewing")
                ]
                error = await sam.call("preview_accept", lead_id="lead-1")
                assert error["code"] == "wrong_view"  # ...and cannot dial it for her
                await sam.close()
                result = await alice.ok("preview_skip", lead_id="lead-1", reason="wrong time")
                assert result["reason"] == "wrong time"
                ended = await alice.expect("preview_ended")
                assert ended["reason"] == "skipped: wrong time"
                await wait_for(lambda: centre.state("alice") == "ready", 5, "alice free")
                lead = lead_of(centre.dialer)
                assert lead.status is LeadStatus.READY
                assert lead.next_attempt_at > centre.dialer.wall()
                await asyncio.sleep(1.0)  # the pacer runs on: the skipped lead is not due
                assert centre.state("alice") == "ready"
                assert line.seen() == ""  # never dialled
                error = await alice.call("preview_accept", lead_id="lead-1")
                assert error["code"] == "no_preview"
                await alice.close()
            finally:
                await line.stop()

    asyncio.run(main())


def test_a_silent_agent_is_not_left_reserved(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            await centre.campaign(timeout=1)
            alice = await centre.desktop("alice")
            await previewed(centre, alice)
            ended = await alice.expect("preview_ended", timeout=5)
            assert ended["reason"] == "skipped: timeout"
            await wait_for(lambda: centre.state("alice") == "ready", 5, "alice free")
            assert centre.dialer.status("look")["previews_ended"] == {"skipped": 1}
            await alice.close()

    asyncio.run(main())


def test_dnc_added_after_the_preview_refuses_the_accept(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                await centre.campaign()
                alice = await centre.desktop("alice")
                carol = await centre.desktop("carol", ready=False)
                await previewed(centre, alice)
                error = await carol.call("preview_accept", lead_id="lead-1")
                assert error["code"] == "not_your_preview"  # only the reserved agent
                error = await carol.call("preview_skip", lead_id="lead-1")
                assert error["code"] == "not_your_preview"
                error = await alice.call("preview_accept", lead_id="lead-1", extra=1)
                assert error["code"] == "invalid_message"
                assert centre.state("alice") == "reserved"  # the bad frames changed nothing

                centre.dialer.add_dnc(CUSTOMER, "test", "asked on another call")
                error = await alice.call("preview_accept", lead_id="lead-1")
                assert error["type"] == "error" and error["code"] == "dial_refused"
                assert [r["check"] for r in error["reasons"]] == ["dnc.internal"]
                await wait_for(lambda: centre.state("alice") == "ready", 5, "alice free")
                lead = lead_of(centre.dialer)
                assert lead.status is LeadStatus.BLOCKED
                await asyncio.sleep(0.5)
                assert line.seen() == ""  # the INVITE never left
                await alice.close()
                await carol.close()
            finally:
                await line.stop()

    asyncio.run(main())


def test_a_disconnected_desktop_returns_the_lead(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            await centre.campaign()
            alice = await centre.desktop("alice")
            await previewed(centre, alice)
            alice.abort()
            await wait_for(lambda: centre.state("alice") != "reserved", 5, "alice released")
            await wait_for(lambda: centre.state("alice") == "not_ready", 5, "grace over")
            lead = lead_of(centre.dialer)
            assert lead.status is LeadStatus.READY
            assert lead.next_attempt_at is None  # due at once
            assert centre.dialer.status("look")["previews"] == []

    asyncio.run(main())


def test_timeout_can_dial_and_a_busy_line_is_retried(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            line = await carrier(
                tmp_path, "carrier", rejecting("486 Busy Here"), port=centre.trunk_port
            )
            try:
                await centre.campaign(timeout=1, on_timeout="dial")
                alice = await centre.desktop("alice")
                frame = await previewed(centre, alice)
                assert frame["lead"]["on_timeout"] == "dial"
                assert "INVITE" not in line.seen()
                result = await alice.expect("preview_result", timeout=10)  # nobody clicked
                assert result["outcome"] == "busy"
                code, output = await line.result()
                assert code == 0, output[-3000:]
                assert f"INVITE sip:{CUSTOMER}@" in line.seen()
                lead = lead_of(centre.dialer)
                assert lead.outcomes == (Outcome.BUSY,) and lead.status is LeadStatus.READY
                assert lead.next_attempt_at is not None  # the busy rule: 15 minutes on
                assert lead.next_attempt_at > centre.dialer.wall()
                assert centre.state("alice") == "wrap_up"  # the contact ended: she wraps up
                assert centre.dialer.status("look")["attempts"] == {"busy": 1}
                await alice.close()
            finally:
                await line.stop()

    asyncio.run(main())
