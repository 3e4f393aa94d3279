"""Across a restart of the service: the campaign, the DNC list, attempts and retry times hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from dialer_kit import CAMPAIGN, START, carrier, rejecting, running_centre
from peer_kit import needs_sipp, wait_for

from dialer.leads import LeadStatus

pytestmark = needs_sipp
BUSY = "+12125550101"
LATER_DNC = "+13125550102"


def test_campaign_dnc_and_retries_survive_a_restart(tmp_path: Path) -> None:
    async def first_run() -> None:
        async with running_centre(tmp_path) as centre:
            await centre.call("POST", "/dialer/campaigns", content=CAMPAIGN)
            csv = f"id,phone\nlead-1,{BUSY}\n"
            await centre.call("POST", "/dialer/campaigns/spring/lists", content=csv)
            sipp = await carrier(
                tmp_path, "busy", rejecting("486 Busy Here"), port=centre.trunk_port
            )
            await centre.call("POST", "/agents/alice/login", json={"ready": True})
            await centre.call("POST", "/dialer/dnc", json={"number": LATER_DNC})
            await centre.call("POST", "/dialer/campaigns/spring/start")
            code, output = await sipp.result()
            assert code == 0, output[-3000:]
            await wait_for(lambda: centre.dialer.status("spring")["attempts"] == {"busy": 1}, 10)
            await centre.call("POST", "/dialer/campaigns/spring/stop")

    async def second_run() -> None:
        async with running_centre(tmp_path) as centre:
            listed = await centre.call("GET", "/dialer/campaigns")
            assert [c["campaign"] for c in listed["campaigns"]] == ["spring"]
            store = centre.dialer.store
            lead = store.lead("lead-1")
            assert lead is not None and lead.status is LeadStatus.READY
            assert lead.next_attempt_at is not None and lead.next_attempt_at > START
            assert (
                store.number_attempts(BUSY, START - timedelta(hours=1), START + timedelta(hours=1))
                == 1
            )
            assert store.dnc_entry(LATER_DNC) is not None
            sipp = await carrier(
                tmp_path, "idle", rejecting("486 Busy Here"), port=centre.trunk_port
            )
            csv = f"id,phone\nlead-2,{LATER_DNC}\n"
            await centre.call("POST", "/dialer/campaigns/spring/lists", content=csv)
            await centre.call("POST", "/agents/alice/login", json={"ready": True})
            await centre.call("POST", "/dialer/campaigns/spring/start")
            await wait_for(lambda: centre.dialer.status("spring")["refused"] == 1, 10)
            await asyncio.sleep(1.0)  # several pacing rounds with a free agent
            assert "INVITE" not in sipp.seen()  # busy retry not due yet, DNC refused
            await sipp.stop()

    asyncio.run(first_run())
    asyncio.run(second_run())
