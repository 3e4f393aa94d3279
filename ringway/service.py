"""The asyncio driver around the pure routing core.

`RoutingService` owns one `Router` and everything the core leaves to a driver:
the clock (epoch seconds from ``time.time``, never decreasing), the timer that
calls ``tick`` at ``next_deadline()``, customer lookup before a contact queues,
and the event bus. Every event list a command returns goes, in order, to the
`StatsBook`, the `EventPersister`, the live subscribers and the metrics.

Atomicity: router commands run only on the event loop thread, and nothing is
awaited between reading state and issuing the command, so two requests can
never interleave inside a routing decision. I/O (the CRM lookup, the history
write) happens before or after a command, never inside one.

Scale-out: with a `RouterHost` (``ringway.cluster.ClusterNode``) the router is
installed only while this node leads; events are published once the host has
committed them (`publish_committed`), and a node that does not lead refuses
commands with the host's 503 (its API forwards them to the leader instead).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from mypy_extensions import mypyc_attr

from crm.errors import CrmError
from crm.lookup import CustomerLookup, LookupResult
from crm.model import Interaction
from crm.store import CustomerStore
from ringway.bus import DEFAULT_LIMIT, EventBus, Listener, Subscription
from ringway.config import RingwayConfig
from ringway.eventlog import SQLiteEventLog
from ringway.eventlog_pg import PostgresEventLog
from ringway.metrics import ServiceMetrics, Snapshot, snapshot
from ringway.persist import EventPersister
from ringway.pgsupport import is_postgres_url
from ringway.service_types import (
    ChannelMismatch,
    NewContact,
    ReservationReader,
    RouterHost,
    RoutingReads,
)
from router import events as ev
from router.agents import Agent
from router.engine import Router
from router.errors import UnknownQueue
from router.model import Channel, Contact, arriving_contact
from router.stats import StatsBook
from router.store.memory import MemoryStore

__all__ = [
    "ChannelMismatch",
    "NewContact",
    "ReservationReader",
    "RouterHost",
    "RoutingReads",
    "RoutingService",
]
log = logging.getLogger(__name__)

Command = Callable[[float], list[ev.Event]]
# A channel's record of a contact (chat transcript, e-mail thread) for its history entry.
TranscriptSource = Callable[[str], str | None]
# Named commands that withdraw an agent's offer and may hand its contact to someone else.
RELEASES = frozenset({"not_ready", "logout", "agent_disconnected", "release_agent"})
MIN_TIMER_SLEEP_S = 0.001  # never spin if a deadline does not move after a tick
_perf_counter = time.perf_counter  # per command, twice: one global read, not two
# (module constants, not a look-up in `router.events` per event)
_QUEUED: Final = ev.ContactQueued
_ABANDONED: Final = ev.ContactAbandoned
_COMPLETED: Final = ev.ContactCompleted


# Contact ids: "c-" and 16 hex digits (8 bytes) of os.urandom, unguessable. Made here,
# in a compiled module of the service (~3,000 instructions less per call than an
# interpreted function called from compiled code), not in the pure router, which reads
# no entropy and registers no fork hook.
# Read for ids in batches: one getrandom system call (and one hex) per _IDS_PER_READ
# contacts instead of one per contact, on the router path's every call.
_ID_BYTES = 8
_IDS_PER_READ = 256
_ids: list[str] = []


def new_contact_id() -> str:
    """A fresh contact id, ``c-`` and 64 random bits in hex (from `os.urandom`)."""
    if not _ids:
        text = os.urandom(_ID_BYTES * _IDS_PER_READ).hex()
        step = 2 * _ID_BYTES
        _ids.extend(f"c-{text[i : i + step]}" for i in range(0, len(text), step))
    return _ids.pop()


# A forked child must not hand out the ids its parent still holds: it reads its own.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.clear)


class Deadlines(Protocol):
    """What the service's timer needs of the router: its next deadline and the tick."""

    def next_deadline(self) -> float | None: ...

    def tick(self, now: float) -> list[ev.Event]: ...


