"""The supervisor's desktop snapshot carries the dialer's figures (the wallboard's).

A real server (uvicorn on a free port) with the SIP edge and the dialer; sipp
answers one line while the only agent has gone on a break, so the call is
abandoned (safe harbour) and the campaign's abandon rate becomes 100 %. A
supervisor's websocket snapshot must show that, per campaign and window.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import serve_kit
from dialer_kit import CAMPAIGN, answering, carrier, config_text, moving_clock
from peer_kit import free_port, needs_sipp, wait_for

from agent_desktop.client import Client
from dialer.campaign import load_campaign_text
from dialer.leads import LeadStatus
from ringway.app import ServiceBundle, build
from ringway.auth import Role
from ringway.config import load_config_text
from ringway.dialer_live.settings import DialerSettings
from ringway.telephony import TelephonySettings

pytestmark = needs_sipp


@asynccontextmanager
async def serving(tmp_path: Path, trunk_port: int) -> AsyncIterator[tuple[ServiceBundle, int]]:
    config = load_config_text(config_text(tmp_path), "dialer-wallboard.yaml")
    settings = DialerSettings(
        trunk=f"127.0.0.1:{trunk_port}", ring_timeout_s=3, allow_short_ring=True, reevaluate_s=0.2
    )
    sip = TelephonySettings(host="127.0.0.1", port=free_port())
    bundle = build(config, {}, sip=sip, dialer=settings)
    async with serve_kit.serving(bundle.app) as port:
        yield bundle, port


async def supervisor_snapshot(bundle: ServiceBundle, port: int) -> dict[str, Any]:
    assert bundle.auth is not None
    client = await Client.connect(f"ws://127.0.0.1:{port}/ws/v1/desktop")
    try:
        await client.hello(bundle.auth.issue("sam", Role.SUPERVISOR)[0], "supervisor", None)
        return await client.expect("snapshot")
    finally:
        await client.close()


def test_the_supervisor_snapshot_carries_dial_level_abandon_rate_and_connects(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        trunk_port = free_port()
        async with serving(tmp_path, trunk_port) as (bundle, port):
            dialer = bundle.dialer
            assert dialer is not None
            dialer.wall = moving_clock()
            dialer.add_campaign(load_campaign_text(CAMPAIGN, "spring.yaml"))
            dialer.import_list("spring", "id,phone,name\nlead-1,+12125550101,Ann\n")

            before = (await supervisor_snapshot(bundle, port))["dialer"]
            assert [row["campaign"] for row in before] == ["spring"]
            assert before[0]["running"] is False and before[0]["abandon_rate"]["dropped"] == 0

            sipp = await carrier(tmp_path, "answering", answering(1500), port=trunk_port)
            headers = {"Authorization": f"Bearer {bundle.admin_token}"}
            base = f"http://127.0.0.1:{port}/api/v1/agents/alice"
            async with httpx.AsyncClient(headers=headers) as http:
                response = await http.post(f"{base}/login", json={"ready": True})
                assert response.status_code == 200, response.text
                dialer.start_campaign("spring")
                await wait_for(lambda: "INVITE sip:" in sipp.seen(), 10, "the INVITE")
                response = await http.post(
                    f"{base}/state", json={"state": "not_ready", "reason": "break"}
                )
                assert response.status_code == 200, response.text
            code, output = await sipp.result()
            assert code == 0, output[-3000:]

            def over() -> bool:
                lead = dialer.store.lead("lead-1")
                return lead is not None and lead.status is not LeadStatus.DIALLING

            await wait_for(over, 10, "the abandoned attempt")
            rows = (await supervisor_snapshot(bundle, port))["dialer"]
            spring = rows[0]
            assert spring["running"] is True and spring["mode"] == "progressive"
            assert spring["abandon_rate"] == {
                "window": "30d",
                "rule_pack": "US",
                "rate": 1.0,
                "cap": 0.03,
                "dropped": 1,
                "connected": 0,
            }
            assert spring["connects_per_agent_hour"] == 0.0  # logged-in time, no connect
            assert spring["dial_level"] == 0.0 and spring["lines_in_flight"] == 0
            await dialer.stop_campaign("spring")

    asyncio.run(main())
