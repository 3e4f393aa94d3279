"""The dialer kit served by uvicorn, so agent desktops connect over real websockets.

A preview campaign needs both peers at once: sipp as the carrier (and as the
agent's phone) and the agent's desktop (`agent_desktop.client.Client`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from dialer_kit import config_text, moving_clock
from peer_kit import free_port
from serve_kit import serving

from agent_desktop.client import Client
from crm.model import Customer
from ringway.app import ServiceBundle, build
from ringway.auth import Role
from ringway.config import load_config_text
from ringway.dialer_live.service import DialerService
from ringway.dialer_live.settings import DialerSettings
from ringway.telephony import TelephonySettings

CUSTOMER = "+12125550101"
CAMPAIGN = """name: look
mode: preview
queue: outbound-sales
agents: [alice]
caller_id: "+1 212 555 0199"
safe_harbour_prompt: safe-harbour-us
preview: {{timeout_s: {timeout}, on_timeout: {on_timeout}, skip_retry_minutes: 30}}
"""


@dataclass
class PreviewCentre:
    bundle: ServiceBundle
    dialer: DialerService
    trunk_port: int
    port: int

    async def desktop(self, who: str, *, ready: bool = True) -> Client:
        assert self.bundle.auth is not None
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws/v1/desktop")
        await client.hello(self.bundle.auth.issue(who, Role.AGENT)[0], "agent")
        client.start_pinging(0.2)
        await client.expect("snapshot")
        await client.ok("login", ready=ready)
        return client

    async def wallboard(self) -> tuple[Client, dict[str, Any]]:
        """sam's supervisor view and its snapshot."""
        assert self.bundle.auth is not None
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws/v1/desktop")
        await client.hello(self.bundle.auth.issue("sam", Role.SUPERVISOR)[0], "supervisor")
        client.start_pinging(0.2)
        return client, await client.expect("snapshot")

    async def campaign(self, *, timeout: float = 12, on_timeout: str = "skip") -> None:
        """The ``look`` campaign with lead-1 (Ann, whose number the customer store knows)."""
        await self.bundle.service.customers.create(
            Customer(id="cust-ann", name="Ann Archer", phones=(CUSTOMER,))
        )
        text = CAMPAIGN.format(timeout=timeout, on_timeout=on_timeout)
        self.dialer.add_campaign_text(text, "look.yaml")
        report = self.dialer.import_list("look", f"id,phone,name\nlead-1,{CUSTOMER},Ann\n")
        assert len(report.accepted) == 1

    async def rest(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One REST request as ``who`` (an agent's token) over the real socket."""
        assert self.bundle.auth is not None
        token = self.bundle.auth.issue(who, Role.AGENT)[0]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            return await client.request(
                method, f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs
            )

    def state(self, agent: str) -> str:
        return self.bundle.service.router.agent(agent).state.value


@contextlib.asynccontextmanager
async def preview_centre(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[PreviewCentre]:
    text = config_text(tmp_path).replace(
        "\ndesktop:\n", "\ndesktop:\n  disconnect_grace_s: 0.5\n", 1
    )
    config = load_config_text(text, "preview-test.yaml")
    trunk_port = free_port()
    settings = DialerSettings(
        trunk=f"127.0.0.1:{trunk_port}",
        ring_timeout_s=3.0,
        allow_short_ring=True,  # the test carrier's no-answer case; live minimum is 15 s
        reevaluate_s=0.2,
    )
    sip = TelephonySettings(host="127.0.0.1", port=free_port())
    bundle = build(config, env or {}, sip=sip, dialer=settings)
    async with serving(bundle.app) as port:
        assert bundle.dialer is not None
        bundle.dialer.wall = moving_clock()
        yield PreviewCentre(bundle, bundle.dialer, trunk_port, port)
