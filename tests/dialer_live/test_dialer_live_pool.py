"""Blending in the live dialer: which ready agents a campaign may dial for.

No SIP here: the pool is read from the routing service (router state and its
stats book), with real contacts created through the service.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import CAMPAIGN, config_text

from dialer.blending import Blender
from dialer.campaign import load_campaign_text
from ringway.app import build
from ringway.config import load_config_text
from ringway.dialer_live.pool import campaign_pool
from ringway.service import NewContact
from router.model import Channel


def test_inbound_load_keeps_the_last_inbound_agent_off_outbound(tmp_path: Path) -> None:
    async def main() -> None:
        bundle = build(load_config_text(config_text(tmp_path), "t.yaml"), {})
        service, app = bundle.service, bundle.app
        campaign = load_campaign_text(CAMPAIGN, "spring.yaml")
        blender = Blender()
        async with app.router.lifespan_context(app):
            login = service.router.login
            service.execute("login", lambda now: login("alice", now, ready=True))
            idle = campaign_pool(service, campaign, blender)
            assert (idle.logged_in, idle.free, idle.held_for_inbound) == (1, 1, 0)

            # alice also serves inbound support; 40 support calls in the stats window
            # (here: offered, then given up while alice was on a break) give it a load
            # of several Erlangs that she alone staffs
            service.execute("break", lambda now: service.router.set_not_ready("alice", "b", now))
            for _ in range(40):
                contact = await service.create_contact(
                    NewContact(channel=Channel.VOICE, queue="support", origin="+12125550123")
                )
                service.execute("end", lambda now, c=contact.id: service.router.end(c, now))
            service.execute("ready", lambda now: service.router.set_ready("alice", now))
            busy = campaign_pool(service, campaign, blender)
            assert (busy.logged_in, busy.free, busy.held_for_inbound) == (1, 0, 1)
            assert any("support" in reason for reason in busy.reasons)

            # a campaign restricted to other agents does not count her at all
            others = load_campaign_text(CAMPAIGN + "agents: [carol]\n", "other.yaml")
            assert campaign_pool(service, others, blender).logged_in == 0

    asyncio.run(main())