# The fields the per-command steps read (`execute_command`, `_publish`, `_arm`, the
# clock), as a native object the service holds: from compiled code each is a struct
# read, where the plain `RoutingService`'s are instance-dict look-ups (~200
# instructions each, ~13 a command). `metrics`, `stats`, `bus` and `clock` are the
# service's own, fixed for its lifetime (the service keeps them as attributes
# too); the timer's state, the clock's last reading and the persister live only here.
# The router and the cluster host stay the service's attributes: code outside this
# module sets them (a test's stand-in host, a test kit's router).
class _Hot:
    def __init__(
        self,
        metrics: ServiceMetrics,
        stats: StatsBook,
        bus: EventBus,
        clock: Callable[[], float],
    ) -> None:
        self.metrics = metrics
        self.stats = stats
        self.bus = bus
        self.clock = clock
        self.last_now = 0.0
        self.persister: EventPersister | None = None
        # The router's next deadline as one loop timer, moved only when a command moves
        # the deadline (`_arm`): no task woken per command, none armed while no contact
        # or offer has a deadline. `timer_at` is the deadline it is armed for; `timed`
        # the router it ticks while this node routes (None: the timer is off).
        self.loop: asyncio.AbstractEventLoop | None = None
        self.timed: Deadlines | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at: float | None = None
        self.ticking = False  # inside the timer's own tick: it re-arms itself after
        self.pausing = False  # after a tick that left a deadline due: wait a little first


