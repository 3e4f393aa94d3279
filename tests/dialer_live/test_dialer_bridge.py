"""End to end: an answered dial line is bridged to the agent's registered SIP phone.

sipp plays the carrier (answers, sends a tone as RTP, no echo) and alice's desk
phone (REGISTERs with digest auth, answers the dialer's INVITE, echoes RTP,
hangs up after a while). The customer's packets must reach the phone and the
phone's echo must come back to the carrier through our relay; the phone's BYE
ends the contact and our BYE ends the carrier's leg.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import CAMPAIGN, Centre, answering, carrier, running_centre, talking
from peer_kit import (
    RECV_INVITE_KEEP_FROM,
    REGISTER_XML,
    answer,
    free_port,
    hang_up,
    needs_sipp,
    reply,
    scenario,
    tone_file,
    wait_for,
)

from dialer.campaign import load_campaign_text
from dialer.leads import LeadStatus, Outcome

pytestmark = needs_sipp

ALICE_EXT, ALICE_PW = "1001", "alice-phone-secret"
ENV = {f"RINGWAY_SIP_PASSWORD_{ALICE_EXT}": ALICE_PW}
CUSTOMER = "+12125550101"


PHONE_HANGS_UP_XML = scenario(
    "agent phone answers, talks, hangs up",
    RECV_INVITE_KEEP_FROM
    + reply("180 Ringing")
    + answer()
    + '  <recv request="ACK" crlf="true"/>\n  <pause milliseconds="3500"/>\n'
    + hang_up("1001")
    + '  <Reference variables="1"/>\n',
)


def telephony_port(centre: Centre) -> int:
    telephony = centre.bundle.telephony
    assert telephony is not None
    return telephony.port


async def register_alice(tmp: Path, centre: Centre, port: int) -> None:
    target = f"127.0.0.1:{telephony_port(centre)}"
    args = (target, "-s", ALICE_EXT, "-au", ALICE_EXT, "-ap", ALICE_PW)
    sipp = await carrier(tmp, "register", REGISTER_XML, port=port, echo=False, args=args)
    code, output = await sipp.result()
    assert code == 0, output[-2000:]


def test_answered_call_is_bridged_to_the_agents_phone(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            edge = f"127.0.0.1:{telephony_port(centre)}"  # where the phone's BYE goes
            phone = await carrier(
                tmp_path, "phone", PHONE_HANGS_UP_XML, port=phone_port, args=(edge,)
            )
            media = tone_file(tmp_path, 2.0)
            line = await carrier(
                tmp_path, "carrier", talking(media, 2000), port=centre.trunk_port, echo=False
            )
            try:
                dialer = centre.dialer
                dialer.add_campaign(load_campaign_text(CAMPAIGN, "spring.yaml"))
                report = dialer.import_list("spring", f"id,phone,name\nlead-1,{CUSTOMER},Ann\n")
                assert len(report.accepted) == 1
                await centre.call("POST", "/agents/alice/login", json={"ready": True})
                dialer.start_campaign("spring")

                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]
                line_code, line_out = await line.result()
                assert line_code == 0, line_out[-3000:]  # our BYE reached the carrier

                def done() -> bool:
                    lead = dialer.store.lead("lead-1")
                    return lead is not None and lead.status is not LeadStatus.DIALLING

                await wait_for(done, 10, "the lead's outcome")
                lead = dialer.store.lead("lead-1")
                assert lead is not None and lead.outcomes == (Outcome.ANSWERED,)
                assert lead.status is LeadStatus.DONE

                status = dialer.status("spring")
                assert status["attempts"] == {"answered": 1}
                phones = status["agent_phones"]
                assert phones["connects"] == 1
                # 2 s of tone at 20 ms a packet is 100; the phone echoes what it gets
                assert phones["relayed"]["caller_to_agent"] >= 50, phones
                assert phones["relayed"]["agent_to_caller"] >= 50, phones
                assert status["safe_harbour"]["played"] == 0
                assert status["abandon_rate"]["counts"]["connected_human"] == 1

                seen = phone.seen()
                assert "INVITE sip:1001@" in seen and f"X-Ringway-Dialled: sip:{CUSTOMER}@" in seen
                assert f"From: <sip:{CUSTOMER}@" in seen  # the agent's phone shows who
                alice = await centre.call("GET", "/agents/alice")
                assert alice["state"] in ("wrap_up", "ready"), alice
                runner = dialer.runners["spring"]
                assert (dialer.watches, runner.lines) == ({}, {})  # nothing left behind
                await dialer.stop_campaign("spring")

            finally:  # a failed assertion must not leave sipp running
                await phone.stop()
                await line.stop()

    asyncio.run(main())


PHONE_BUSY_XML = scenario(
    "agent phone refuses: busy",
    '  <recv request="INVITE" crlf="true"/>\n'
    + reply("486 Busy Here")
    + '  <recv request="ACK"/>\n',
)

PHONE_AWAITS_BYE_XML = scenario(
    "agent phone answers and waits for our BYE",
    '  <recv request="INVITE" crlf="true"/>\n'
    + answer()
    + '  <recv request="ACK" crlf="true"/>\n  <recv request="BYE"/>\n'
    + reply("200 OK"),
)


def customer_hangs_up(talk_ms: int) -> str:
    """The carrier answers, talks (silence) for ``talk_ms`` and sends the BYE itself."""
    return scenario(
        "customer answers, then hangs up",
        RECV_INVITE_KEEP_FROM
        + answer("carrier")
        + f'  <recv request="ACK" crlf="true"/>\n  <pause milliseconds="{talk_ms}"/>\n'
        + hang_up("customer")
        + '  <Reference variables="1"/>\n',
    )


async def dial_one(centre: Centre) -> None:
    dialer = centre.dialer
    dialer.add_campaign(load_campaign_text(CAMPAIGN, "spring.yaml"))
    report = dialer.import_list("spring", f"id,phone,name\nlead-1,{CUSTOMER},Ann\n")
    assert len(report.accepted) == 1
    await centre.call("POST", "/agents/alice/login", json={"ready": True})
    dialer.start_campaign("spring")


async def outcome_of_lead(centre: Centre) -> tuple[Outcome, ...]:
    def done() -> bool:
        lead = centre.dialer.store.lead("lead-1")
        return lead is not None and lead.status is not LeadStatus.DIALLING

    await wait_for(done, 10, "the lead's outcome")
    lead = centre.dialer.store.lead("lead-1")
    assert lead is not None
    return lead.outcomes


def test_a_phone_that_refuses_is_rejected_and_the_customer_hears_safe_harbour(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            phone = await carrier(tmp_path, "phone", PHONE_BUSY_XML, port=phone_port)
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                await dial_one(centre)
                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]
                line_code, line_out = await line.result()
                assert line_code == 0, line_out[-3000:]
                assert await outcome_of_lead(centre) == (Outcome.ABANDONED,)
                status = centre.dialer.status("spring")
                assert status["agent_phones"]["connects"] == 0
                assert status["safe_harbour"]["played"] == 1
                assert 0 < status["safe_harbour"]["max_delay_s"] < 2.0  # 47 CFR 64.1200(a)(7)
                alice = await centre.call("GET", "/agents/alice")
                # as for inbound: 486 is the agent saying no (router.reject)
                assert (alice["state"], alice["reason"]) == ("not_ready", "rejected")
                assert centre.dialer.watches == {}
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())


def test_the_customers_bye_hangs_up_the_agents_phone(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            phone = await carrier(tmp_path, "phone", PHONE_AWAITS_BYE_XML, port=phone_port)
            edge = f"127.0.0.1:{telephony_port(centre)}"  # where the carrier's BYE goes
            line = await carrier(
                tmp_path, "carrier", customer_hangs_up(1500), port=centre.trunk_port, args=(edge,)
            )
            try:
                await dial_one(centre)
                line_code, line_out = await line.result()
                assert line_code == 0, line_out[-3000:]
                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]  # our BYE reached the phone
                assert await outcome_of_lead(centre) == (Outcome.ANSWERED,)
                status = centre.dialer.status("spring")
                assert status["agent_phones"]["connects"] == 1
                alice = await centre.call("GET", "/agents/alice")
                assert alice["state"] in ("wrap_up", "ready"), alice
                assert centre.dialer.watches == {}
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())
