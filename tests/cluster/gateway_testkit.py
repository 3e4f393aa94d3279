"""Cluster nodes with their websocket gateways and SMTP intakes on free ports.

Each node is a real service: in-process under uvicorn (`served_node`) or a
``ringway serve`` subprocess (`ServeProcess` with `gateway_yaml`), sharing one
redis-server; clients are the desktop protocol's `Client` over real sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from cluster_testkit import ADMIN_TOKEN, ENV
from serve_kit import serving

from agent_desktop.client import Client
from ringway.app import ServiceBundle, build
from ringway.auth import Authenticator, Role
from ringway.cluster import ClusterNode
from ringway.config import RingwayConfig, load_config_text

GATEWAY_CONFIG = """
service:
  host: 127.0.0.1
  http_port: {http_port}
  smtp_port: {smtp_port}
  data_dir: "{data_dir}"
  customer_store: "memory://"
  seed_demo_customers: true
  redis_url: "{redis_url}"
  node_id: {node_id}
  cluster: {{lease_ms: {lease_ms}, command_ttl_ms: {command_ttl_ms}}}
routing:
  offer_timeout_s: {offer_timeout_s}
  wrap_up_s: 30
  entry_points: {{"web-chat": chat, "help@ringway.test": email}}
desktop:
  heartbeat_s: 0.5
  dead_after_s: 10
  disconnect_grace_s: 3
  supervisor_push_s: 0.2
  chat: {{customer_grace_s: 5}}
mail:
  relay_host: 127.0.0.1
  relay_port: {relay_port}
  relay_timeout_s: 3
  message_id_domain: ringway.test
skills: [support]
queues:
  - {{name: support, channel: voice, requires: "support>=1"}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
  - {{name: email, channel: email, requires: "support>=1", wrap_up_s: 0}}
agents:
  - {{id: alice, name: Alice Ahmed, skills: {{support: 5}}}}
  - {{id: bob, name: Bob Baker, skills: {{support: 2}}}}
users:
  - {{id: sam, role: supervisor, name: Sam Supervisor}}
"""


def gateway_yaml(
    redis_url: str,
    node_id: str,
    data_dir: Path,
    *,
    http_port: int = 0,
    smtp_port: int | str = "null",
    lease_ms: int = 1500,
    command_ttl_ms: int = 4000,
    offer_timeout_s: float = 30,
    relay_port: int = 1,
) -> str:
    return GATEWAY_CONFIG.format(
        redis_url=redis_url,
        node_id=node_id,
        data_dir=data_dir,
        http_port=http_port,
        smtp_port=smtp_port,
        lease_ms=lease_ms,
        command_ttl_ms=command_ttl_ms,
        offer_timeout_s=offer_timeout_s,
        relay_port=relay_port,
    )


def gateway_config(redis_url: str, node_id: str, data_dir: Path, **options: Any) -> RingwayConfig:
    return load_config_text(
        gateway_yaml(redis_url, node_id, data_dir, **options), f"{node_id}.yaml"
    )


def token(who: str, config: RingwayConfig) -> str:
    """A bearer token any node accepts (they share ``RINGWAY_TOKEN_SECRET``)."""
    role = Role.SUPERVISOR if who == "sam" else Role.AGENT
    return Authenticator(config, ENV).issue(who, role)[0]


@dataclass
class Served:
    """A node under uvicorn: its bundle, HTTP/websocket base URLs, clients."""

    bundle: ServiceBundle
    port: int

    @property
    def node(self) -> ClusterNode:
        host = self.bundle.service.host
        assert isinstance(host, ClusterNode)
        return host

    @property
    def config(self) -> RingwayConfig:
        return self.bundle.service.config

    async def desktop(self, who: str, view: str = "agent", **resume: Any) -> Client:
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws/v1/desktop")
        await client.hello(token(who, self.config), view, resume.get("resume"))
        client.start_pinging(0.5)
        return client

    async def chat(self, text: str, **fields: Any) -> Client:
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws/v1/chat")
        await client.send("start", text=text, **{"name": "Carol", **fields})
        welcome = await client.read_welcome()
        client.session = welcome["chat_id"]
        client.start_pinging(0.5)
        return client


async def rest(base_url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=15) as client:
        return await client.request(method, "/api/v1" + path, **kwargs)


class SinkHandler:
    """The mail relay replies go out through: keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[EmailMessage] = asyncio.Queue()

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        message = BytesParser(policy=default).parsebytes(envelope.original_content or b"")
        assert isinstance(message, EmailMessage)
        self.messages.put_nowait(message)
        return "250 OK"


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[tuple[SinkHandler, int]]:
    handler = SinkHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", 0)
    try:
        yield handler, int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def served_node(config: RingwayConfig) -> AsyncIterator[Served]:
    bundle = build(config, ENV)
    async with serving(bundle.app, ws_per_message_deflate=False) as port:
        yield Served(bundle, port)
