"""Websocket gateways and the SMTP intake on every node, one Redis behind them.

Two (or three) real nodes under uvicorn share a private redis-server: A leads,
the others follow. Desktops, wallboards, chat widgets and SMTP clients talk to
the followers over real sockets; their commands reach A's router through the
commands stream, and the offers, states and figures they see come from the
followers' replay of the committed event stream.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from cluster_testkit import redis_server, wait_for
from gateway_testkit import Served, SinkHandler, gateway_config, rest, served_node, smtp_sink

from agent_desktop.client import Client
from ringway.bus import Subscription
from router.events import OfferRejected

Scenario = Callable[[list[Served]], Awaitable[None]]


@asynccontextmanager
async def cluster(
    tmp: Path, redis_url: str, count: int = 2, **options: Any
) -> AsyncIterator[list[Served]]:
    """``count`` nodes; the first leads, the others follow (and have loaded the records)."""
    async with AsyncExitStack() as stack:
        nodes: list[Served] = []
        for i, name in enumerate("abc"[:count]):
            config = gateway_config(redis_url, f"n{name}", tmp / name, smtp_port=0, **options)
            nodes.append(await stack.enter_async_context(served_node(config)))
            if i == 0:
                await wait_for(lambda: nodes[0].node.is_leader, 5, "the first node to lead")
        for follower in nodes[1:]:
            await wait_for(lambda f=follower: f.node.replica.loaded, 5, "a follower's replica")
            assert not follower.node.is_leader
        yield nodes


def run(tmp: Path, scenario: Scenario, count: int = 2) -> None:
    with redis_server(tmp / "redis") as server:

        async def main() -> None:
            async with cluster(tmp, server.url, count) as nodes:
                await scenario(nodes)

        asyncio.run(main())


async def offer_for(client: Client, contact_id: str, timeout: float = 5.0) -> dict[str, object]:
    return await client.expect("offer", timeout, contact_id=contact_id)


# ---------------------------------------------------------------------------------


def test_agent_on_a_follower_gets_offer_for_a_chat_created_on_the_leader(tmp_path: Path) -> None:
    async def scenario(nodes: list[Served]) -> None:
        a, b = nodes
        alice = await b.desktop("alice")
        snapshot = await alice.expect("snapshot")
        assert snapshot["agent"]["state"] == "offline"  # read from B's replica
        login = await alice.ok("login", ready=True)
        assert login["agent"]["state"] == "ready"  # the leader's answer, relayed
        wall_a, wall_b = await a.desktop("sam", "supervisor"), await b.desktop("sam", "supervisor")

        r = await rest(f"http://127.0.0.1:{a.port}", "POST", "/contacts", json={"channel": "chat"})
        assert r.status_code == 201, r.text
        contact_id = r.json()["id"]
        offer = await offer_for(alice, contact_id)
        assert offer["queue"] == "chat" and offer["channel"] == "chat"

        await alice.ok("accept", contact_id=contact_id)
        started = await alice.expect("contact_started")
        assert started["contact"]["id"] == contact_id
        assert started["contact"]["status"] == "connected"
        await alice.ok("end", contact_id=contact_id)
        await alice.expect("wrap_up", contact_id=contact_id)
        done = await alice.ok("complete", contact_id=contact_id, disposition="resolved")
        assert done == {"contact_id": contact_id, "disposition": "resolved"}
        await alice.expect("contact_completed", contact_id=contact_id)
        assert a.bundle.service.router.contact(contact_id).status.value == "completed"

        # A command the leader refuses: an error frame, nothing applied, socket usable.
        refused = await alice.call("reject", contact_id=contact_id)
        assert refused["type"] == "error" and refused["code"] == "not_your_offer", refused
        wrong = await alice.call("end", contact_id=contact_id)
        assert wrong["type"] == "error" and wrong["code"] == "conflict", wrong
        assert (await alice.ok("state", state="not_ready", reason="lunch"))["agent"]["reason"]

        explained = await wall_b.ok("explain", contact_id=contact_id)  # the leader explains
        assert explained["contact"]["id"] == contact_id and explained["contact"]["decisions"]
        forced = await wall_b.ok("force_logout", agent_id="alice")  # through the leader
        assert forced["agent"]["state"] == "offline" and forced["agent"]["id"] == "alice"
        assert (await alice_states(alice, until="offline"))[-1] == "offline"  # she is told

        # Both wallboards saw Alice's changes and settle on the same figures.
        for wall in (wall_a, wall_b):
            states = await alice_states(wall, until="offline")
            assert states[-4:] == ["wrap_up", "ready", "not_ready", "offline"], states
        figures = await same_figures(wall_a, wall_b)
        chat_row = next(q for q in figures["queues"] if q["name"] == "chat")
        assert chat_row["answered"] == 1 and chat_row["waiting"] == 0
        assert figures["agents"]["offline"] == 2
        for client in (alice, wall_a, wall_b):
            await client.close()

    run(tmp_path, scenario)


async def alice_states(wall: Client, until: str) -> list[str]:
    """Alice's states as a wallboard (or her desktop) was told them, up to ``until``."""
    states: list[str] = []
    while not states or states[-1] != until:
        frame = await wall.expect("agent_state")
        if frame["agent"]["id"] == "alice":
            states.append(frame["agent"]["state"])
    return states


