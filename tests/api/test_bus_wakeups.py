"""A subscription wakes its consumer only when it waits: a push to a busy consumer
buffers, one that waits is woken once however many events arrive before it runs, a
consumer cancelled mid-wait leaves nothing behind, and close wakes a waiting one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ringway.bus import EventBus, Listener, Subscription
from router import events as ev


def queued(seq: int) -> ev.ContactQueued:
    return ev.ContactQueued(seq=seq, at=float(seq), contact_id=f"c-{seq}", queue="q", channel="v")


def test_a_waiting_consumer_gets_every_event_in_order() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        subscription = bus.attach(Subscription())
        got: list[int] = []

        async def consume() -> None:
            async for event in subscription:
                got.append(event.seq)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)  # it waits now
        bus.publish([queued(1), queued(2)])
        bus.publish([queued(3)])  # before it ran: still one wake-up
        await asyncio.sleep(0)
        assert got == [1, 2, 3]
        bus.publish([queued(4)])
        await asyncio.sleep(0)
        bus.close_all("service stopping")
        await asyncio.wait_for(task, 1)
        return got

    assert asyncio.run(scenario()) == [1, 2, 3, 4]


def test_a_consumer_cancelled_while_waiting_leaves_the_subscription_usable() -> None:
    async def scenario() -> None:
        bus = EventBus()
        subscription = bus.attach(Subscription())
        waiting = asyncio.create_task(anext(subscription))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        bus.publish([queued(1)])  # no error from the cancelled wait
        assert (await asyncio.wait_for(anext(subscription), 1)).seq == 1
        later = asyncio.create_task(anext(subscription))
        await asyncio.sleep(0)
        bus.publish([queued(2)])
        assert (await asyncio.wait_for(later, 1)).seq == 2

    asyncio.run(scenario())


def test_close_ends_a_waiting_consumer_after_what_it_holds() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        subscription = bus.attach(Subscription())
        got: list[int] = []

        async def consume() -> None:
            async for event in subscription:
                got.append(event.seq)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        bus.publish([queued(1)])
        bus.detach(subscription, "unsubscribed")
        await asyncio.wait_for(task, 1)
        assert subscription.reason == "unsubscribed"
        return got

    assert asyncio.run(scenario()) == [1]


def test_events_pushed_before_anyone_waits_need_no_loop() -> None:
    bus = EventBus()
    subscription = bus.attach(Subscription(limit=5))
    bus.publish([queued(1), queued(2)])  # outside any loop: buffered only
    assert subscription.pending() == 2 and subscription.last_seq == 2


def test_a_listener_gets_every_event_in_order_one_hand_over_per_loop_turn() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        bus = EventBus()
        got: list[int] = []
        hand_overs = 0

        def handle(event: ev.Event) -> None:
            got.append(event.seq)

        call_soon = loop.call_soon

        def counted(callback: Callable[[], object], *args: Any, **kw: Any) -> asyncio.Handle:
            nonlocal hand_overs
            hand_overs += 1
            return call_soon(callback, *args, **kw)

        # The listener schedules its hand-overs through the call_soon of the loop it is
        # given, read once (a compiled Listener's methods cannot be replaced): count them.
        loop.call_soon = counted  # type: ignore[method-assign,assignment]
        try:
            listener = bus.attach(Listener(handle, loop))
        finally:
            del loop.call_soon  # the loop's own again for everything else
        assert len(bus) == 1  # counted as a subscriber (ringway_subscribers)
        assert listener.pending() == 0
        bus.publish([queued(1), queued(2)])
        bus.publish([queued(3)])
        assert got == []  # handed over on the loop, not inside publish
        await asyncio.sleep(0)
        assert (got, hand_overs) == ([1, 2, 3], 1)
        bus.publish([queued(4)])
        await asyncio.sleep(0)
        assert (got, hand_overs) == ([1, 2, 3, 4], 2)

    asyncio.run(scenario())


def test_events_published_while_a_listener_handles_one_come_next_in_the_same_turn() -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        got: list[int] = []

        def handle(event: ev.Event) -> None:
            got.append(event.seq)
            if event.seq == 1:  # a command run from inside the handler publishes more
                bus.publish([queued(2), queued(3)])

        bus.attach(Listener(handle, asyncio.get_running_loop()))
        bus.publish([queued(1)])
        await asyncio.sleep(0)
        assert got == [1, 2, 3]
        bus.publish([queued(4)])  # and the listener is still scheduled as usual
        await asyncio.sleep(0)
        return got

    assert asyncio.run(scenario()) == [1, 2, 3, 4]


def test_a_listener_that_fails_on_one_event_gets_the_next(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[int]:
        bus = EventBus()
        got: list[int] = []

        def handle(event: ev.Event) -> None:
            if event.seq == 2:
                raise RuntimeError("boom")
            got.append(event.seq)

        bus.attach(Listener(handle, asyncio.get_running_loop()))
        bus.publish([queued(1), queued(2), queued(3)])
        await asyncio.sleep(0)
        return got

    assert asyncio.run(scenario()) == [1, 3]
    assert "event listener failed on event 2" in caplog.text


def test_closing_hands_over_what_was_pushed_stopping_does_not() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        loop = asyncio.get_running_loop()
        bus = EventBus()
        closed: list[int] = []
        stopped: list[int] = []
        bus.attach(Listener(lambda e: closed.append(e.seq), loop))
        owner = bus.attach(Listener(lambda e: stopped.append(e.seq), loop))
        bus.publish([queued(1)])
        owner.stop()
        bus.detach(owner)
        bus.close_all("service stopping")
        assert len(bus) == 0
        bus.publish([queued(2)])  # nobody attached any more
        await asyncio.sleep(0)
        return closed, stopped

    assert asyncio.run(scenario()) == ([1], [])


def test_a_listener_of_some_kinds_sees_only_those_and_follows_every_seq() -> None:
    async def scenario() -> None:
        bus = EventBus()
        got: list[int] = []
        wanted = frozenset({ev.ContactAbandoned.kind})
        loop = asyncio.get_running_loop()
        listener = bus.attach(Listener(lambda e: got.append(e.seq), loop, wanted))
        abandoned = ev.ContactAbandoned(
            seq=2, at=2.0, contact_id="c-2", queue="q", channel="v", wait=1.0
        )
        bus.publish([queued(1), abandoned, queued(3)])
        await asyncio.sleep(0)
        assert got == [2] and listener.last_seq == 3

    asyncio.run(scenario())
