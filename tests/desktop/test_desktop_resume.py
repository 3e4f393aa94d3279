"""Sequence numbers and resume: a reconnecting client loses and repeats nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson


def test_resume_replays_exactly_the_frames_after_the_last_seq(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        sam = await desk.open("sam", "supervisor")
        alice = await desk.agent("alice", ready=True)
        await alice.quiet()
        session, seen = alice.session, alice.last_seq
        alice.abort()  # the network goes: no close handshake
        # While alice is away, things happen to her: each is a numbered frame for her.
        await sam.ok("force_not_ready", agent_id="alice", reason="coaching")
        await sam.ok("force_logout", agent_id="alice")
        back = await desk.open("alice", resume=(session, seen))
        welcome = back.frames[0]
        assert welcome["resumed"] is True and welcome["session"] == session
        assert welcome["replay_to"] > seen
        while back.last_seq < welcome["replay_to"]:
            await back.recv()  # recv asserts seq == previous + 1: no gap, no repeat
        replayed = [f for f in back.frames if f["type"] == "agent_state"]
        assert [f["agent"]["state"] for f in replayed] == ["not_ready", "offline"]
        assert replayed[0]["agent"]["reason"] == "coaching"
        # Live frames continue the same numbering.
        result = await back.call("login", ready=False)
        assert result["seq"] > welcome["replay_to"]
        await back.close()
        await sam.close()

    run_desk(scenario)


def test_frames_sent_but_never_read_are_replayed(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice", ready=False)
        await alice.quiet()
        session, seen = alice.session, alice.last_seq
        for state in ("ready", "not_ready", "ready"):  # replies and states, never read
            await alice.send("state", state=state, reason="x")
        await asyncio.sleep(0.2)
        alice.abort()
        back = await desk.open("alice", resume=(session, seen))
        target = back.frames[0]["replay_to"]
        while back.last_seq < target:
            await back.recv()
        replies = [f for f in back.frames if f["type"] == "reply"]
        assert [f["ref"] for f in replies] == [2, 3, 4]  # each command answered once
        await back.close()

    run_desk(scenario)


def test_resume_past_the_replay_buffer_gets_a_snapshot(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice", ready=False)
        await alice.quiet()
        session = alice.session
        await alice.close()
        for _ in range(8):  # more frames than the buffer keeps (replay_frames: 10)
            await asyncio.sleep(0)
            desk.service.execute("ready", lambda now: desk.service.router.set_ready("alice", now))
            desk.service.execute(
                "nr", lambda now: desk.service.router.set_not_ready("alice", "x", now)
            )
        await asyncio.sleep(0.2)
        back = await desk.open("alice", resume=(session, 1))
        welcome = back.frames[0]
        assert welcome["resumed"] is False and welcome["session"] == session
        snapshot = await back.recv()
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == welcome["seq"] + 1
        assert snapshot["agent"]["state"] == "not_ready"
        await back.close()

    run_desk(scenario, replay_frames=10)


def test_unknown_session_starts_a_new_one(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.open("alice", resume=("s-nope", 40))
        assert alice.frames[0]["resumed"] is False and alice.frames[0]["session"] != "s-nope"
        snapshot = await alice.recv()
        assert snapshot["type"] == "snapshot" and snapshot["seq"] == 1
        await alice.close()

    run_desk(scenario)


def test_a_session_resumed_elsewhere_closes_the_old_connection(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        first = await desk.agent("alice", ready=False)
        await first.quiet()
        second = await desk.open("alice", resume=(first.session, first.last_seq))
        assert second.frames[0]["resumed"] is True
        assert await first.closed() == 4000
        assert (await second.ok("state", state="ready"))["agent"]["state"] == "ready"
        await second.close()

    run_desk(scenario)


def test_heartbeats_carry_the_last_seq(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        # No keepalive pinger: its ref-less pongs would race the one asserted on.
        alice = await desk.agent("alice", ready=False, ping=False)
        beat = await alice.expect("heartbeat", timeout=2)
        assert beat["seq"] == alice.last_seq
        await alice.send_raw(orjson.dumps({"type": "ping", "id": "p1"}).decode())
        pong = await alice.expect("pong")
        assert pong["ref"] == "p1" and pong["seq"] == alice.last_seq
        await alice.close()

    run_desk(scenario)
