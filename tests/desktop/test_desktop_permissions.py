"""Roles and ownership, checked on every message; the handshake refuses bad tokens."""

from __future__ import annotations

from typing import Any

import orjson


def test_an_agent_cannot_act_on_another_agents_contact(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        bob = await desk.agent("bob", ready=False)
        customer = await desk.chat("Help")
        offer = await alice.expect("offer")
        cid = offer["contact_id"]
        for kind, fields in (
            ("accept", {}),
            ("reject", {}),
        ):
            error = await bob.call(kind, contact_id=cid, **fields)
            assert (error["type"], error["code"]) == ("error", "not_your_offer"), error
        await alice.ok("accept", contact_id=cid)
        for kind, fields in (
            ("chat_send", {"text": "hijack"}),
            ("complete", {"disposition": "resolved"}),
            ("end", {}),
            ("transfer", {"queue": "support"}),
            ("email_reply", {"body": "x"}),
        ):
            error = await bob.call(kind, contact_id=cid, **fields)
            assert (error["type"], error["code"]) == ("error", "not_your_contact"), (kind, error)
        error = await bob.call("extend_wrap_up", contact_id=cid)
        assert error["code"] == "not_your_contact"
        contact = desk.service.router.contact(cid)
        assert (contact.agent_id, contact.status.value) == ("alice", "connected")
        assert not [m for m in desk.bundle.desktop.chat.chats.values() if len(m.messages) > 1]
        await alice.close()
        await bob.close()
        await customer.close()

    run_desk(scenario)


def test_an_agent_cannot_call_supervisor_actions(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        bob = await desk.agent("bob")
        for kind, fields in (
            ("force_not_ready", {"agent_id": "alice"}),
            ("force_logout", {"agent_id": "alice"}),
            ("explain", {"contact_id": "c-1"}),
        ):
            error = await bob.call(kind, **fields)
            assert (error["type"], error["code"]) == ("error", "forbidden"), error
            assert error["ref"] is not None
        assert desk.service.router.agent("bob").state.value == "ready"
        await bob.close()

    run_desk(scenario)


def test_the_supervisor_view_needs_the_supervisor_role(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        client = await desk.socket()
        hello = {"type": "hello", "token": desk.token("bob"), "view": "supervisor"}
        await client.send_raw(orjson.dumps(hello).decode())
        error = await client.recv()
        assert (error["type"], error["code"], error["seq"]) == ("error", "forbidden", 0)
        assert await client.closed() == 4403

    run_desk(scenario)


def test_bad_tokens_and_protocols_are_refused_at_hello(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        cases = (
            ({"token": "rw1.forged.sig"}, "unauthorized", 4401),
            ({"token": desk.token("alice"), "protocol": 9}, "unsupported_protocol", 4400),
            ({"token": desk.token("sam"), "view": "agent"}, "forbidden", 4403),
        )
        for fields, code, close in cases:
            client = await desk.socket()
            await client.send_raw(orjson.dumps({"type": "hello", **fields}).decode())
            error = await client.recv()
            assert (error["type"], error["code"]) == ("error", code)
            assert await client.closed() == close

    run_desk(scenario)


def test_no_hello_in_time_closes(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        client = await desk.socket()
        await client.send_raw(orjson.dumps({"type": "ping"}).decode())
        error = await client.recv()
        assert error["code"] == "unknown_type" and error["seq"] == 0
        assert await client.closed() == 4400

    run_desk(scenario)


def test_an_expired_token_is_refused_per_message_and_can_be_renewed(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice", ready=False)
        session = desk.bundle.desktop.agent_session("alice")
        session.token = desk.bundle.auth.issue("alice", session.principal.role, -1)[0]
        error = await alice.call("state", state="ready")
        assert (error["type"], error["code"]) == ("error", "unauthorized")
        await alice.ok("auth", token=desk.token("alice"))
        assert (await alice.ok("state", state="ready"))["agent"]["state"] == "ready"
        other = await alice.call("auth", token=desk.token("bob"))
        assert other["code"] == "forbidden"
        await alice.close()

    run_desk(scenario)
