"""The leader dies mid-session: websocket clients on the follower carry on.

The leader is a ``ringway serve`` subprocess, SIGKILLed while an agent whose
desktop is on the follower handles a chat. A command sent during the gap is
answered with an error frame and is not applied (its time to live ran out
before any node led); once the follower leads, the same command succeeds, new
contacts are offered, and a dropped desktop resumes its session with the
frames it missed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import redis
from cluster_testkit import ServeProcess, free_port, redis_server, wait_for
from gateway_testkit import Served, gateway_config, gateway_yaml, rest, served_node

from agent_desktop.client import Client

LEASE_MS = 1500
TTL_MS = 500  # shorter than a takeover: commands sent in the gap expire, unapplied


async def scenario(tmp: Path, redis_url: str, leader: ServeProcess) -> None:
    config = gateway_config(redis_url, "nb", tmp / "nb", lease_ms=LEASE_MS, command_ttl_ms=TTL_MS)
    async with served_node(config) as b:
        await wait_for(lambda: b.node.replica.loaded, 5, "B's replica")
        assert not b.node.is_leader
        alice = await b.desktop("alice")
        await alice.ok("login", ready=True)
        wall = await b.desktop("sam", "supervisor")
        r = await rest(leader.base_url, "POST", "/contacts", json={"channel": "chat"})
        assert r.status_code == 201, r.text
        first = r.json()["id"]
        await alice.expect("offer", contact_id=first)
        await alice.ok("accept", contact_id=first)
        await alice.expect("contact_started")

        leader.kill()  # SIGKILL
        killed = time.monotonic()
        gap = await alice.call("end", timeout=15, contact_id=first)
        assert gap["type"] == "error", gap
        assert gap["code"] in {"expired", "cluster_unavailable"}, gap
        assert "not applied" in gap["message"], gap

        await wait_for(lambda: b.node.is_leader, LEASE_MS / 1000 + 3, "B to lead")
        took_over = time.monotonic() - killed
        contact = b.bundle.service.router.contact(first)
        assert contact.status.value == "connected", "the command in the gap was not applied"

        # The same desktop connection goes on, now on the leader.
        await alice.ok("end", contact_id=first)
        await alice.expect("wrap_up", contact_id=first)
        await alice.ok("complete", contact_id=first, disposition="resolved")
        await alice.expect("contact_completed", contact_id=first)
        r = await rest(f"http://127.0.0.1:{b.port}", "POST", "/contacts", json={"channel": "chat"})
        assert r.status_code == 201, r.text
        second = r.json()["id"]
        await alice.expect("offer", contact_id=second)

        # The network drops; the desktop resumes its session and gets what it missed.
        session, seen = alice.session, alice.last_seq
        assert session is not None
        alice.abort()
        await alice_accepts_over_rest(b, second)
        again = await b.desktop("alice", resume=(session, seen))
        assert again.welcome is not None and again.welcome["resumed"] is True
        started = await again.expect("contact_started")
        assert started["contact"]["id"] == second
        assert again.last_seq > seen

        states = await states_of(wall, "alice", busy_times=2)  # before and after the kill
        assert states == ["reserved", "busy", "wrap_up", "ready", "reserved", "busy"], states
        await again.close()
        await wall.close()
        print(f"takeover {took_over:.2f} s after SIGKILL")


async def alice_accepts_over_rest(b: Served, contact_id: str) -> None:
    """While her desktop is away (inside the grace), Alice accepts from another device."""
    r = await rest(
        f"http://127.0.0.1:{b.port}", "POST", f"/agents/alice/offers/{contact_id}/accept"
    )
    assert r.status_code == 200, r.text


async def states_of(wall: Client, agent: str, busy_times: int) -> list[str]:
    """The agent's states as the wallboard was told them, until busy ``busy_times``."""
    states: list[str] = []
    while states.count("busy") < busy_times:
        frame = await wall.expect("agent_state", timeout=10)
        if frame["agent"]["id"] == agent:
            states.append(frame["agent"]["state"])
    return states


def test_follower_websockets_keep_working_after_the_leader_is_killed(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as server:
        port = free_port()
        config = tmp_path / "na.yaml"
        config.write_text(
            gateway_yaml(
                server.url,
                "na",
                tmp_path / "na",
                http_port=port,
                lease_ms=LEASE_MS,
                command_ttl_ms=TTL_MS,
            )
        )
        leader = ServeProcess(config, port)
        leader.start()
        try:
            leader.wait_ready()
            client = redis.Redis(port=server.port)
            try:
                deadline = time.monotonic() + 10
                while client.get("ringway:{default}:lease") != b"na":
                    assert time.monotonic() < deadline, "the subprocess never led"
                    time.sleep(0.05)
            finally:
                client.close()
            asyncio.run(scenario(tmp_path, server.url, leader))
        finally:
            leader.kill()
