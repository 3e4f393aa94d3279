"""A subscription to some event kinds: only those are delivered, the others still
advance ``last_seq`` (a resubscribe from it misses nothing wanted) and do not count
against the subscription's limit."""

from __future__ import annotations

import asyncio

from ringway.bus import EventBus, Subscription
from router import events as ev

COMPLETED = frozenset({ev.ContactCompleted.kind})


def completed(seq: int) -> ev.ContactCompleted:
    return ev.ContactCompleted(
        seq=seq,
        at=float(seq),
        contact_id=f"c-{seq}",
        queue="q",
        channel="voice",
        agent_id="a",
        handle=30.0,
        disposition="resolved",
    )


def queued(seq: int) -> ev.ContactQueued:
    return ev.ContactQueued(
        seq=seq, at=float(seq), contact_id=f"c-{seq}", queue="q", channel="voice", priority=0
    )


def test_only_the_kinds_asked_for_are_delivered_and_last_seq_follows_all() -> None:
    async def scenario() -> None:
        bus = EventBus()
        some = bus.attach(Subscription(limit=2, kinds=COMPLETED))
        every = bus.attach(Subscription(limit=10))
        bus.publish([queued(1), completed(2), queued(3), queued(4), completed(5), queued(6)])
        assert some.pending() == 2 and not some.closed  # 4 skipped: not over its limit of 2
        assert some.last_seq == 6 and every.last_seq == 6
        assert [(await anext(some)).seq for _ in range(2)] == [2, 5]
        assert every.pending() == 6

    asyncio.run(scenario())


def test_a_filtered_subscription_is_still_dropped_when_its_kinds_overflow() -> None:
    bus = EventBus()
    some = bus.attach(Subscription(limit=1, kinds=COMPLETED))
    bus.publish([completed(1), queued(2), completed(3)])
    assert some.closed and "slow consumer" in (some.reason or "")