async def same_figures(*walls: Client, timeout: float = 5.0) -> dict[str, Any]:
    """Read each wallboard's queue figures until they agree (replay may lag a moment)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        figures = []
        for wall in walls:
            frame = await wall.expect("queue_stats")
            figures.append({"queues": frame["queues"], "agents": frame["agents_by_state"]})
        if all(f == figures[0] for f in figures):
            return figures[0]
        assert asyncio.get_running_loop().time() < deadline, figures


def test_chat_customer_on_a_follower_is_routed_and_relayed(tmp_path: Path) -> None:
    async def scenario(nodes: list[Served]) -> None:
        a, b = nodes
        alice = await b.desktop("alice")
        await alice.ok("login", ready=True)
        customer = await b.chat("My order is late")  # the contact is queued by the leader
        contact_id = f"c-{customer.session}"
        assert a.bundle.service.router.contact(contact_id).channel.value == "chat"
        offer = await offer_for(alice, contact_id)
        assert offer["contact"]["chat"]["messages"][0]["text"] == "My order is late"
        await alice.ok("accept", contact_id=contact_id)
        status = await customer.expect("chat_status", status="connected")
        assert status["agent_name"] == "Alice Ahmed"  # the name from B's replica
        await alice.ok("chat_send", contact_id=contact_id, text="Let me check")
        said = await customer.expect("chat_message")
        assert said["message"]["text"] == "Let me check"
        await customer.ok("message", text="Thanks!")
        heard = await alice.expect("chat_message")
        assert heard["message"]["text"] == "Thanks!"
        await customer.ok("end")  # ends the contact on the leader: wrap-up for Alice
        await alice.expect("chat_ended", contact_id=contact_id)
        await alice.expect("wrap_up", contact_id=contact_id)
        assert a.bundle.service.router.contact(contact_id).status.value == "wrap_up"
        await alice.ok("complete", contact_id=contact_id, disposition="resolved")
        await alice.expect("contact_completed", contact_id=contact_id)
        await customer.close()
        await alice.close()

    run(tmp_path, scenario)


def test_email_delivered_to_a_followers_smtp_intake_is_routed(tmp_path: Path) -> None:
    async def scenario(nodes: list[Served], sink: SinkHandler) -> None:
        a, b, c = nodes
        bob = await c.desktop("bob")  # the agent on the third node
        await bob.ok("login", ready=True)
        message = EmailMessage()
        message["From"] = "Priya Shah <priya.shah@example.org>"
        message["To"] = "help@ringway.test"
        message["Subject"] = "Refund for order 1234"
        message.set_content("Please refund my order.")
        assert await asyncio.to_thread(deliver_to, b, message) == {}  # 250: queued by A
        offer = await bob.expect("offer")
        assert offer["channel"] == "email" and offer["queue"] == "email"
        assert offer["pop"]["customer"]["name"] == "Priya Shah"
        assert offer["contact"]["case"]["messages"][0]["text"].startswith("Please refund")
        contact = a.bundle.service.router.contact(offer["contact_id"])
        assert contact.origin == "priya.shah@example.org"
        assert contact.attributes["email"]["subject"] == "Refund for order 1234"
        await bob.ok("accept", contact_id=offer["contact_id"])
        # Bob's reply goes out through B, whose intake holds the thread.
        sent = await bob.ok("email_reply", contact_id=offer["contact_id"], body="Refunded.")
        assert sent["message"]["direction"] == "outbound"
        relayed = await asyncio.wait_for(sink.messages.get(), 10)
        assert relayed["Subject"] == "Re: Refund for order 1234"
        inbound_id = offer["contact"]["case"]["messages"][0]["message_id"]
        assert relayed["In-Reply-To"].strip("<>") == inbound_id.strip("<>")
        await bob.ok("complete", contact_id=offer["contact_id"], disposition="resolved")
        await bob.expect("contact_completed", contact_id=offer["contact_id"])
        history = await a.bundle.service.customers.history("cust-1003", 5)
        assert history and "Refunded." in history[0].notes  # the thread, from B to A

        # The customer answers; the answer reaches another node's intake (A's): it goes
        # to Bob first, who handled the thread on B.
        answer = EmailMessage()
        answer["From"] = "Priya Shah <priya.shah@example.org>"
        answer["To"] = "help@ringway.test"
        answer["Subject"] = "Re: Refund for order 1234"
        answer["In-Reply-To"] = relayed["Message-ID"]
        answer.set_content("Thank you!")
        assert await asyncio.to_thread(deliver_to, a, answer) == {}
        again = await bob.expect("offer")
        assert a.bundle.service.router.contact(again["contact_id"]).preferred_agent == "bob"
        await bob.close()

    with redis_server(tmp_path / "redis") as server:

        async def main() -> None:
            async with (
                smtp_sink() as (sink, relay_port),
                cluster(tmp_path, server.url, 3, relay_port=relay_port) as nodes,
            ):
                await scenario(nodes, sink)

        asyncio.run(main())


def deliver_to(node: Served, message: EmailMessage) -> dict[str, object]:
    """smtplib to ``node``'s intake; the refused recipients (none: 250)."""
    assert node.bundle.intake is not None and node.bundle.intake.port is not None
    with smtplib.SMTP("127.0.0.1", node.bundle.intake.port, timeout=10) as smtp:
        return dict(smtp.send_message(message))


