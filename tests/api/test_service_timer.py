"""The service's timer: one loop timer at the router's next deadline, moved only when a
command moves the deadline, none while nothing has a deadline, never spinning."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from crm.memory import MemoryCustomerStore
from ringway.service import NewContact, RoutingService
from router import events as ev
from router.model import Channel

if TYPE_CHECKING:
    from conftest import ConfigFactory


async def started(config_factory: ConfigFactory) -> RoutingService:
    service = RoutingService(config_factory(), MemoryCustomerStore())
    await service.start()
    return service


def test_no_timer_while_nothing_has_a_deadline(make_config: ConfigFactory) -> None:
    async def main() -> None:
        service = await started(make_config)
        contact = await service.create_contact(NewContact(channel=Channel.VOICE, queue="quick"))
        assert service.router.next_deadline() is None  # nobody logged in: it just waits
        assert service._hot.timer is None
        service.execute("end", lambda now: service.router.end(contact.id, now))
        assert service._hot.timer is None
        await service.stop()

    asyncio.run(main())


def test_the_timer_follows_the_deadline_as_commands_move_it(make_config: ConfigFactory) -> None:
    async def main() -> None:
        service = await started(make_config)
        router = service.router
        service.execute("login", lambda now: router.login("alice", now, ready=True))
        first = await service.create_contact(NewContact(channel=Channel.VOICE, queue="quick"))
        timer = service._hot.timer
        assert timer is not None and service._hot.timer_at == router.next_deadline()
        # a second contact waits (alice rings for the first): the deadline stays, so
        # does the very same timer
        await service.create_contact(NewContact(channel=Channel.VOICE, queue="quick"))
        assert service._hot.timer is timer
        # the first caller hangs up: the offer and its deadline go, the second contact
        # rings alice with a new deadline, and the timer moves to it
        service.execute("end", lambda now: router.end(first.id, now))
        assert timer.cancelled()
        assert service._hot.timer is not None and service._hot.timer_at == router.next_deadline()
        await service.stop()
        assert service._hot.timer is None

    asyncio.run(main())


def test_a_deadline_fires_the_tick_at_its_time(make_config: ConfigFactory) -> None:
    async def main() -> None:
        service = await started(make_config)
        router = service.router
        service.execute("login", lambda now: router.login("alice", now, ready=True))
        contact = await service.create_contact(NewContact(channel=Channel.VOICE, queue="quick"))
        deadline = router.next_deadline()
        assert deadline is not None
        loop = asyncio.get_running_loop()
        began = loop.time()
        while router.contact(contact.id).status.value != "queued":  # rang out (RONA)
            assert loop.time() - began < 3
            await asyncio.sleep(0.01)
        assert service.now() >= deadline
        assert router.agent("alice").state.value == "not_ready"
        assert service._hot.timer is None  # nothing left with a deadline
        await service.stop()

    asyncio.run(main())


class StuckRouter:
    """A router whose deadline a tick never clears (a bug the timer must survive)."""

    def __init__(self) -> None:
        self.ticks: list[float] = []

    def next_deadline(self) -> float:
        return 0.0  # always due

    def tick(self, now: float) -> list[ev.Event]:
        self.ticks.append(now)
        return []


def test_a_tick_that_leaves_its_deadline_due_waits_before_the_next(
    make_config: ConfigFactory,
) -> None:
    async def main() -> None:
        service = await started(make_config)
        stuck = StuckRouter()
        service._hot.timed = stuck  # the router the timer ticks (`Deadlines`)
        service.execute("poke", lambda now: [])  # a command: the timer sees the deadline
        await asyncio.sleep(0.05)
        # one tick, then at most one per MIN_TIMER_SLEEP_S (1 ms): not thousands
        assert 1 <= len(stuck.ticks) <= 60
        await service.stop()
        assert service._hot.timer is None

    asyncio.run(main())
