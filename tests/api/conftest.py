"""A real app (real router, timer, event log, customer store) driven over ASGI.

``starlette.testclient`` warns when it runs on ``httpx`` (it wants ``httpx2``),
and warnings are errors here, so tests drive the app with ``httpx.AsyncClient``
over ``httpx.ASGITransport`` inside ``asyncio.run`` and run the app's lifespan
themselves. Everything — requests, the service's timer task — shares one loop,
as in production.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ringway.app import ServiceBundle, build
from ringway.auth import Authenticator, Role
from ringway.config import RingwayConfig, load_config_text

# Helpers are fixtures and methods of `Api`, not imports: test directories have no
# __init__.py, so a test module cannot import this conftest reliably.
ALICE_PASSWORD = "alice-correct-horse"
ENV = {"RW_TEST_ALICE_PW": ALICE_PASSWORD}

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "{customer_store}"
  metrics_public: {metrics_public}
  seed_demo_customers: true
  lookup_timeout_ms: 2000
routing:
  offer_timeout_s: 30
  wrap_up_s: 30
  entry_points: {{"+18005550100": sales}}
  default_queues: {{voice: support}}
skills: [support, sales, english]
queues:
  - name: support
    channel: voice
    requires: "support>=1"
    sla_by_tier:
      gold: {{target: 0.9, threshold_s: 20}}
  - {{name: sales, channel: voice, requires: "sales>=1"}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
  - name: quick
    channel: voice
    requires: "support>=1"
    offer_timeout_s: {offer_timeout_s}
    wrap_up_s: {offer_timeout_s}
agents:
  - {{id: alice, name: Alice, skills: {{support: 5, english: 8}}, password_env: RW_TEST_ALICE_PW}}
  - {{id: bob, name: Bob, skills: {{support: 2, sales: 6}}}}
users:
  - {{id: sam, role: supervisor}}
  - {{id: ada, role: admin}}
"""


def config_in(
    tmp_path: Path,
    *,
    customer_store: str = "memory://",
    metrics_public: bool = True,
    offer_timeout_s: float = 0.2,
) -> RingwayConfig:
    text = CONFIG.format(
        data_dir=tmp_path,
        customer_store=customer_store,
        metrics_public=str(metrics_public).lower(),
        offer_timeout_s=offer_timeout_s,
    )
    return load_config_text(text, "test.yaml")


ConfigFactory = Callable[..., RingwayConfig]


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """``make_config(**options)``: the test config with its data under ``tmp_path``."""
    return functools.partial(config_in, tmp_path)


@dataclass
class Api:
    """An HTTP client for the app plus ready-made tokens for every configured user."""

    client: httpx.AsyncClient
    bundle: ServiceBundle
    env: Mapping[str, str]

    @property
    def auth(self) -> Authenticator:
        assert self.bundle.auth is not None
        return self.bundle.auth

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "admin":
            return {"Authorization": f"Bearer {self.bundle.admin_token}"}
        role = {"sam": Role.SUPERVISOR, "ada": Role.ADMIN}.get(who, Role.AGENT)
        token, _ = self.auth.issue(who, role)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        path: str,
        who: str | None = "sam",
        *,
        expect: int = 200,
        **kwargs: Any,
    ) -> Any:
        """Send a request as ``who`` and assert the status; returns the JSON body."""
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, (method, path, response.text)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    async def get(self, path: str, who: str | None = "sam", **kwargs: Any) -> Any:
        return await self.call("GET", "/api/v1" + path, who, **kwargs)

    async def post(self, path: str, who: str | None = "sam", **kwargs: Any) -> Any:
        return await self.call("POST", "/api/v1" + path, who, **kwargs)

    async def ready(self, agent_id: str) -> Any:
        return await self.post(f"/agents/{agent_id}/login", agent_id, json={"ready": True})

    async def voice(self, origin: str | None, queue: str = "support", **extra: Any) -> Any:
        """A voice contact announced by an integration (admin token), as created."""
        body = {"channel": "voice", "queue": queue, "origin": origin, **extra}
        return await self.post("/contacts", "admin", json=body, expect=201)

    async def scrape(self, who: str | None = None, **kwargs: Any) -> Metrics:
        return Metrics(await self.call("GET", "/metrics", who, **kwargs))

    async def state(self) -> dict[str, Any]:
        """What a failed request must leave untouched: agents, contacts, customers, events."""
        agents = await self.get("/agents")
        contacts = await self.get("/contacts")
        customers = await self.get("/customers")
        events = await self.get("/events?after=0&limit=1")
        return {
            "agents": [
                (a["id"], a["state"], a["presence"], a["reason"], a["reservation"], a["contacts"])
                for a in agents["agents"]
            ],
            "contacts": [
                (c["id"], c["status"], c["queue"], c["agent_id"]) for c in contacts["contacts"]
            ],
            "customers": customers["customers"],
            "last_seq": events["last_seq"],
        }


class Metrics:
    """A Prometheus text exposition, read sample by sample."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, str], float] = {}
        for line in text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            series, value = line.rsplit(" ", 1)
            name, _, labels = series.partition("{")
            key = ",".join(sorted(labels.rstrip("}").split(","))) if labels else ""
            self.samples[(name, key)] = float(value)

    def __call__(self, name: str, **labels: str) -> float:
        key = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        if (name, key) not in self.samples:
            raise AssertionError(f"no sample {name}{{{key}}} in the exposition")
        return self.samples[(name, key)]


@asynccontextmanager
async def serving(config: RingwayConfig, env: Mapping[str, str] = ENV) -> AsyncIterator[Api]:
    bundle = build(config, env)
    app = bundle.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ringway.test") as c:
            yield Api(c, bundle, env)


Scenario = Callable[[Api], Awaitable[None]]


Run = Callable[..., None]


@pytest.fixture
def run_api(tmp_path: Path) -> Run:
    """``run_api(scenario, env=…, **config_options)``: run an async scenario on a fresh app."""

    def run(scenario: Scenario, env: Mapping[str, str] = ENV, **options: Any) -> None:
        async def main() -> None:
            async with serving(config_in(tmp_path, **options), env) as api:
                await scenario(api)

        asyncio.run(main())

    return run
