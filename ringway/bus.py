"""Fan-out of router events to live consumers (websockets, wallboards).

Routing never waits for a consumer: each subscription has a bounded buffer, and
one that falls ``limit`` events behind is dropped with a reason it can show
("slow consumer …") and resubscribe from the last seq it saw. The alternative —
blocking the router until a stalled browser reads — would stall every contact.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeVar

from router.events import Event

DEFAULT_LIMIT = 1000
log = logging.getLogger(__name__)


class Subscription:
    """One consumer's event stream: ``async for event in subscription``.

    Iteration ends once the subscription is closed and its buffer drained;
    ``reason`` then says why (dropped as slow, service stopping, unsubscribed).
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, kinds: frozenset[str] | None = None) -> None:
        self.limit = limit
        # only these event kinds are delivered (None: all). The others still advance
        # ``last_seq``, so a consumer that resubscribes from it misses none it wants,
        # and they neither wake it nor count against ``limit``.
        self.kinds = kinds
        # whether an event of each class is of ``kinds`` (an event's ``kind`` is its
        # class's): a dict hit on the type, not the class attribute's generic look-up
        # and the set's, for every event pushed
        self._wanted: dict[type, bool] = {}
        self.reason: str | None = None
        self.last_seq = 0  # newest seq handed to this subscription
        self._items: deque[Event] = deque()
        # The consumer's pending wait, if it is waiting: a bare future rather than an
        # asyncio.Event, whose set and wait cost a waiter deque and a loop look-up each.
        # A push to a consumer that is not waiting (busy, or already woken this loop
        # iteration) then costs nothing beyond the append.
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the consumer's, once it waits

    @property
    def closed(self) -> bool:
        return self.reason is not None

    def wants(self, event: Event) -> bool:
        """``event`` is of ``kinds`` (or ``kinds`` is None: every event is)."""
        kinds = self.kinds
        if kinds is None:
            return True
        cls = type(event)
        wanted = self._wanted.get(cls)
        if wanted is None:
            wanted = self._wanted[cls] = event.kind in kinds
        return wanted

    def push(self, event: Event) -> bool:
        """Buffer ``event``; False (and nothing buffered) when the buffer is full."""
        if not self.wants(event):
            self.last_seq = event.seq
            return True
        if len(self._items) >= self.limit:
            return False
        self._items.append(event)
        self.last_seq = event.seq
        if self._waiter is not None:
            self._wake()
        return True

    def close(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():  # done: its consumer was cancelled
            waiter.set_result(None)

    def pending(self) -> int:
        return len(self._items)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while not self._items:
            if self.reason is not None:
                raise StopAsyncIteration
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = self._consumer_loop().create_future()
            await waiter
        return self._items.popleft()

    def _consumer_loop(self) -> asyncio.AbstractEventLoop:
        # Looked up once: on 3.11 get_running_loop() makes a getpid() system call.
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop


class Listener(Subscription):
    """An in-process consumer the loop calls back with every event, in order.

    What a task running ``async for event in subscription: handle(event)`` does, without
    the task: events pushed while none is pending schedule one callback (``call_soon``,
    where the task's wake-up would have been scheduled), which hands over every event
    buffered by the time it runs, including those pushed while it runs. A task step and
    an awaited future per wake-up cost more than the handling itself for a consumer that
    mostly ignores events (the telephony feed). Never dropped as slow: its buffer is
    emptied every loop iteration. After `close` (the service stopping) the events already
    pushed are still handed over, as an ``async for`` drains its buffer; after `stop`
    (its owner stopping) none are.
    """

    def __init__(
        self,
        handle: Callable[[Event], None],
        loop: asyncio.AbstractEventLoop,
        kinds: frozenset[str] | None = None,
    ) -> None:
        super().__init__(limit=sys.maxsize, kinds=kinds)
        self._handle = handle
        self._call_soon = loop.call_soon
        self._scheduled = False  # a hand-over is pending or running
        self._stopped = False

    def push(self, event: Event) -> bool:
        if not self.wants(event):
            self.last_seq = event.seq
            return True
        self._items.append(event)
        self.last_seq = event.seq
        if not self._scheduled:
            self._scheduled = True
            self._call_soon(self._hand_over)
        return True

    def stop(self) -> None:
        """Hand over nothing more, not even what is buffered (its owner is stopping)."""
        self._stopped = True
        self._items.clear()

    def _hand_over(self) -> None:
        items = self._items
        try:
            while items and not self._stopped:
                event = items.popleft()
                try:
                    self._handle(event)
                except Exception:  # one bad event must not stop the ones after it
                    log.exception("event listener failed on event %s", event.seq)
        finally:
            self._scheduled = False


S = TypeVar("S", bound=Subscription)


class EventBus:
    def __init__(self, on_drop: Callable[[Subscription], None] | None = None) -> None:
        self._subscribers: list[Subscription] = []
        self._on_drop = on_drop

    def __len__(self) -> int:
        return len(self._subscribers)

    def attach(self, subscription: S, backlog: Iterable[Event] = ()) -> S:
        """Start delivering to ``subscription``, first replaying ``backlog``."""
        for event in backlog:
            if not subscription.push(event):
                subscription.close(
                    f"more than {subscription.limit} events behind at subscribe time; "
                    "read older events with GET /api/v1/events and subscribe again"
                )
                return subscription
        self._subscribers.append(subscription)
        return subscription

    def detach(self, subscription: Subscription, reason: str = "unsubscribed") -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)
        subscription.close(reason)

    def publish(self, events: list[Event]) -> None:
        if not events or not self._subscribers:
            return
        slow: list[Subscription] = []
        for subscription in self._subscribers:
            for event in events:
                if not subscription.push(event):
                    slow.append(subscription)
                    break
        for subscription in slow:
            self.detach(
                subscription,
                f"slow consumer: {subscription.limit} events unread; resubscribe "
                f"after seq {subscription.last_seq}",
            )
            if self._on_drop is not None:
                self._on_drop(subscription)

    def close_all(self, reason: str) -> None:
        for subscription in list(self._subscribers):
            self.detach(subscription, reason)