# Compiled, but a plain Python class: the dialer's wallboard keys its figures by the
# service in a WeakKeyDictionary (`ringway.dialer_live.wallboard`), which a native class
# (no __weakref__ slot) refuses, and tests replace `execute` on an instance to make a
# command fail. Its methods are compiled all the same; only its fields are read through
# the instance dict rather than as struct fields. No closures in its methods: mypyc
# (2.4) crashes compiling one in a plain class's method, so the commands it runs are
# module functions bound with functools.partial.
@mypyc_attr(native_class=False)
class RoutingService:
    def __init__(
        self,
        config: RingwayConfig,
        customers: CustomerStore,
        *,
        metrics: ServiceMetrics | None = None,
        clock: Callable[[], float] = time.time,
        host: RouterHost | None = None,
    ) -> None:
        self.config = config
        self.host = host
        # Told an agent id just before a command releases that agent's offer (RELEASES):
        # the dialer ends a preview reserved for them first, so the router never offers
        # that lead to anyone else (docs/dialer-live.md).
        self.release_hooks: list[Callable[[str], None]] = []
        self.customers = customers
        self.metrics = metrics if metrics is not None else ServiceMetrics()
        service = config.service
        self.lookup = CustomerLookup(
            customers, service.default_region, service.lookup_timeout_ms / 1000
        )
        self.stats = StatsBook({q.name: q for q in config.queues}, service.stats_window_s)
        self.bus = EventBus(on_drop=self._subscriber_dropped)
        self._router: Router | None = None
        # what the per-command steps read, as struct fields (`_Hot`)
        self._hot = _Hot(self.metrics, self.stats, self.bus, clock)
        self._writes: dict[str, asyncio.Task[None]] = {}
        self._transcripts: list[TranscriptSource] = []
        self.metrics.watch_subscribers(self.bus.__len__)  # read at scrape time
        self.metrics.watch(self.snapshot)

    # ----------------------------------------------------------------- lifecycle

    @property
    def router(self) -> Router:
        if self._router is None:
            if self.host is not None:
                raise self.host.not_leader()
            raise RuntimeError("the routing service is not started")
        return self._router

    async def start(self) -> None:
        """Open the event log, build the router after its last seq, add the agents."""
        setting = self.config.path_setting(self.config.service.event_log)
        event_log = await asyncio.to_thread(_open_event_log, setting)
        persister = self._hot.persister = EventPersister(event_log)
        persister.start()
        if self.host is not None:  # the host installs a router whenever this node leads
            await self.host.start(self, event_log.last_seq)
            return
        rng = random.Random(os.urandom(16))
        store = MemoryStore(first_seq=event_log.last_seq)
        router = self._router = Router(
            self.config.queues,
            rng=rng,
            store=store,
            explain_detail_limit=self.config.service.explain_detail_limit,
        )
        for agent in self.config.agents:  # offline until they log in
            self._add_agent(agent.to_agent())
        self._start_timer(router)

    def _start_timer(self, router: Deadlines) -> None:
        hot = self._hot
        hot.loop = asyncio.get_running_loop()
        hot.timed = router
        _arm(self, hot)

    async def _stop_timer(self) -> None:
        self._hot.timed = None
        _disarm(self._hot)

    @property
    def reads(self) -> RoutingReads:
        """Records to build frames from: the router, or a cluster follower's replica."""
        if self._router is None and self.host is not None:
            return self.host.reads
        return self.router

    async def call(self, name: str, **args: Any) -> dict[str, Any]:
        """Run a named routing command on whichever node routes; its answer.

        The entry point for edges (websockets, SMTP, SIP) on every node: here when this
        process routes, else forwarded to the cluster's leader — applied exactly once,
        or raising a 503 `RoutingError` that says it was not applied. The names and
        arguments are `ringway.cluster.rpc.CALLS`.
        """
        if name in RELEASES and isinstance(args.get("agent_id"), str):
            self.releasing(args["agent_id"])
        if self.host is not None:
            return await self.host.call(name, **args)
        from ringway.cluster.rpc import apply_call  # the cluster package imports this module

        return await apply_call(self, name, args)

    def routes_here(self) -> bool:
        """This process's router takes commands now (a cluster node: while it leads)."""
        return routes_here(self)

    def install_router(self, router: Router) -> None:
        """Route with ``router`` from now on (a cluster node that took the lead)."""
        self._router = router
        self._start_timer(router)

    async def remove_router(self) -> None:
        """Stop routing here (a cluster node whose term as leader ended)."""
        await self._stop_timer()
        self._router = None

    def _subscriber_dropped(self, _: Subscription) -> None:
        self.metrics.dropped.inc()

    def add_transcript_source(self, source: TranscriptSource) -> None:
        """Channels (chat, e-mail) add their record of a contact to its history notes."""
        self._transcripts.append(source)

    def _add_agent(self, agent: Agent) -> None:
        self.execute("add_agent", functools.partial(_add_agent, self, agent))

    async def stop(self) -> None:
        """Stop the timer, finish history writes, flush the event log, close the stores."""
        if self.host is not None:
            await self.host.stop()
        await self._stop_timer()
        if self._writes:
            await asyncio.gather(*self._writes.values(), return_exceptions=True)
        self.bus.close_all("service stopping")
        try:
            persister = self._hot.persister
            if persister is not None:
                self._hot.persister = None
                await persister.close()
        finally:
            await self.customers.close()

    def now(self) -> float:
        return _clock_now(self._hot)

    # ------------------------------------------------------------------ commands

    def releasing(self, agent_id: str) -> None:
        """``agent_id``'s offer is about to be withdrawn (see `release_hooks`)."""
        for hook in list(self.release_hooks):
            try:
                hook(agent_id)
            except Exception:  # a hook must not stop the agent's own command
                log.exception("release hook failed for agent %s", agent_id)

    def execute(self, name: str, command: Command) -> list[ev.Event]:
        """Run one router command now and publish what it did. Raises RoutingError."""
        return execute_command(self, name, command)

    def publish_committed(self, events: list[ev.Event], *, history: bool) -> None:
        """A cluster host's committed events; ``history``: this node writes CRM history."""
        hot = self._hot
        _publish(self, hot, events, history)
        _arm(self, hot)

    async def create_contact(self, new: NewContact) -> Contact:
        """Look the customer up (time-boxed), then queue the contact with its pop and tier.

        On a cluster node that does not route, the leader does both (forwarded).
        """
        if self._router is None and self.host is not None:
            return await self.host.create_contact(new)
        queue = self._queue_for(new.channel, new.queue, new.entry_point)
        result = new.lookup  # already looked up by the B2BUA (ringway.caller_lookups)
        if result is None:
            result = await self._look_up(new)
        else:
            # str() of a StrEnum is its value, without the enum's `value` property (a
            # Python function); so for the tier below
            self.metrics.count_lookup(str(result.status))
        return _queue_contact(
            self,
            self._hot,
            new.id or new_contact_id(),
            new.channel,
            queue,
            new.priority,
            new.origin,
            new.entry_point,
            new.language,
            new.preferred_agent,
            new.exclusive_agent,
            new.attributes,
            result,
        )

    def create_contact_now(
        self,
        contact_id: str,
        channel: Channel,
        queue: str,
        origin: str | None,
        priority: int,
        attributes: dict[str, Any],
        lookup: LookupResult,
    ) -> Contact | None:
        """`create_contact` without waiting, where it needs no I/O: this node routes and
        the customer was already looked up (``lookup``). The same contact, metrics and
        events; None when it would have to wait (a cluster node that does not route
        forwards to the leader): then await `create_contact`. Raises RoutingError."""
        return create_contact_now(
            self, contact_id, channel, queue, origin, priority, attributes, lookup
        )

    def _queue_for(self, channel: Channel, name: str | None, entry_point: str | None) -> str:
        name = name or self.config.queue_for(channel.value, entry_point)
        if name is None:
            raise UnknownQueue(f"no queue takes {channel.value} contacts; name one")
        queue = self.router.queues.get(name)
        if queue is None:
            known = ", ".join(sorted(self.router.queues))
            raise UnknownQueue(f"unknown queue {name!r} (known: {known})")
        if queue.channel is not channel:
            raise ChannelMismatch(
                f"queue {name} takes {queue.channel.value} contacts, not {channel.value}"
            )
        return name

    async def _look_up(self, new: NewContact) -> LookupResult:
        origin = new.origin
        by_email = new.channel is Channel.EMAIL or (
            origin is not None and "@" in origin and not _is_phone_uri(origin)
        )
        if by_email:
            result = await self.lookup.lookup_email(origin)
        else:
            result = await self.lookup.lookup_cli(origin)
        self.metrics.count_lookup(str(result.status))
        return result

    async def complete(
        self, agent_id: str, contact_id: str, *, disposition: str | None, notes: str
    ) -> list[ev.Event]:
        """Complete the contact, then wait until its interaction is in the customer's history."""
        events = self.execute(
            "complete",
            functools.partial(_complete, self, agent_id, contact_id, disposition, notes),
        )
        write = self._writes.get(contact_id)
        if write is not None:
            await asyncio.shield(write)  # a client hanging up must not cancel the write
        return events

    def _start_history_write(self, event: ev.ContactCompleted) -> None:
        task = asyncio.get_running_loop().create_task(self._write_history(event))
        self._writes[event.contact_id] = task
        task.add_done_callback(functools.partial(self._history_written, event.contact_id))

    def _history_written(self, contact_id: str, _: asyncio.Task[None]) -> None:
        self._writes.pop(contact_id, None)

    async def _write_history(self, event: ev.ContactCompleted) -> None:
        contact = self.router.store.get_contact(event.contact_id)
        interaction = Interaction(
            id=f"ix-{event.contact_id}-{event.seq}",
            customer_id=event.customer_id or "",
            at=datetime.fromtimestamp(event.at, UTC).isoformat(),
            channel=event.channel,
            direction="outbound" if event.channel == Channel.OUTBOUND.value else "inbound",
            contact_id=event.contact_id,
            agent_id=event.agent_id,
            queue=event.queue,
            disposition=event.disposition,
            notes=self._history_notes(event.contact_id, contact.notes if contact else ""),
        )
        try:
            await self.customers.add_interaction(interaction)
        except CrmError as exc:  # e.g. the customer was deleted mid-call: routing goes on
            log.warning("history for contact %s not written: %s", event.contact_id, exc.message)

    def _history_notes(self, contact_id: str, notes: str) -> str:
        parts = [notes] + [source(contact_id) or "" for source in self._transcripts]
        return "\n\n".join(part for part in parts if part)

    # -------------------------------------------------------------------- timer

    def _on_timer(self) -> None:
        """The deadline came: tick (or wait on, if the loop's timer woke a little early)."""
        hot = self._hot
        hot.timer = None
        hot.timer_at = None
        hot.pausing = False
        router = hot.timed
        if router is None:
            return
        deadline = router.next_deadline()
        if deadline is None or deadline - hot.clock() > 0:
            _arm(self, hot)  # woke early (the loop's timers have ~1 ms granularity) or moved
            return
        hot.ticking = True
        try:
            self.execute("tick", router.tick)
        except Exception:  # a bug in one tick must not stop every future timer
            log.exception("router tick failed")
        finally:
            hot.ticking = False
        after = router.next_deadline()
        if after is not None and after <= hot.clock():
            # never spin if a deadline does not move after a tick
            _schedule(self, hot, None, MIN_TIMER_SLEEP_S)
            hot.pausing = True
        else:
            _arm(self, hot)

    # ---------------------------------------------------------------- reading

    def subscribe(
        self,
        after_seq: int | None = None,
        limit: int = DEFAULT_LIMIT,
        kinds: frozenset[str] | None = None,
    ) -> Subscription:
        """Live events from now (or replayed from ``after_seq``), only of ``kinds`` if
        given (a consumer of one kind is not woken for every event); see `ringway.bus`."""
        log = self.host.events if self.host is not None else self.router.store.events
        backlog = [] if after_seq is None else log.read(after_seq, limit + 1)
        return self.bus.attach(Subscription(limit, kinds), backlog)

    def listen(
        self, handle: Callable[[ev.Event], None], kinds: frozenset[str] | None = None
    ) -> Listener:
        """Live events from now, handed to ``handle`` on the loop (see `ringway.bus.Listener`):
        for in-process consumers that never await while handling an event."""
        return self.bus.attach(Listener(handle, asyncio.get_running_loop(), kinds))

    def unsubscribe(self, subscription: Subscription) -> None:
        self.bus.detach(subscription)

    def snapshot(self) -> Snapshot:
        """Queue and agent figures for a metrics scrape (empty before start)."""
        if self._router is None:
            hosted = self.host.snapshot() if self.host is not None else None
            return hosted or Snapshot(queues=[])
        return snapshot(self._router, self.stats, self.now())


