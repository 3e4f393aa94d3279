"""Preview mode's gaps closed: no way round the dial, no lead leaking to another
agent, no customer left alone when the agent's phone fails.

Real peers: the service under uvicorn, desktops over websockets, REST over
HTTP, sipp as the carrier and as alice's registered phone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import answering, carrier
from peer_kit import free_port, needs_sipp, wait_for
from preview_kit import preview_centre
from test_dialer_bridge import PHONE_BUSY_XML
from test_dialer_preview import ENV, lead_of, previewed, register_alice

from dialer.leads import LeadStatus, Outcome
from router.agents import Agent

pytestmark = needs_sipp


def test_rest_accept_of_a_preview_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                await centre.campaign()
                alice = await centre.desktop("alice")
                frame = await previewed(centre, alice)
                contact_id = frame["contact_id"]
                for verb in ("accept", "reject"):
                    path = f"/agents/alice/offers/{contact_id}/{verb}"
                    response = await centre.rest("alice", "POST", path)
                    assert response.status_code == 409, response.text
                    assert response.json()["error"]["code"] == "preview_contact"
                assert centre.state("alice") == "reserved"  # nothing changed
                contact = centre.bundle.service.router.contact(contact_id)
                assert contact.answered_at is None and contact.agent_id == "alice"
                await asyncio.sleep(0.5)
                assert line.seen() == ""  # and nothing was dialled
                await alice.ok("preview_skip", lead_id="lead-1")
                await alice.close()
            finally:
                await line.stop()

    asyncio.run(main())


def test_not_ready_never_hands_the_preview_to_another_agent(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            await centre.campaign()
            service = centre.bundle.service
            # carol may take outbound work (the demo's carol has no outbound capacity, so
            # a leak could not show) but is not one of the campaign's agents
            carol_may_dial = Agent(
                id="carol", name="Carol Chen", skills={"sales": 8}, extension="1003"
            )
            service.execute("add_agent", lambda now: service.router.add_agent(carol_may_dial, now))
            carol = await centre.desktop("carol")
            alice = await centre.desktop("alice")
            frame = await previewed(centre, alice)
            contact_id = frame["contact_id"]
            await alice.ok("state", state="not_ready", reason="coffee")
            ended = await alice.expect("preview_ended", timeout=5)
            assert ended["reason"] == "withdrawn: agent released"
            await wait_for(lambda: centre.state("alice") == "not_ready", 5, "alice not ready")
            await carol.quiet(1.0)
            assert carol.seen("preview") == [] and carol.seen("offer") == []
            contact = centre.bundle.service.router.contact(contact_id)
            assert contact.offers == 1  # alice's offer only: never re-offered
            assert contact.status.value == "cancelled"
            assert centre.state("carol") == "ready"
            lead = lead_of(centre.dialer)
            assert lead.status is LeadStatus.READY and lead.next_attempt_at is None

            # the same over REST (a supervisor or the agent's own client)
            await alice.ok("state", state="ready")
            frame = await alice.expect("preview", timeout=10)
            response = await centre.rest(
                "alice", "POST", "/agents/alice/state", json={"state": "not_ready"}
            )
            assert response.status_code == 200, response.text
            await alice.expect("preview_ended", timeout=5)
            await carol.quiet(1.0)
            assert carol.seen("preview") == [] and carol.seen("offer") == []
            assert centre.bundle.service.router.contact(frame["contact_id"]).offers == 1
            await carol.close()
            await alice.close()

    asyncio.run(main())


def test_agent_phone_busy_plays_safe_harbour_and_releases_the_agent(tmp_path: Path) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path, ENV) as centre:
            phone_port = free_port()
            edge = await register_alice(tmp_path, centre, phone_port)
            phone = await carrier(tmp_path, "phone", PHONE_BUSY_XML, port=phone_port, args=(edge,))
            line = await carrier(tmp_path, "carrier", answering(100), port=centre.trunk_port)
            try:
                await centre.campaign()
                alice = await centre.desktop("alice")
                await previewed(centre, alice)
                await alice.ok("preview_accept", lead_id="lead-1")
                result = await alice.expect("preview_result", timeout=10)
                assert result["outcome"] == "abandoned"
                code, output = await line.result()
                assert code == 0, output[-3000:]  # answered, then our BYE (not theirs)
                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]  # the phone was rung and said 486
                status = centre.dialer.status("look")
                harbour = status["safe_harbour"]
                assert harbour["played"] == 1 and harbour["echoed_packets"] > 0
                assert status["abandon_rate"]["counts"]["dropped"] == 1
                assert lead_of(centre.dialer).outcomes == (Outcome.ABANDONED,)
                await wait_for(lambda: centre.state("alice") == "ready", 5, "alice released")
                assert centre.dialer.watches == {} and status["previews"] == []
                await alice.close()
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())