def test_chat_whose_customer_and_agent_are_on_different_nodes(tmp_path: Path) -> None:
    async def scenario(nodes: list[Served]) -> None:
        a, b, c = nodes
        alice = await c.desktop("alice")  # the agent on one follower ...
        await alice.ok("login", ready=True)
        customer = await b.chat(  # ... the customer on another
            "My order is late", name="Priya", email="priya.shah@example.org"
        )
        offer = await alice.expect("offer")
        contact_id = offer["contact_id"]
        assert offer["pop"]["customer"]["name"] == "Priya Shah"  # looked up by the leader
        assert offer["contact"]["chat"]["messages"][0]["text"] == "My order is late"
        await alice.ok("accept", contact_id=contact_id)
        await customer.expect("chat_status", status="connected")
        sent = await alice.ok("chat_send", contact_id=contact_id, text="Let me check")
        assert sent["message"]["id"] == 2  # numbered by the chat's home node
        said = await customer.expect("chat_message")
        assert said["message"]["text"] == "Let me check"
        await customer.send("typing")
        typing = await alice.expect("typing")
        assert typing["from"] == "customer"
        await customer.ok("message", text="Thanks!")
        heard = await alice.expect("chat_message", contact_id=contact_id)
        assert heard["message"]["text"] == "Thanks!"
        await alice.ok("complete", contact_id=contact_id, disposition="resolved", notes="sorted")
        await customer.expect("chat_status", status="ended")
        history = await a.bundle.service.customers.history("cust-1003", 5)  # the leader wrote it
        assert history and history[0].disposition == "resolved"
        assert "Let me check" in history[0].notes and "Thanks!" in history[0].notes
        await customer.close()
        await alice.close()

    run(tmp_path, scenario, count=3)


def test_a_desktop_lost_on_a_follower_returns_its_offer_through_the_leader(
    tmp_path: Path,
) -> None:
    async def scenario(nodes: list[Served]) -> None:
        a, b = nodes
        alice = await b.desktop("alice")
        await alice.ok("login", ready=True)
        r = await rest(f"http://127.0.0.1:{a.port}", "POST", "/contacts", json={"channel": "chat"})
        contact_id = r.json()["id"]
        await offer_for(alice, contact_id)
        feed = a.bundle.service.subscribe(limit=10_000)
        alice.abort()  # the network goes; after the grace B asks the leader to free her
        rona = await next_rejection(feed, contact_id, timeout=b.bundle.desktop.grace_s + 5)
        assert rona.reason == "disconnected"
        contact = a.bundle.service.router.contact(contact_id)
        assert contact.status.value == "queued" and contact.agent_id is None
        assert a.bundle.service.router.agent("alice").state.value == "not_ready"

    run(tmp_path, scenario)


async def next_rejection(feed: Subscription, contact_id: str, timeout: float) -> OfferRejected:
    async def first() -> OfferRejected:
        async for event in feed:
            if isinstance(event, OfferRejected) and event.contact_id == contact_id:
                return event
        raise AssertionError("the feed ended")

    return await asyncio.wait_for(first(), timeout)