# The service's per-command steps (see `RoutingService.execute`). Module functions,
# not methods: a compiled call each, where a method of this plain class is looked up by
# name and called through its Python wrapper (~1,000 instructions a call). Compiled
# callers on the router path (`ringway.telephony`) call the public ones directly.


def routes_here(service: RoutingService) -> bool:
    """`RoutingService.routes_here`."""
    return service._router is not None


def local_router(service: RoutingService) -> Router | None:
    """The router this process routes with now; None where it does not route (a
    cluster node that does not lead, or a service not started)."""
    return service._router


def execute_command(service: RoutingService, name: str, command: Command) -> list[ev.Event]:
    """`RoutingService.execute`."""
    return _execute(service, service._hot, name, command)


def _execute(service: RoutingService, hot: _Hot, name: str, command: Command) -> list[ev.Event]:
    host = service.host
    if host is not None:
        host.before_command(name)
    now = _clock_now(hot)
    started = _perf_counter()
    events = command(now)
    _executed(service, hot, host, name, started, events)
    return events


def _arrive(service: RoutingService, hot: _Hot, contact: Contact) -> list[ev.Event]:
    """`_execute` of ``contact_arrived``, the router called directly (no command object
    made and called through Python's protocol: every contact arrives once)."""
    host = service.host
    if host is not None:
        host.before_command("contact_arrived")
    now = _clock_now(hot)
    started = _perf_counter()
    router = service._router  # `service.router` without its property's call
    if router is None:
        router = service.router  # raises: this node does not route
    events = router.contact_arrived(contact, now)
    _executed(service, hot, host, "contact_arrived", started, events)
    return events


