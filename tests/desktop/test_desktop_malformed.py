"""Bad frames get an error frame (naming the message when its id was readable) and the
connection stays usable: nothing is changed, nobody is disconnected."""

from __future__ import annotations

from typing import Any

import orjson

BAD = (
    ("not json at all", "bad_json", None),
    ("[1, 2]", "bad_frame", None),
    ('{"id": 7}', "unknown_type", 7),
    ('{"type": "fly", "id": "x"}', "unknown_type", "x"),
    ('{"type": "state", "id": 8}', "invalid_message", 8),
    ('{"type": "state", "state": "asleep", "id": 9}', "invalid_message", 9),
    ('{"type": "accept", "contact_id": "c", "colour": "red", "id": 10}', "invalid_message", 10),
    ('{"type": "transfer", "contact_id": "c", "id": 11}', "invalid_message", 11),
    ('{"type": "accept", "contact_id": "nope", "id": 12}', "unknown_contact", 12),
    (
        '{"type": "complete", "contact_id": "c", "disposition": "??", "id": 13}',
        "invalid_disposition",
        13,
    ),
    ('{"type": "state", "state": "ready", "id": {"deep": 1}}', "invalid_message", None),
)


def test_malformed_frames_get_error_frames_and_the_connection_stays_usable(
    run_desk: Any,
) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice", ready=False)
        before = desk.service.router.store.events.last_seq
        for raw, code, ref in BAD:
            await alice.send_raw(raw)
            error = await alice.expect("error")
            assert (error["code"], error["ref"]) == (code, ref), (raw, error)
            assert error["message"]
        await alice.send_raw(b"\x00binary")
        assert (await alice.expect("error"))["code"] == "bad_frame"
        await alice.send_raw("x" * 300_000)
        assert (await alice.expect("error"))["code"] == "too_large"
        assert desk.service.router.store.events.last_seq == before  # nothing changed
        result = await alice.ok("state", state="ready")  # still usable
        assert result["agent"]["state"] == "ready"
        await alice.close()

    run_desk(scenario)


def test_a_message_for_the_other_view_is_refused(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        sam = await desk.open("sam", "supervisor")
        error = await sam.call("state", state="ready")
        assert error["code"] == "wrong_view"
        await sam.close()

    run_desk(scenario)


def test_agent_errors_leave_no_trace(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        customer = await desk.chat("hi")
        offer = await alice.expect("offer")
        await alice.ok("accept", contact_id=offer["contact_id"])
        error = await alice.call("logout")  # contacts in hand: refused
        assert error["code"] == "illegal_transition"
        error = await alice.call("transfer", contact_id=offer["contact_id"], agent="bob")
        assert error["code"] == "conflict"  # bob is not logged in: nothing changes
        error = await alice.call("preview_accept", lead_id="lead-1")
        assert error["code"] == "no_preview"  # no preview waits for her (no dialer here)
        error = await alice.call("transfer", contact_id=offer["contact_id"], queue="support")
        assert error["code"] == "conflict"  # a chat cannot go to a voice queue
        agent = desk.service.router.agent("alice")
        assert agent.state.value == "busy" and offer["contact_id"] in agent.active
        await alice.send_raw(orjson.dumps({"type": "chat_send", "id": 1}).decode())
        assert (await alice.expect("error"))["code"] == "invalid_message"
        await alice.close()
        await customer.close()

    run_desk(scenario)
