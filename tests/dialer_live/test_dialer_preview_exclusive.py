"""A preview contact is its agent's alone, in the router itself (`Contact.exclusive_agent`).

The release hooks of `RoutingService.call` end a preview before its agent goes
not-ready; these tests go round them (the command straight to the router, as a
not-ready racing the customer lookup or arriving on another node would) and show
that no other agent is offered the contact even then.

Real peers: the service under uvicorn, desktops over websockets.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from peer_kit import needs_sipp, wait_for
from preview_kit import preview_centre
from test_dialer_preview import previewed

from router.agents import Agent

pytestmark = needs_sipp


def test_not_ready_straight_to_the_router_never_offers_the_preview_to_another(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with preview_centre(tmp_path) as centre:
            await centre.campaign()
            service = centre.bundle.service
            # carol may take outbound work (the demo's carol has no outbound capacity) and
            # sells well enough for the queue, but is not one of the campaign's agents
            carol_may_dial = Agent(
                id="carol", name="Carol Chen", skills={"sales": 8}, extension="1003"
            )
            service.execute("add_agent", lambda now: service.router.add_agent(carol_may_dial, now))
            carol = await centre.desktop("carol")
            alice = await centre.desktop("alice")
            frame = await previewed(centre, alice)
            contact_id = frame["contact_id"]
            contact = service.router.contact(contact_id)
            assert contact.exclusive_agent and contact.preferred_agent == "alice"
            # no release hook runs: the router alone decides where the contact goes
            service.execute(
                "agent_state", lambda now: service.router.set_not_ready("alice", "coffee", now)
            )
            assert contact.status.value in ("queued", "cancelled")
            assert contact.agent_id is None and contact.offers == 1  # carol not offered it
            assert centre.state("carol") == "ready"
            ended = await alice.expect("preview_ended", timeout=5)
            assert ended["reason"] == "withdrawn"  # the router's rescind closed the preview
            await wait_for(lambda: contact.status.value == "cancelled", 5, "preview cancelled")
            await carol.quiet(1.0)
            assert carol.seen("preview") == [] and carol.seen("offer") == []
            assert contact.offers == 1
            await carol.close()
            await alice.close()

    asyncio.run(main())