def end_contact(service: RoutingService, router: Router, contact_id: str) -> list[ev.Event]:
    """`RoutingService.execute` of ``end`` on ``router`` (the customer side ended), for
    the router path (`ringway.telephony`): the router called directly, not through a
    command object. Raises RoutingError."""
    hot = service._hot
    host = service.host
    if host is not None:
        host.before_command("end")
    now = _clock_now(hot)
    started = _perf_counter()
    events = router.end(contact_id, now)
    _executed(service, hot, host, "end", started, events)
    return events


def _executed(
    service: RoutingService,
    hot: _Hot,
    host: RouterHost | None,
    name: str,
    started: float,
    events: list[ev.Event],
) -> None:
    """What follows every command: its time observed, its events published (or handed
    to the cluster host), the timer moved if its deadline did."""
    hot.metrics.observe_decision(name, _perf_counter() - started)
    if host is None:
        _publish(service, hot, events, True)
    else:
        host.after_command(events)  # published by publish_committed, once durable
    _arm(service, hot)  # a command may have created an earlier deadline


def create_contact_now(
    service: RoutingService,
    contact_id: str,
    channel: Channel,
    queue: str,
    origin: str | None,
    priority: int,
    attributes: dict[str, Any],
    lookup: LookupResult,
) -> Contact | None:
    """`RoutingService.create_contact_now`."""
    router = service._router
    if router is None:
        return None
    if not queue or _queue_channel(router, queue) is not channel:
        queue = service._queue_for(channel, queue, None)  # refused before the lookup counts
    hot = service._hot
    hot.metrics.count_lookup(str(lookup.status))
    return _queue_contact(
        service,
        hot,
        contact_id,
        channel,
        queue,
        priority,
        origin,
        None,  # entry_point
        None,  # language
        None,  # preferred_agent
        False,  # exclusive_agent
        attributes,
        lookup,
    )


def _queue_channel(router: Router, name: str) -> Channel | None:
    """The channel of the router's queue ``name``; None if it has no such queue."""
    queue = router.queues.get(name)
    return None if queue is None else queue.channel


def _clock_now(hot: _Hot) -> float:
    """`RoutingService.now`."""
    # Never backwards (an NTP step): the core and the StatsBook assume it.
    now = hot.clock()
    if now > hot.last_now:  # max() without the builtin's call
        hot.last_now = now
        return now
    return hot.last_now


