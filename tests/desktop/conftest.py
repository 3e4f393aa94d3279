"""A real service (uvicorn on a free loopback port, real router, timer, event log,
customer store) and websocket clients speaking the desktop protocol to it.

Everything runs on one event loop inside ``asyncio.run``: the server's tasks, the
service's timer and the test's clients, as in production. Helpers are fixtures
and methods (test directories have no ``__init__.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import serve_kit

from agent_desktop.client import Client
from ringway.app import ServiceBundle, build
from ringway.auth import Role
from ringway.config import RingwayConfig, load_config_text

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
  seed_demo_customers: true
  lookup_timeout_ms: 2000
routing:
  offer_timeout_s: {offer_timeout_s}
  wrap_up_s: 30
  entry_points: {{"web-chat": chat, "help@ringway.test": email}}
desktop:
  heartbeat_s: {heartbeat_s}
  dead_after_s: {dead_after_s}
  disconnect_grace_s: {grace_s}
  replay_frames: {replay_frames}
  chat: {{customer_grace_s: 2, rate_per_s: 2, burst: 3}}
mail:
  relay_host: 127.0.0.1
  relay_port: {relay_port}
  message_id_domain: ringway.test
skills: [support, sales, english]
queues:
  - {{name: support, channel: voice, requires: "support>=1"}}
  - {{name: sales, channel: voice, requires: "sales>=1"}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
  - {{name: email, channel: email, requires: "support>=1", strategy: round-robin, wrap_up_s: 0}}
agents:
  - {{id: alice, name: Alice Ahmed, extension: "1001", skills: {{support: 5, english: 8}}}}
  - {{id: bob, name: Bob Baker, skills: {{support: 2, sales: 6}}}}
users:
  - {{id: sam, role: supervisor, name: Sam Supervisor}}
"""


def config_in(tmp_path: Path, **options: Any) -> RingwayConfig:
    values = {
        "data_dir": tmp_path,
        "offer_timeout_s": 5,
        "heartbeat_s": 0.2,
        "dead_after_s": 2.0,
        "grace_s": 0.3,
        "replay_frames": 2000,
        "relay_port": 1,
        **options,
    }
    return load_config_text(CONFIG.format(**values), "desktop-test.yaml")


@dataclass
class Desk:
    """The running service plus ways to open clients on it."""

    bundle: ServiceBundle
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def token(self, who: str) -> str:
        assert self.bundle.auth is not None
        role = {"sam": Role.SUPERVISOR}.get(who, Role.AGENT)
        return self.bundle.auth.issue(who, role)[0]

    async def socket(self, path: str = "/ws/v1/desktop") -> Client:
        return await Client.connect(self.url + path)

    async def open(
        self,
        who: str,
        view: str = "agent",
        *,
        resume: tuple[str, int] | None = None,
        ping: bool = True,
    ) -> Client:
        """A desktop connection through hello; returns after the welcome."""
        client = await self.socket()
        await client.hello(self.token(who), view, resume)
        if ping:
            client.start_pinging(0.2)
        return client

    async def agent(self, who: str, *, ready: bool = True, ping: bool = True) -> Client:
        client = await self.open(who, ping=ping)
        await client.expect("snapshot")
        await client.ok("login", ready=ready)
        return client

    async def chat(self, text: str = "Hello", **fields: Any) -> Client:
        """A customer's chat widget connection, started; ``session`` is the chat id."""
        client = await self.socket("/ws/v1/chat")
        await client.send("start", text=text, **fields)
        welcome = await client.read_welcome()
        client.session = welcome["chat_id"]
        client.start_pinging(0.2)
        return client

    @property
    def service(self) -> Any:
        return self.bundle.service

    async def until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            assert loop.time() < deadline, "condition not met in time"
            await asyncio.sleep(0.01)


@asynccontextmanager
async def serving(
    config: RingwayConfig, env: Mapping[str, str] | None = None
) -> AsyncIterator[Desk]:
    bundle = build(config, env or {})
    async with serve_kit.serving(bundle.app, ws_per_message_deflate=False) as port:
        yield Desk(bundle, port)


Scenario = Callable[[Desk], Awaitable[None]]
Run = Callable[..., None]


@pytest.fixture
def run_desk(tmp_path: Path) -> Run:
    """``run_desk(scenario, **config_options)``: run an async scenario on a live server."""

    def run(scenario: Scenario, **options: Any) -> None:
        async def main() -> None:
            async with serving(config_in(tmp_path, **options)) as desk:
                await scenario(desk)

        asyncio.run(main())

    return run
