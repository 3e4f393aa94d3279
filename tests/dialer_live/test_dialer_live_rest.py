"""The dialer over REST and /metrics: a campaign from YAML, a list from CSV, start,
status, the DNC list, and the Prometheus figures — with sipp as the carrier."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from dialer_kit import CAMPAIGN, Centre, answering, carrier, running_centre
from peer_kit import needs_sipp, wait_for

pytestmark = needs_sipp
GOOD = "+12125550101"
LATER_DNC = "+13125550102"
CSV = f"""id,phone,name
lead-1,{GOOD},Ann
lead-2,not a number,Bob
lead-3,{GOOD},Ann again
lead-4,{LATER_DNC},Cid
"""


async def raw(centre: Centre, method: str, path: str, token: str | None, **kw: Any) -> Any:
    headers = {"Content-Type": "application/yaml"} if "content" in kw else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await centre.client.request(method, f"/api/v1{path}", headers=headers, **kw)


async def agent_token(centre: Centre, agent: str) -> str:
    password = centre.bundle.generated_passwords[agent]
    body = {"user": agent, "password": password}
    response = await centre.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_campaign_over_rest_with_metrics(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            admin = centre.bundle.admin_token
            alice = await agent_token(centre, "alice")

            # roles: nobody unsigned, no agent manages campaigns; refusals change nothing
            assert (
                await raw(centre, "POST", "/dialer/campaigns", None, content=CAMPAIGN)
            ).status_code == 401
            refused = await raw(centre, "POST", "/dialer/campaigns", alice, content=CAMPAIGN)
            assert refused.status_code == 403
            assert centre.dialer.campaigns == {}

            bad = await raw(
                centre, "POST", "/dialer/campaigns", admin, content="name: x\nmode: fast\n"
            )
            assert bad.status_code == 422
            assert bad.json()["error"]["code"] == "invalid_dialer_input"
            missing = await raw(centre, "POST", "/dialer/campaigns/nope/start", admin)
            assert missing.status_code == 404

            created = await raw(centre, "POST", "/dialer/campaigns", admin, content=CAMPAIGN)
            assert created.status_code == 200, created.text
            assert created.json()["running"] is False

            report = await raw(centre, "POST", "/dialer/campaigns/spring/lists", admin, content=CSV)
            assert report.status_code == 200, report.text
            found = report.json()
            assert (found["rows"], found["accepted"]) == (4, 2)
            assert [r["line"] for r in found["rejected"]] == [3, 4]

            sipp = await carrier(tmp_path, "answering", answering(200), port=centre.trunk_port)
            await centre.call("POST", "/agents/alice/login", json={"ready": True})
            status = await centre.call("POST", "/dialer/campaigns/spring/start")
            assert status["running"] is True
            await wait_for(lambda: centre.dialer.status("spring")["lines_in_flight"] == 1, 10)
            # the agent hears "do not call me" from another customer: effective at once
            dnc = await raw(centre, "POST", "/dialer/dnc", alice, json={"number": LATER_DNC})
            assert dnc.status_code == 200 and dnc.json()["source"] == "agent:alice"

            offers: list[Any] = []
            while not offers:
                offers = (await centre.call("GET", "/agents/alice/offers"))["offers"]
                await asyncio.sleep(0.02)
            contact_id = offers[0]["contact_id"]
            await centre.call("POST", f"/agents/alice/offers/{contact_id}/accept")
            await asyncio.sleep(0.3)
            await centre.call("POST", f"/agents/alice/contacts/{contact_id}/complete", json={})
            code, output = await sipp.result()
            assert code == 0, output[-3000:]
            await wait_for(lambda: centre.dialer.status("spring")["refused"] == 1, 10)
            assert LATER_DNC not in sipp.seen()

            status = await centre.call("GET", "/dialer/campaigns/spring")
            assert status["attempts"] == {"answered": 1}
            assert status["abandon_rate"]["window"] == "30d"  # the US pack: 47 CFR 64.1200(a)(7)
            assert status["connects_per_agent_hour"] > 0
            listed = await centre.call("GET", "/dialer/campaigns")
            assert [c["campaign"] for c in listed["campaigns"]] == ["spring"]
            stopped = await centre.call("POST", "/dialer/campaigns/spring/stop")
            assert stopped["running"] is False

            metrics = (await centre.client.get("/metrics", headers=centre.headers)).text
            assert (
                'ringway_dialer_attempts_total{campaign="spring",outcome="answered"} 1.0' in metrics
            )
            assert (
                'ringway_dialer_attempts_total{campaign="spring",outcome="refused"} 1.0' in metrics
            )
            assert 'ringway_dialer_abandon_rate{campaign="spring",window="30d"} 0.0' in metrics
            assert 'ringway_dialer_dial_level{campaign="spring"}' in metrics
            assert 'ringway_dialer_connects_per_agent_hour{campaign="spring"}' in metrics

    asyncio.run(main())
