"""The pure parts: numbered frames, message parsing, token buckets, chat transcripts."""

from __future__ import annotations

import orjson
import pytest

from agent_desktop.errors import DesktopError
from agent_desktop.outbox import Outbox, body
from agent_desktop.protocol import Hello, Ping, Transfer, models, parse
from channels.chat import Chat, ChatStatus, Sender, new_token
from channels.ratelimit import KeyedLimiter, TokenBucket


def test_outbox_numbers_frames_and_replays_after_a_seq() -> None:
    box = Outbox(keep=3)
    for n in range(5):
        assert box.append(body({"type": "x", "n": n})) == n + 1
    assert box.first_seq == 3 and box.last_seq == 5
    frames = box.after(3)
    assert frames is not None
    assert [(seq, orjson.loads(text)) for seq, text in frames] == [
        (4, {"seq": 4, "type": "x", "n": 3}),
        (5, {"seq": 5, "type": "x", "n": 4}),
    ]
    assert box.after(5) == [] and box.after(2) is not None
    assert box.after(1) is None  # frame 2 is gone: resume must snapshot
    assert box.after(6) is None  # a seq from the future is not ours


def test_parse_reads_refs_even_from_invalid_messages() -> None:
    known = models(Hello, Ping, Transfer)
    assert isinstance(parse('{"type":"ping","id":"a"}', known), Ping)
    with pytest.raises(DesktopError) as caught:
        parse('{"type":"transfer","id":"t1","contact_id":"c","queue":"q","agent":"a"}', known)
    assert caught.value.code == "invalid_message" and caught.value.extra["ref"] == "t1"
    assert "exactly one of queue or agent" in caught.value.message
    with pytest.raises(DesktopError) as caught:
        parse('{"type":"ping","id":true}', known)
    assert caught.value.extra["ref"] is None


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) > 0
    limiter = KeyedLimiter(rate=1.0, burst=1, keys=2)
    assert limiter.take("a", 0.0) == 0.0 and limiter.take("a", 0.0) > 0
    limiter.take("b", 0.0)
    limiter.take("c", 0.0)  # "a" is forgotten past two keys
    assert limiter.take("a", 0.0) == 0.0


def test_chat_transcript_token_and_end() -> None:
    token, digest = new_token()
    chat = Chat(
        id="chat-1",
        contact_id="c-1",
        token_digest=digest,
        customer_name="Priya",
        email=None,
        created_at=0.0,
        bucket=TokenBucket(1, 1, 0.0),
    )
    assert chat.check_token(token) and not chat.check_token(token + "x")
    chat.add(Sender.CUSTOMER, "Priya", "Hello", 0.0)
    chat.connect("alice", "Alice")
    chat.add(Sender.AGENT, "Alice", "Hi Priya", 61.0)
    assert chat.end("agent", 70.0) and not chat.end("customer", 71.0)
    assert chat.status is ChatStatus.ENDED and chat.ended_by == "agent"
    assert chat.transcript().splitlines() == [
        "Chat transcript (Priya):",
        "[00:00:00] Priya (customer): Hello",
        "[00:01:01] Alice (agent): Hi Priya",
    ]