def _queue_contact(
    service: RoutingService,
    hot: _Hot,
    contact_id: str,
    channel: Channel,
    queue: str,
    priority: int,
    origin: str | None,
    entry_point: str | None,
    language: str | None,
    preferred_agent: str | None,
    exclusive_agent: bool,
    attributes: dict[str, Any],
    result: LookupResult,
) -> Contact:
    """Queue a contact whose customer is looked up (``result``): its pop, tier, language."""
    customer = result.customer
    tier = customer.tier if customer is not None else None  # result.tier, found once
    contact = arriving_contact(
        contact_id,
        channel,
        queue,
        _clock_now(hot),  # created_at
        priority,
        origin,
        entry_point,
        language or (customer.language if customer else None),
        customer.id if customer else None,  # customer_id
        str(tier) if tier is not None else None,  # tier
        preferred_agent,
        exclusive_agent,
        {**attributes, "pop": result.to_pop()},
    )
    _arrive(service, hot, contact)
    return contact


def _publish(service: RoutingService, hot: _Hot, events: list[ev.Event], history: bool) -> None:
    """Hand a command's events, in order, to the stats, the event log, the live
    subscribers and the metrics; ``history``: start the CRM history writes."""
    if not events:
        return
    stats = hot.stats  # a native StatsBook: a direct call per event, no bound method
    for event in events:
        stats.apply(event)
        if history:
            # (the router path's two kinds let go by their exact type, one compare each:
            # neither is a `ContactCompleted`)
            kind = type(event)
            if (
                kind is not _QUEUED
                and kind is not _ABANDONED
                and isinstance(event, _COMPLETED)
                and event.customer_id is not None
            ):
                service._start_history_write(event)
    persister = hot.persister
    if persister is not None:
        persister.submit(events)
    hot.bus.publish(events)
    hot.metrics.count_events(events)


def _arm(service: RoutingService, hot: _Hot) -> None:
    """Keep one loop timer at the router's next deadline (none when it has none).

    Called after every command; costs a deadline read and a compare when the
    deadline did not move, which is the common case (a contact queued or ended
    with no offer, wrap-up or timed queue).
    """
    timed = hot.timed
    if timed is None or hot.ticking or hot.pausing:
        return
    try:
        deadline = _next_deadline(timed)
    except Exception:  # the command that called us succeeded: do not fail it
        log.exception("router deadline unreadable; the timer stays as it was")
        return
    if deadline == hot.timer_at:  # armed for it already (or both None)
        return
    _disarm(hot)
    if deadline is not None:
        _schedule(service, hot, deadline, deadline - hot.clock())


def _next_deadline(timed: Deadlines) -> float | None:
    if isinstance(timed, Router):  # the common case: a native call, not a method by name
        return timed.next_deadline()
    return timed.next_deadline()


def _disarm(hot: _Hot) -> None:
    timer = hot.timer
    if timer is not None:
        timer.cancel()
        hot.timer = None
    hot.timer_at = None
    hot.pausing = False


def _schedule(service: RoutingService, hot: _Hot, deadline: float | None, delay: float) -> None:
    # The deadline is on the wall clock (``clock``); the loop's timer runs on its own
    # monotonic clock, so the wait is converted as a delay, as asyncio.timeout did.
    loop = hot.loop
    assert loop is not None
    hot.timer_at = deadline
    hot.timer = loop.call_at(loop.time() + max(delay, 0.0), service._on_timer)


# The service's router commands, bound with functools.partial (see `RoutingService`):
# each reads the router when it runs, inside `execute`, as a lambda would.


def _add_agent(service: RoutingService, agent: Agent, now: float) -> list[ev.Event]:
    return service.router.add_agent(agent, now)


def _complete(
    service: RoutingService,
    agent_id: str,
    contact_id: str,
    disposition: str | None,
    notes: str,
    now: float,
) -> list[ev.Event]:
    return service.router.complete(agent_id, contact_id, now, disposition=disposition, notes=notes)


def _open_event_log(setting: str) -> SQLiteEventLog | PostgresEventLog:
    """``service.event_log``: a SQLite file path (the default) or a ``postgresql://`` URL."""
    if is_postgres_url(setting):
        return PostgresEventLog(setting)
    path = Path(setting)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEventLog(path)


def _is_phone_uri(origin: str) -> bool:
    lowered = origin.lower()
    return "sip:" in lowered or "sips:" in lowered or "tel:" in lowered
