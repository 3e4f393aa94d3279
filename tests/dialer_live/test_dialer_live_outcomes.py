"""End to end: busy and unanswered lines (sipp as the carrier) drive the leads' retries."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from dialer_kit import CAMPAIGN, START, carrier, never_answering, rejecting, running_centre
from peer_kit import needs_sipp, wait_for

from dialer.campaign import load_campaign_text
from dialer.leads import DEFAULT_RETRY, LeadStatus, Outcome

pytestmark = needs_sipp
NUMBER = "+12125550101"


async def one_attempt(tmp_path: Path, scenario: str, ring_timeout_s: float = 3.0) -> object:
    async with running_centre(tmp_path, ring_timeout_s=ring_timeout_s) as centre:
        sipp = await carrier(tmp_path, "carrier", scenario, port=centre.trunk_port, calls=1)
        dialer = centre.dialer
        dialer.add_campaign(load_campaign_text(CAMPAIGN, "spring.yaml"))
        dialer.import_list("spring", f"id,phone\nlead-1,{NUMBER}\n")
        await centre.call("POST", "/agents/alice/login", json={"ready": True})
        loop = asyncio.get_running_loop()
        started = loop.time()
        dialer.start_campaign("spring")
        code, output = await sipp.result()
        assert code == 0, output[-3000:]

        def settled() -> bool:
            lead = dialer.store.lead("lead-1")
            return lead is not None and lead.status is not LeadStatus.DIALLING

        await wait_for(settled, 10, "the outcome")
        elapsed = loop.time() - started
        lead = dialer.store.lead("lead-1")
        assert lead is not None
        status = dialer.status("spring")
        agent = await centre.call("GET", "/agents/alice")
        assert agent["state"] == "ready"  # the agent was never held by the line
        return lead, status, elapsed, sipp.seen()


def test_busy_line_is_retried_after_the_busy_rule(tmp_path: Path) -> None:
    lead, status, _, seen = asyncio.run(one_attempt(tmp_path, rejecting("486 Busy Here")))
    assert lead.outcomes == (Outcome.BUSY,)  # type: ignore[attr-defined]
    assert lead.status is LeadStatus.READY  # type: ignore[attr-defined]
    retry_at = lead.next_attempt_at  # type: ignore[attr-defined]
    after = DEFAULT_RETRY[Outcome.BUSY].after
    assert START + after <= retry_at <= START + after + timedelta(seconds=30)
    assert status["attempts"] == {"busy": 1}  # type: ignore[index]
    assert seen.count("INVITE sip:") == 1  # due again in 15 min, not now


def test_unanswered_line_is_cancelled_after_the_ring_timeout(tmp_path: Path) -> None:
    lead, status, elapsed, seen = asyncio.run(
        one_attempt(tmp_path, never_answering(), ring_timeout_s=2.0)
    )
    assert lead.outcomes == (Outcome.NO_ANSWER,)  # type: ignore[attr-defined]
    assert lead.status is LeadStatus.READY  # type: ignore[attr-defined]
    assert "CANCEL sip:" in seen  # RFC 3261 §9.1, after the ring timeout
    assert elapsed >= 2.0  # it rang the whole (test) ring time
    assert status["attempts"] == {"no_answer": 1}  # type: ignore[index]


def test_other_failures_are_failed(tmp_path: Path) -> None:
    lead, status, _, _ = asyncio.run(one_attempt(tmp_path, rejecting("404 Not Found")))
    assert lead.outcomes == (Outcome.FAILED,)  # type: ignore[attr-defined]
    assert status["attempts"] == {"failed": 1}  # type: ignore[index]
