"""SIP edges on two nodes against one Redis: a call taken by a follower.

Two in-process nodes (the demo configuration, a private redis-server): A leads
and routes, B follows. Real sipp peers talk to B's SIP port: the caller dials
in and presses 2 (RFC 4733), bob's phone is registered on B. B's B2BUA creates
the contact through the leader (forwarded), follows the offer from its replay
of the leader's events, rings bob's phone, and forwards accept and end; the
contact's record on either node shows what happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cluster_testkit import ADMIN_TOKEN, redis_server, wait_for
from peer_kit import free_port, needs_sipp, tone_file
from telephony_kit import (
    ANSWERING_PHONE_XML,
    RINGING_PHONE_XML,
    answering_phone,
    caller,
    caller_xml,
    demo_config_text,
    register_phone,
)
from telephony_kit import (
    ENV as SIP_ENV,
)

from ringway.app import ServiceBundle, build
from ringway.cluster import ClusterNode
from ringway.config import load_config_text
from ringway.telephony import TelephonySettings

pytestmark = needs_sipp
ENV = {"RINGWAY_ADMIN_TOKEN": ADMIN_TOKEN, "RINGWAY_TOKEN_SECRET": "cluster-sip-secret", **SIP_ENV}


@dataclass
class SipNode:
    bundle: ServiceBundle
    client: httpx.AsyncClient

    @property
    def node(self) -> ClusterNode:
        host = self.bundle.service.host
        assert isinstance(host, ClusterNode)
        return host

    @property
    def sip_port(self) -> int:  # what the telephony kit's sipp helpers dial
        assert self.bundle.telephony is not None
        return self.bundle.telephony.port

    def cdrs(self) -> list[dict[str, Any]]:
        assert self.bundle.telephony is not None
        return list(self.bundle.telephony.centre.cdrs)

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        response = await self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response.json()


def cluster_demo_config(tmp: Path, redis_url: str, node_id: str, offer_timeout_s: float) -> Any:
    text = demo_config_text(tmp, offer_timeout_s).replace(
        "service:\n",
        f'service:\n  redis_url: "{redis_url}"\n  node_id: {node_id}\n'
        "  cluster: {lease_ms: 1500, command_ttl_ms: 4000}\n",
        1,
    )
    return load_config_text(text, f"{node_id}.yaml")


@asynccontextmanager
async def sip_node(
    tmp: Path, redis_url: str, node_id: str, offer_s: float
) -> AsyncIterator[SipNode]:
    data = tmp / node_id
    data.mkdir()
    config = cluster_demo_config(data, redis_url, node_id, offer_s)
    settings = TelephonySettings(host="127.0.0.1", port=0, announce_every_s=1.0)
    bundle = build(config, ENV, sip=settings)
    app = bundle.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
            yield SipNode(bundle, client)


Scenario = Callable[[SipNode, SipNode], Awaitable[None]]


def run(tmp: Path, scenario: Scenario, offer_timeout_s: float = 5.0) -> None:
    with redis_server(tmp / "redis") as server:

        async def main() -> None:
            async with AsyncExitStack() as stack:
                a = await stack.enter_async_context(
                    sip_node(tmp, server.url, "na", offer_timeout_s)
                )
                await wait_for(lambda: a.node.is_leader, 5, "A to lead")
                b = await stack.enter_async_context(
                    sip_node(tmp, server.url, "nb", offer_timeout_s)
                )
                await wait_for(lambda: b.node.replica.loaded, 5, "B's replica")
                assert not b.node.is_leader
                await scenario(a, b)

        asyncio.run(main())


async def contact_on_both(a: SipNode, b: SipNode, contact_id: str, statuses: set[str]) -> None:
    """The contact as the leader's router and as B (forwarded to it) report it."""
    for node in (a, b):
        contact = await node.api("GET", f"/contacts/{contact_id}")
        assert contact["status"] in statuses, contact
        assert contact["channel"] == "voice" and contact["queue"] == "billing"


