"""A real app (router, timer, event log, SQLite call records) driven over ASGI.

As in tests/api: ``httpx.AsyncClient`` over ``httpx.ASGITransport`` inside
``asyncio.run``, the app's lifespan run by the test, one loop for everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ringway.app import ServiceBundle, build
from ringway.auth import Role
from ringway.calls import CallRecords
from ringway.config import RingwayConfig, load_config_text

CUSTOMER_CLI = "+12025550147"  # demo customer cust-1005
CUSTOMER_ID = "cust-1005"

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "sqlite:///{data_dir}/customers.sqlite3"
  seed_demo_customers: true
  lookup_timeout_ms: 2000
routing:
  offer_timeout_s: 30
  wrap_up_s: 30
skills: [support, sales]
queues:
  - name: support
    channel: voice
    requires: "support>=1"
    recording: {{enabled: true, announcement: call_recorded, format: stereo}}
  - name: sales
    channel: voice
    requires: "sales>=1"
    recording: {{enabled: true, format: mono}}
  - {{name: plain, channel: voice, requires: "support>=1"}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
agents:
  - {{id: alice, skills: {{support: 5, sales: 5}}}}
  - {{id: bob, skills: {{support: 2}}}}
users:
  - {{id: sam, role: supervisor}}
"""


def config_in(data_dir: Path) -> RingwayConfig:
    return load_config_text(CONFIG.format(data_dir=data_dir), "recording-test.yaml")


@dataclass
class Api:
    client: httpx.AsyncClient
    bundle: ServiceBundle

    @property
    def calls(self) -> CallRecords:
        assert self.bundle.calls is not None
        return self.bundle.calls

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "admin":
            return {"Authorization": f"Bearer {self.bundle.admin_token}"}
        assert self.bundle.auth is not None
        role = Role.SUPERVISOR if who == "sam" else Role.AGENT
        token, _ = self.bundle.auth.issue(who, role)
        return {"Authorization": f"Bearer {token}"}

    async def request(
        self, method: str, path: str, who: str | None = "sam", *, expect: int = 200, **kw: Any
    ) -> httpx.Response:
        response = await self.client.request(
            method, "/api/v1" + path, headers=self.headers(who), **kw
        )
        assert response.status_code == expect, (method, path, response.text)
        return response

    async def json(self, method: str, path: str, who: str | None = "sam", **kw: Any) -> Any:
        response = await self.request(method, path, who, **kw)
        if response.status_code == 204:
            return None
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    async def connected_call(self, queue: str = "support", origin: str = CUSTOMER_CLI) -> str:
        """A voice contact from a demo customer, offered to alice and accepted."""
        await self.json("POST", "/agents/alice/login", "alice", json={"ready": True})
        body = {"channel": "voice", "queue": queue, "origin": origin}
        contact = await self.json("POST", "/contacts", "admin", json=body, expect=201)
        cid: str = contact["id"]
        await self.json("POST", f"/agents/alice/offers/{cid}/accept", "alice")
        return cid


@asynccontextmanager
async def serving(data_dir: Path) -> AsyncIterator[Api]:
    bundle = build(config_in(data_dir), {})
    app = bundle.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ringway.test") as c:
            yield Api(c, bundle)


Scenario = Callable[[Api], Awaitable[None]]
Run = Callable[[Scenario], None]


@pytest.fixture
def run_api(tmp_path: Path) -> Run:
    """``run_api(scenario)``: run an async scenario against a fresh app under tmp_path."""

    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with serving(tmp_path) as api:
                await scenario(api)

        asyncio.run(main())

    return run


Serve = Callable[[Path], Any]


@pytest.fixture
def serve() -> Serve:
    """``async with serve(data_dir) as api``: an app on a given data dir (restart tests)."""
    return serving
