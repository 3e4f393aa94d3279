"""End to end: a progressive campaign dials sipp (the carrier); answers reach agents.

Must-shows of issue #6: answered calls reach a logged-in ready agent; with no
agent free, the answered call hears the safe-harbour prompt within 2 s and is
hung up, counted abandoned; a DNC number is never dialled, also when added
while the campaign runs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import CALLER_ID, CAMPAIGN, Centre, answering, carrier, running_centre
from peer_kit import needs_sipp, wait_for

from dialer.campaign import load_campaign_text
from dialer.leads import LeadStatus, Outcome

pytestmark = needs_sipp

REACHED = "+12125550101"  # New York
ON_DNC = "+13125550102"  # Chicago: on the internal DNC list before the start
DNC_LATER = "+14155550103"  # San Francisco: put on the DNC list while the campaign runs


def leads_csv(*numbers: str) -> str:
    rows = "".join(f"lead-{i},{n},Customer {i}\n" for i, n in enumerate(numbers, 1))
    return "id,phone,name\n" + rows


async def load(centre: Centre, *numbers: str) -> None:
    dialer = centre.dialer
    dialer.add_campaign(load_campaign_text(CAMPAIGN, "spring.yaml"))
    report = dialer.import_list("spring", leads_csv(*numbers))
    assert (len(report.accepted), report.rejected) == (len(numbers), [])


def lead_status(centre: Centre, lead_id: str) -> LeadStatus:
    lead = centre.dialer.store.lead(lead_id)
    assert lead is not None
    return lead.status


async def offered_contact(centre: Centre, agent: str) -> str:
    for _ in range(100):
        offers = (await centre.call("GET", f"/agents/{agent}/offers"))["offers"]
        if offers:
            return str(offers[0]["contact_id"])
        await asyncio.sleep(0.02)
    raise AssertionError(f"no offer reached {agent}")


def test_answered_call_reaches_the_agent_and_dnc_numbers_are_never_dialled(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            sipp = await carrier(
                tmp_path, "answering", answering(300), port=centre.trunk_port, calls=1
            )
            await load(centre, REACHED, ON_DNC, DNC_LATER)
            centre.dialer.add_dnc(ON_DNC, "test")
            await centre.call("POST", "/agents/alice/login", json={"ready": True})
            centre.dialer.start_campaign("spring")

            contact_id = await offered_contact(centre, "alice")
            accepted = await centre.call("POST", f"/agents/alice/offers/{contact_id}/accept")
            contact = accepted["contact"]
            assert (contact["channel"], contact["origin"]) == ("outbound", REACHED)
            assert contact["attributes"]["campaign"] == "spring"

            centre.dialer.add_dnc(DNC_LATER, "agent:alice", "asked during the campaign")
            await asyncio.sleep(0.5)  # the call is up: the agent talks
            await centre.call(
                "POST",
                f"/agents/alice/contacts/{contact_id}/complete",
                json={"disposition": "resolved"},
            )
            code, output = await sipp.result()
            assert code == 0, output[-3000:]

            await wait_for(lambda: lead_status(centre, "lead-3") is LeadStatus.BLOCKED, 10)
            assert lead_status(centre, "lead-1") is LeadStatus.DONE
            assert lead_status(centre, "lead-2") is LeadStatus.BLOCKED
            lead = centre.dialer.store.lead("lead-1")
            assert lead is not None and lead.outcomes == (Outcome.ANSWERED,)

            seen = sipp.seen()
            assert f"INVITE sip:{REACHED}@" in seen
            assert f"P-Asserted-Identity: <sip:{CALLER_ID}@" in seen
            assert f"From: <sip:{CALLER_ID}@" in seen
            assert ON_DNC not in seen and DNC_LATER not in seen  # never dialled
            for number in (ON_DNC, DNC_LATER):
                proofs = centre.dialer.store.proofs(number)
                assert proofs and all(p["attempt_id"] is None for p in proofs)
            status = centre.dialer.status("spring")
            assert status["attempts"] == {"answered": 1}
            assert status["refused"] == 2
            assert status["abandon_rate"]["rate"] == 0.0

    asyncio.run(main())


def test_no_free_agent_hears_the_safe_harbour_prompt_within_two_seconds(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            # the carrier answers 1.5 s after the INVITE; meanwhile alice goes on a break
            sipp = await carrier(
                tmp_path, "answering", answering(1500), port=centre.trunk_port, calls=1
            )
            await load(centre, REACHED)
            await centre.call("POST", "/agents/alice/login", json={"ready": True})
            centre.dialer.start_campaign("spring")
            await wait_for(lambda: "INVITE sip:" in sipp.seen(), 10, "the INVITE")
            await centre.call(
                "POST", "/agents/alice/state", json={"state": "not_ready", "reason": "break"}
            )
            code, output = await sipp.result()
            assert code == 0, output[-3000:]

            await wait_for(lambda: lead_status(centre, "lead-1") is not LeadStatus.DIALLING, 5)
            lead = centre.dialer.store.lead("lead-1")
            assert lead is not None and lead.outcomes == (Outcome.ABANDONED,)
            status = centre.dialer.status("spring")
            harbour = status["safe_harbour"]
            assert harbour["played"] == 1
            assert 0 < harbour["max_delay_s"] < 2.0  # 47 CFR 64.1200(a)(7)(i)
            assert harbour["echoed_packets"] > 0  # sipp received the prompt's RTP
            assert status["abandon_rate"]["rate"] == 1.0
            assert status["abandon_rate"]["counts"]["dropped"] == 1
            agent = await centre.call("GET", "/agents/alice")
            assert agent["state"] == "not_ready"  # nobody was left reserved

    asyncio.run(main())
