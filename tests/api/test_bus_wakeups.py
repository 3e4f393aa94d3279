"""A subscription wakes its consumer only when it waits: a push to a busy consumer
buffers, one that waits is woken once however many events arrive before it runs, a
consumer cancelled mid-wait leaves nothing behind, and close wakes a waiting one."""

from __future__ import annotations

import asyncio

from ringway.bus import EventBus, Subscription
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
