"""End to end: the ``energy`` answering-machine detector on a live line (sipp the carrier).

sipp answers and streams spoken audio made at test time with espeak-ng: a
voicemail greeting (then a beep) is released as a machine -- hung up, no agent
offered, the attempt recorded as ``machine`` and the lead due again after the
machine retry rule -- and a short "Hello?" reaches an agent, whose 2 s grace
runs from the end of the greeting (47 CFR 64.1200(a)(7)(i)).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from amd_audio import spoken_file
from dialer_kit import CAMPAIGN, START, Centre, carrier, running_centre, talking
from peer_kit import needs_sipp, wait_for
from prometheus_client import generate_latest
from test_dialer_bridge import customer_hangs_up, telephony_port

from dialer.campaign import load_campaign_text
from dialer.leads import DEFAULT_RETRY, LeadStatus, Outcome
from ringway.dialer_live.amd import AmdSettings
from ringway.dialer_live.amd_tap import EnergyDetector
from router import events as ev

pytestmark = needs_sipp
NUMBER = "+12125550101"
UK_NUMBER = "+442079460123"  # Ofcom's drama range (020 7946 0xxx)
UK_CAMPAIGN = """name: spring
jurisdiction: UK
queue: outbound-sales
caller_id: "020 7946 0000"
safe_harbour_prompt: safe-harbour-us
"""
VOICEMAIL = (
    "Hi, you have reached the Smith family. We can't take your call right now. "
    "Please leave a message after the tone."
)


def settled(centre: Centre) -> bool:
    lead = centre.dialer.store.lead("lead-1")
    return lead is not None and lead.status is not LeadStatus.DIALLING


async def start(centre: Centre, *, uk: bool = False) -> float:
    dialer = centre.dialer
    dialer.add_campaign(load_campaign_text(UK_CAMPAIGN if uk else CAMPAIGN, "spring.yaml"))
    number = UK_NUMBER if uk else NUMBER
    assert dialer.import_list("spring", f"id,phone,name\nlead-1,{number},Ann\n").accepted
    await centre.call("POST", "/agents/alice/login", json={"ready": True})
    dialer.start_campaign("spring")
    return asyncio.get_running_loop().time()


@pytest.mark.parametrize("uk", [False, True], ids=["US", "UK"])
def test_a_voicemail_greeting_is_released_as_a_machine_and_retried(
    tmp_path: Path, uk: bool
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, detector="energy") as centre:
            audio = spoken_file(tmp_path, "voicemail", VOICEMAIL, tail_ms=1000, beep=True)
            sipp = await carrier(
                tmp_path, "voicemail", talking(audio, 200), port=centre.trunk_port, echo=False
            )
            loop = asyncio.get_running_loop()
            started = await start(centre, uk=uk)
            await wait_for(lambda: settled(centre), 12, "the machine outcome")
            took = loop.time() - started
            code, output = await sipp.result()
            assert code == 0, output[-3000:]  # our BYE ended the call as sipp expected

            lead = centre.dialer.store.lead("lead-1")
            assert lead is not None
            assert lead.outcomes == (Outcome.MACHINE,)
            assert lead.status is LeadStatus.READY  # due again, after the machine rule
            after = DEFAULT_RETRY[Outcome.MACHINE].after
            assert lead.next_attempt_at is not None
            assert START + after <= lead.next_attempt_at <= START + after + after / 100
            detector = centre.dialer.detector
            assert isinstance(detector, EnergyDetector)
            assert detector.verdicts == {"machine:long_greeting": 1}
            exposed = generate_latest(centre.bundle.service.metrics.registry).decode()
            assert (
                'ringway_dialer_amd_verdicts_total{kind="machine",reason="long_greeting"} 1.0'
                in exposed
            )
            assert took < 2 + AmdSettings().max_decision_s  # dial, ring, bounded listening

            status = centre.dialer.status("spring")
            assert status["attempts"] == {"machine": 1}
            assert status["abandon_rate"]["counts"]["amd_machine"] == 1
            if uk:  # Ofcom: the release counts as 0.1 of an abandoned person (of 0.1 live)
                assert status["abandon_rate"]["rate"] == 1.0
            else:  # FCC: no live answer yet, nothing abandoned
                assert status["abandon_rate"]["rate"] is None
            offers = (await centre.call("GET", "/agents/alice/offers"))["offers"]
            assert offers == [] and centre.dialer.watches == {}  # no agent was offered it
            assert (await centre.call("GET", "/agents/alice"))["state"] == "ready"
            seen = sipp.seen()
            assert "BYE sip:" in seen and seen.count("INVITE sip:") == 1
            # UK accounting: with a detector running, each release counts as a share of
            # an abandoned call (Ofcom's reasoned estimate of false positives)
            uk_pack = centre.dialer.ledgers["UK"].pack
            assert uk_pack.amd_false_positive_rate == AmdSettings().false_positive_rate > 0
            policy = centre.dialer.runners["spring"].policy
            assert policy.settings.amd_false_positive_rate == (0.1 if uk else 0.0)

    asyncio.run(main())


def test_a_short_hello_reaches_an_agent_after_the_greeting(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, detector="energy") as centre:
            audio = spoken_file(tmp_path, "hello", "Hello?", tail_ms=6000)
            sipp = await carrier(
                tmp_path, "hello", talking(audio, 200), port=centre.trunk_port, echo=False
            )
            await start(centre)
            offers: list[dict[str, object]] = []

            async def offered() -> bool:
                offers[:] = (await centre.call("GET", "/agents/alice/offers"))["offers"]
                return bool(offers)

            for _ in range(200):
                if await offered():
                    break
                await asyncio.sleep(0.02)
            assert offers, "the hello never reached alice"
            contact_id = str(offers[0]["contact_id"])
            accepted = await centre.call("POST", f"/agents/alice/offers/{contact_id}/accept")
            assert accepted["contact"]["origin"] == NUMBER
            await asyncio.sleep(0.3)  # the agent talks
            await centre.call(
                "POST",
                f"/agents/alice/contacts/{contact_id}/complete",
                json={"disposition": "resolved"},
            )
            code, output = await sipp.result()
            assert code == 0, output[-3000:]
            await wait_for(lambda: settled(centre), 10, "the answered outcome")

            lead = centre.dialer.store.lead("lead-1")
            assert lead is not None and lead.outcomes == (Outcome.ANSWERED,)
            assert lead.status is LeadStatus.DONE
            detector = centre.dialer.detector
            assert isinstance(detector, EnergyDetector)
            assert detector.verdicts == {"human:short_greeting": 1}
            status = centre.dialer.status("spring")
            assert status["attempts"] == {"answered": 1}
            assert status["abandon_rate"]["counts"]["connected_human"] == 1
            assert status["abandon_rate"]["counts"]["amd_machine"] == 0

    asyncio.run(main())


def test_a_customer_gone_while_the_detector_listens_is_offered_to_no_agent(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, detector="energy") as centre:
            edge = f"127.0.0.1:{telephony_port(centre)}"  # where the carrier's BYE goes
            # Silence for 0.6 s, then the customer's BYE: before the detector can decide
            # (a verdict on silence takes initial_silence_s, 2.5 s).
            sipp = await carrier(
                tmp_path, "gone", customer_hangs_up(600), port=centre.trunk_port, args=(edge,)
            )
            events = centre.bundle.service.subscribe()
            seen: list[ev.Event] = []

            async def collect() -> None:
                async for event in events:
                    seen.append(event)

            collector = asyncio.get_running_loop().create_task(collect())
            try:
                await start(centre)

                def outcomes() -> tuple[Outcome, ...]:
                    lead = centre.dialer.store.lead("lead-1")
                    return () if lead is None else lead.outcomes

                await wait_for(lambda: bool(outcomes()), 12, "the attempt's outcome")
                code, output = await sipp.result()
                assert code == 0, output[-3000:]
                assert outcomes() == (Outcome.ABANDONED,)
                await asyncio.sleep(0.3)
                # no contact was made for the dead line: nobody was offered it
                assert not [e for e in seen if isinstance(e, ev.ContactQueued | ev.ContactOffered)]
                assert (await centre.call("GET", "/agents/alice"))["state"] == "ready"
                status = centre.dialer.status("spring")
                assert status["abandon_rate"]["counts"]["dropped"] == 1
            finally:
                collector.cancel()

    asyncio.run(main())