async def until_status(node: SipNode, contact_id: str, statuses: set[str]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        contact: dict[str, Any] = await node.api("GET", f"/contacts/{contact_id}")
        if contact["status"] in statuses or loop.time() > deadline:
            return contact
        await asyncio.sleep(0.1)


def test_call_on_a_follower_is_routed_by_the_leader_and_bridged_there(tmp_path: Path) -> None:
    """Caller and bob's phone both on the follower B."""
    bridged_on_follower(tmp_path, phone_on="b")


def test_phone_registered_on_the_leader_rings_for_a_call_on_the_follower(tmp_path: Path) -> None:
    """Bob's phone registered with A: B, which carries the call, finds its binding in
    Redis (`ringway.cluster.phones`) and INVITEs it directly; media stays on B."""
    bridged_on_follower(tmp_path, phone_on="a")


def bridged_on_follower(tmp_path: Path, phone_on: str) -> None:
    async def scenario(a: SipNode, b: SipNode) -> None:
        phone_port = free_port()
        registrar = a if phone_on == "a" else b
        await register_phone(tmp_path, registrar, phone_port)  # type: ignore[arg-type]
        if phone_on == "a":  # B learns of it from Redis within a refresh or two
            telephony = b.bundle.telephony
            assert telephony is not None and telephony.centre.shared_phones is not None
            shared = telephony.centre.shared_phones
            await wait_for(lambda: shared.contact_for("1002") is not None, 5, "the shared phone")
        login = await b.api("POST", "/agents/bob/login", json={"ready": True})
        assert login["agent"]["state"] == "ready"  # forwarded to A, answered once committed
        phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
        media = tone_file(tmp_path, 1.5)
        xml = caller_xml(hold_ms=2500, media=str(media))
        call = await caller(tmp_path, b, xml)  # type: ignore[arg-type]
        caller_result, phone_result = await call.result(), await phone.result()
        assert caller_result.code == 0, caller_result.output[-3000:]
        assert phone_result.code == 0, phone_result.output[-3000:]

        await wait_for(lambda: len(b.cdrs()) == 1, 10, "B's call detail record")
        record = b.cdrs()[0]
        assert record["outcome"] == "completed" and record["hangup_side"] == "caller"
        assert record["agent_id"] == "bob" and record["queue"] == "billing"
        assert record["digits"] == "2"
        assert record["media"]["caller_to_agent"] >= 50, record["media"]  # bridged on B
        assert record["media"]["agent_to_caller"] >= 50, record["media"]
        assert a.cdrs() == []  # the leader only routed: no media through it
        contact_id = record["contact_id"]
        contact = await until_status(a, contact_id, {"wrap_up", "completed"})
        assert contact["agent_id"] == "bob", contact
        assert contact["attributes"]["sip_call_id"] == record["call_id"]
        await contact_on_both(a, b, contact_id, {"wrap_up", "completed"})
        kinds = [e.kind for e in a.bundle.service.router.store.events.read(0, 1000)
                 if getattr(e, "contact_id", None) == contact_id]  # fmt: skip
        assert kinds[:3] == ["contact_queued", "contact_offered", "offer_accepted"], kinds
        assert "contact_ended" in kinds
        done = {"disposition": "resolved", "notes": "paid"}
        await b.api("POST", f"/agents/bob/contacts/{contact_id}/complete", json=done)
        await contact_on_both(a, b, contact_id, {"completed"})

    run(tmp_path, scenario)


def test_caller_on_a_follower_hangs_up_while_the_phone_rings(tmp_path: Path) -> None:
    """The abandon reaches the leader: contact abandoned, bob not left reserved."""

    async def scenario(a: SipNode, b: SipNode) -> None:
        phone_port = free_port()
        await register_phone(tmp_path, b, phone_port)  # type: ignore[arg-type]
        await b.api("POST", "/agents/bob/login", json={"ready": True})
        phone = await answering_phone(tmp_path, phone_port, RINGING_PHONE_XML)
        call = await caller(tmp_path, b, caller_xml(hold_ms=1500))  # type: ignore[arg-type]
        caller_result, phone_result = await call.result(), await phone.result()
        assert caller_result.code == 0, caller_result.output[-3000:]
        assert phone_result.code == 0, phone_result.output[-3000:]  # rung, then CANCELled

        await wait_for(lambda: len(b.cdrs()) == 1, 10, "B's call detail record")
        record = b.cdrs()[0]
        assert record["hangup_side"] == "caller", record
        contact_id = record["contact_id"]
        contact = await until_status(a, contact_id, {"abandoned"})
        assert contact["status"] == "abandoned", contact
        await contact_on_both(a, b, contact_id, {"abandoned"})
        bob = await a.api("GET", "/agents/bob")
        assert bob["state"] == "ready" and bob.get("reservation") is None, bob

    run(tmp_path, scenario, offer_timeout_s=10.0)


def test_leader_ends_the_contacts_of_a_sip_node_that_went_silent(tmp_path: Path) -> None:
    """B's SIP edge stops saying it is alive (its ``…:sip-node:nb`` key lapses, as when
    the process dies): the leader ends B's waiting contact — abandoned, not offered
    round the agents for a call nobody carries. (B is in fact still up here, so the
    end reaches it by replay and it hangs the caller up: the caller sees a BYE.)"""

    async def scenario(a: SipNode, b: SipNode) -> None:
        call = await caller(tmp_path, b, caller_xml(hold_ms=0, await_bye=True))  # type: ignore[arg-type]
        await wait_for(lambda: bool(_carried(b)), 15, "B to queue the call's contact")
        (contact_id,) = _carried(b)
        contact = await a.api("GET", f"/contacts/{contact_id}")
        assert contact["status"] == "queued" and contact["attributes"]["sip_node"] == "nb"

        telephony = b.bundle.telephony
        assert telephony is not None and telephony._phones is not None
        telephony._phones.cancel()  # B's heartbeat stops …
        await a.node.redis.delete(a.node.keys.sip_node("nb"))  # … and its key lapses
        contact = await until_status(a, contact_id, {"abandoned"})
        assert contact["status"] == "abandoned", contact
        result = await call.result()
        assert result.code == 0, result.output[-3000:]

    run(tmp_path, scenario)


def _carried(node: SipNode) -> list[str]:
    telephony = node.bundle.telephony
    assert telephony is not None
    # a driver knows its contact once the (forwarded) create_contact has answered
    return [d.contact_id for d in telephony.b2bua.drivers.values() if d.contact_id is not None]
