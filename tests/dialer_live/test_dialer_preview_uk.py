"""A UK preview campaign: the agent reserved before the dial is the "guaranteed live
agent" Ofcom's repeat-call rules ask for, so a number abandoned yesterday (72-hour
rule) may be previewed and dialled; a progressive campaign may not call it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from dialer_kit import START, answering, carrier
from peer_kit import needs_sipp
from preview_kit import preview_centre

from dialer.leads import Outcome

pytestmark = needs_sipp
LONDON = "+442079460958"  # START is 17:00 in London: inside the UK window
UK_CAMPAIGN = """name: {name}
mode: {mode}
jurisdiction: UK
queue: outbound-sales
agents: [alice]
caller_id: "020 7946 0000"
safe_harbour_prompt: safe-harbour-us
preview: {{timeout_s: 12, on_timeout: skip, skip_retry_minutes: 30}}
"""


def test_a_uk_repeat_call_after_an_abandon_is_previewed_with_the_agent_guaranteed(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                dialer = centre.dialer
                for name, mode in (("uk-look", "preview"), ("uk-push", "progressive")):
                    dialer.add_campaign_text(
                        UK_CAMPAIGN.format(name=name, mode=mode), f"{name}.yaml"
                    )
                    report = dialer.import_list(name, f"id,phone,name\n{name}-1,{LONDON},Ann\n")
                    assert len(report.accepted) == 1
                # Yesterday's call to the number was abandoned (no agent in 2 s).
                gate, campaign = dialer.compliance, dialer.campaigns["uk-look"]
                yesterday = START - timedelta(days=1)
                assert gate.attempt("old", LONDON, yesterday, campaign).allowed
                gate.record_outcome("old", Outcome.ABANDONED, yesterday + timedelta(seconds=20))

                alice = await centre.desktop("alice")
                dialer.start_campaign("uk-push")  # no agent guaranteed: refused, held 72 h
                lapse = yesterday + timedelta(seconds=20) + timedelta(hours=72)
                for _ in range(50):
                    pushed = dialer.store.lead("uk-push-1")
                    assert pushed is not None
                    if pushed.next_attempt_at is not None:
                        break
                    await asyncio.sleep(0.1)
                assert pushed.next_attempt_at == lapse
                await dialer.stop_campaign("uk-push")
                assert "INVITE" not in line.seen()

                dialer.start_campaign("uk-look")
                frame = await alice.expect("preview", timeout=10)
                checks = {c["check"]: c for c in frame["lead"]["verdict"]["checks"]}
                assert frame["lead"]["verdict"]["allowed"] is True
                assert checks["caps.uk_72h"]["result"] == "pass"
                assert "guaranteed" in checks["caps.uk_72h"]["detail"]
                await alice.ok("preview_accept", lead_id="uk-look-1")
                await asyncio.sleep(0.5)
                assert f"INVITE sip:{LONDON}@" in line.seen()
                await alice.close()
            finally:
                await line.stop()

    asyncio.run(main())
