"""The customer's side of a chat: rate limits, resume, leaving, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson


def test_customer_messages_are_rate_limited_and_the_chat_goes_on(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        customer = await desk.chat("one")
        codes = []
        for n in range(6):  # burst 3
            frame = await customer.call("message", text=f"m{n}")
            codes.append(frame.get("code", frame["type"]))
        assert codes[:3] == ["reply"] * 3 and "rate_limited" in codes[3:]
        limited = next(f for f in customer.frames if f.get("code") == "rate_limited")
        assert limited["retry_after"] > 0
        await asyncio.sleep(0.6)
        assert (await customer.call("message", text="later"))["type"] == "reply"
        await customer.close()

    run_desk(scenario)


def test_a_customer_resumes_with_the_chat_token(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        customer = await desk.chat("hello")
        offer = await alice.expect("offer")
        await customer.quiet(0.1)
        chat_id, token, seen = customer.session, customer.welcome["token"], customer.last_seq
        customer.abort()
        await alice.ok("accept", contact_id=offer["contact_id"])
        await alice.ok("chat_send", contact_id=offer["contact_id"], text="while you were away")
        back = await desk.socket("/ws/v1/chat")
        back.last_seq = seen
        await back.send_raw(
            orjson.dumps(
                {"type": "resume", "chat_id": chat_id, "token": token, "last_seq": seen}
            ).decode()
        )
        welcome = await back.recv()
        assert welcome["resumed"] is True
        said = await back.expect("chat_message")
        assert said["message"]["text"] == "while you were away"
        wrong = await desk.socket("/ws/v1/chat")
        resume = {"type": "resume", "chat_id": chat_id, "token": "guess", "last_seq": 0}
        await wrong.send_raw(orjson.dumps(resume).decode())
        assert await wrong.closed() == 4401
        await back.close()
        await alice.close()

    run_desk(scenario)


def test_a_vanished_customer_ends_the_chat_after_the_grace(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        customer = await desk.chat("hi")
        offer = await alice.expect("offer")
        await alice.ok("accept", contact_id=offer["contact_id"])
        customer.abort()
        ended = await alice.expect("chat_ended", timeout=4)
        assert ended["by"] == "customer_disconnected"
        await alice.expect("wrap_up")
        await alice.close()

    run_desk(scenario)


def test_a_waiting_customer_who_leaves_is_an_abandon(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        customer = await desk.chat("anyone?")
        await customer.ok("end")
        await customer.expect("chat_status", status="ended")
        kinds = [e.kind for e in desk.service.router.store.events.read(0, 100)]
        assert "contact_abandoned" in kinds
        await customer.close()

    run_desk(scenario)


def test_bad_starts_are_refused_and_may_be_retried(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        client = await desk.socket("/ws/v1/chat")
        await client.send("start", email="not-an-address")
        error = await client.recv()
        assert (error["code"], error["seq"], error["ref"]) == ("invalid_message", 0, 1)
        await client.send("start", entry_point="help@ringway.test", text="x")
        error = await client.recv()
        assert error["code"] == "channel_mismatch"  # that entry point is the e-mail queue's
        await client.send("start", text="fine now")
        welcome = await client.recv()
        assert welcome["type"] == "welcome" and welcome["token"]
        await client.close()

    run_desk(scenario)


def test_new_chats_are_limited_per_address(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        desk.bundle.desktop.chat.starts.burst = 2
        desk.bundle.desktop.chat.starts.rate = 0.001
        opened = [await desk.chat(f"c{n}") for n in range(2)]
        client = await desk.socket("/ws/v1/chat")
        await client.send("start", text="third")
        error = await client.recv()
        assert error["code"] == "rate_limited"
        for chat in opened:
            await chat.close()
        await client.close()

    run_desk(scenario)
