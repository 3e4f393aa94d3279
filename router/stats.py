"""Rolling contact-centre KPIs, computed from the router's events.

One `StatsBook` feeds the Prometheus metrics, the REST API, the wallboard and
the simulator, so they all agree on what "service level" means. It is pure: it
never reads a clock (every query takes ``now``, in the same seconds as the
events' ``at``) and does no I/O.

Real-time convention: each sample counts at the time of *its own* event (an
answer counts when it happened, not when the contact was queued). The interval
reports in ``ringway.reports`` use the planners' convention instead (everything
attributed to the interval the contact was queued in), so the two can differ
near window edges; that is expected.

Definitions, per queue, over the window ``(now - window_s, now]``:

``offered``
    ``ContactQueued`` events: arrivals, overflows in and transfers in all count,
    so a contact that overflows is offered to both queues.
``answered`` / ``asa``
    ``OfferAccepted`` events / mean of their ``wait``. The engine measures
    ``wait`` from when the contact first joined a queue (an overflow keeps it, a
    transfer restarts it), i.e. what the customer lived through.
``answered_within_threshold``
    answered with ``wait <= threshold``, the threshold of the SLA for the
    contact's tier (``Queue.sla_for(tier)``).
``abandoned`` / ``short_abandoned`` / ``avg_abandon_wait``
    ``ContactAbandoned`` events / those with ``wait < short_abandon_s``
    (default 5 s: wrong numbers, instant hang-ups) / mean abandon wait.
``service_level`` (SL1, the strict one; what ``meets_target`` compares)
    ``answered_within_threshold / (answered + abandoned)``. Every closed
    contact is in the denominator, every abandon counts against you.
``service_level_abandon_aware``
    ``answered_within_threshold / (answered + abandoned - short_abandoned)``:
    short abandons are left out, as nobody could have answered them.
    (A third variant some ACDs use, leaving out every abandon before the
    threshold, is deliberately not offered: one strict and one lenient is enough.)
``abandon_rate``
    ``abandoned / (answered + abandoned)``. Closed contacts, not ``offered``:
    in a rolling window the two populations differ, and this ratio stays <= 1.
``aht``
    mean ``handle`` of ``ContactCompleted`` (talk + wrap-up).
``offers`` / ``ronas`` / ``rejects``
    ``ContactOffered`` / ``OfferRejected`` with reason ``timeout`` (ring no
    answer) / with reason ``rejected`` (the agent declined). Rejections with
    reason ``disconnected`` count in neither.

A ratio whose denominator is zero is ``None`` (no data), never 0 or 1.

Service level per SLA band: contacts whose tier has its own SLA in
``Queue.sla_by_tier`` form a band, every other contact is in the default band
``""``. ``meets_target`` is true when *every* band meets its own target with
its ``service_level`` (a band with no closed contacts has missed nothing), so a
queue cannot meet its gold promise on the back of its bronze traffic.

Cost: each event appends one sample to a deque and each query pops expired
samples from the left, so the work is O(1) amortised per event. Samples must
arrive roughly in time order (they do: the router emits them so); a sample
older than its predecessor only expires a little late. Queries must use a
non-decreasing ``now``: expired samples are gone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from mypy_extensions import mypyc_attr

from router import events as ev
from router.model import Channel
from router.queues import Queue, ServiceLevel

DEFAULT_WINDOW_S = 1800.0
DEFAULT_SHORT_ABANDON_S = 5.0
# `StatsBook.apply` expires a queue's windows once its cutoff has moved this far: every
# event did it, ~4,000 instructions each for a queue's nine windows. Only memory waits
# on it (at most this many seconds of samples more); a query expires to its own `now`.
EXPIRE_STEP_S = 1.0
# (module globals, read once per event: `ev.ContactQueued` is a look-up in another module)
_QUEUED: Final = ev.ContactQueued
_ABANDONED: Final = ev.ContactAbandoned


class _Window:
    """Samples ``(at, value)`` in a rolling window, with their count and sum kept current."""

    __slots__ = ("_samples", "total")

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()
        self.total = 0.0

    def add(self, at: float, value: float = 0.0) -> None:
        self._samples.append((at, value))
        self.total += value

    def expire(self, cutoff: float) -> None:
        """Drop samples at or before ``cutoff``."""
        samples = self._samples
        while samples and samples[0][0] <= cutoff:
            self.total -= samples.popleft()[1]
        if not samples:
            self.total = 0.0  # no float drift survives an empty window

    def __len__(self) -> int:
        return len(self._samples)

    def mean(self) -> float | None:
        return self.total / len(self._samples) if self._samples else None


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class KpiTotals:
    """Counts since the book started (never expire), for Prometheus counters."""

    offered: int = 0
    answered: int = 0
    answered_within_threshold: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    handled: int = 0
    offers: int = 0
    ronas: int = 0
    rejects: int = 0

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class BandKpis:
    """Service level of one SLA band of a queue (``band == ""``: the queue's default SLA)."""

    band: str
    threshold_s: float
    target: float
    answered: int
    answered_within_threshold: int
    abandoned: int
    short_abandoned: int
    service_level: float | None
    service_level_abandon_aware: float | None
    meets_target: bool

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueKpis:
    """One queue's KPIs over the window ending at ``now`` (see the module docstring)."""

    queue: str
    now: float
    window_s: float
    offered: int
    answered: int
    answered_within_threshold: int
    abandoned: int
    short_abandoned: int
    handled: int
    offers: int
    ronas: int
    rejects: int
    service_level: float | None
    service_level_abandon_aware: float | None
    abandon_rate: float | None
    asa: float | None
    aht: float | None
    avg_abandon_wait: float | None
    target: float  # the queue's default SLA target; bands may have their own
    meets_target: bool
    bands: tuple[BandKpis, ...]
    totals: KpiTotals

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["bands"] = [band.to_dict() for band in self.bands]
        data["totals"] = self.totals.to_dict()
        return data


class _Band:
    """One SLA band's windows. (A native class compiled: `StatsBook.apply` reads its
    windows on every answer and abandon, struct reads where a plain class's are generic
    look-ups.)"""

    def __init__(self, sla: ServiceLevel) -> None:
        self.sla = sla
        self.answered = _Window()  # value: wait
        self.within = _Window()
        self.abandoned = _Window()  # value: wait
        self.short = _Window()

    def windows(self) -> tuple[_Window, ...]:
        return (self.answered, self.within, self.abandoned, self.short)

    def kpis(self, name: str) -> BandKpis:
        answered, within = len(self.answered), len(self.within)
        abandoned, short = len(self.abandoned), len(self.short)
        sl = _ratio(within, answered + abandoned)
        return BandKpis(
            band=name,
            threshold_s=self.sla.threshold_s,
            target=self.sla.target,
            answered=answered,
            answered_within_threshold=within,
            abandoned=abandoned,
            short_abandoned=short,
            service_level=sl,
            service_level_abandon_aware=_ratio(within, answered + abandoned - short),
            meets_target=sl is None or sl >= self.sla.target,
        )


class _QueueBook:
    """Windows and running totals of one queue.

    The windows the hot kinds count in (``offered``) and every running total are the
    book's own fields, not dict items by name: a struct read and an integer add each,
    compiled. ``windows`` names the same `_Window` objects for the queries."""

    WINDOWED = ("offered", "handled", "offers", "ronas", "rejects")

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.offered = _Window()
        self.handled = _Window()  # value: handle
        self.offers = _Window()
        self.ronas = _Window()
        self.rejects = _Window()
        self.windows = {
            "offered": self.offered,
            "handled": self.handled,
            "offers": self.offers,
            "ronas": self.ronas,
            "rejects": self.rejects,
        }
        self.bands: dict[str, _Band] = {}
        # the running totals (`KpiTotals`), counted since the book started
        self.n_offered = 0
        self.n_answered = 0
        self.n_within = 0
        self.n_abandoned = 0
        self.n_short = 0
        self.n_handled = 0
        self.n_offers = 0
        self.n_ronas = 0
        self.n_rejects = 0
        self.expired_to = float("-inf")  # the cutoff `expire` last ran to
        self.default_band: _Band | None = None  # bands[""], once made

    def kpi_totals(self) -> KpiTotals:
        return KpiTotals(
            offered=self.n_offered,
            answered=self.n_answered,
            answered_within_threshold=self.n_within,
            abandoned=self.n_abandoned,
            short_abandoned=self.n_short,
            handled=self.n_handled,
            offers=self.n_offers,
            ronas=self.n_ronas,
            rejects=self.n_rejects,
        )

    def band(self, tier: str | None) -> _Band:
        if tier is None:  # (the default band: no tier has its own SLA)
            band = self.default_band
            if band is not None:
                return band
        name = self.queue.band(tier)
        band = self.bands.get(name)
        if band is None:
            band = self.bands[name] = _Band(self.queue.sla_for(tier))
        if not name:
            self.default_band = band
        return band

    def expire(self, cutoff: float) -> None:
        self.expired_to = cutoff
        for window in self.windows.values():
            window.expire(cutoff)
        for band in self.bands.values():
            for window in band.windows():
                window.expire(cutoff)


class StatsBook:
    """Rolling per-queue KPIs: feed it every event with `apply`, ask with `queue_kpis`.

    ``queues`` gives each queue's SLA. A queue first seen in an event but not
    configured (a config reload added it) gets the default `ServiceLevel`.
    """

    def __init__(
        self,
        queues: Mapping[str, Queue],
        window_s: float = DEFAULT_WINDOW_S,
        *,
        short_abandon_s: float = DEFAULT_SHORT_ABANDON_S,
    ) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        self.window_s = window_s
        self.short_abandon_s = short_abandon_s
        self._queues = dict(queues)
        self._books: dict[str, _QueueBook] = {name: _QueueBook(q) for name, q in queues.items()}

    def apply(self, event: ev.Event) -> None:
        """Count one event; kinds that carry no KPI are ignored."""
        # The router path's two events by their exact class first, in one compare each,
        # each field read once (a generic look-up on an interpreted event). A subclass
        # goes through the patterns (`_count_matched`).
        kind = type(event)
        if kind is _QUEUED:
            queued = cast(ev.ContactQueued, event)
            at = queued.at
            book = self._book(queued.queue)
            book.offered.add(at, 0.0)
            book.n_offered += 1
            self._expire_after(book, at)
        elif kind is _ABANDONED:
            abandoned = cast(ev.ContactAbandoned, event)
            at = abandoned.at
            book = self._abandoned_at(abandoned, at)
            self._expire_after(book, at)
        else:
            counted = self._count_matched(event)
            if counted is not None:
                self._expire_after(counted, event.at)

    def _expire_after(self, book: _QueueBook, at: float) -> None:
        # Expire as we go, so a queue nobody queries keeps only its window's samples
        # (give or take `EXPIRE_STEP_S`).
        cutoff = at - self.window_s
        if cutoff >= book.expired_to + EXPIRE_STEP_S:
            book.expire(cutoff)

    def queue_kpis(self, queue: str, now: float) -> QueueKpis:
        """KPIs of ``queue`` over ``(now - window_s, now]``.

        A queue with no events yet (even one the book has never heard of) has zero
        counts; asking does not register it, so ``all_kpis`` is not polluted by typos.
        """
        book = self._books.get(queue) or self._new_book(queue)
        book.expire(now - self.window_s)
        return self._kpis(book, now)

    def all_kpis(self, now: float) -> list[QueueKpis]:
        """Every configured or seen queue, by name."""
        return [self.queue_kpis(name, now) for name in sorted(self._books)]

    # ------------------------------------------------------------------ internals

    def _book(self, name: str) -> _QueueBook:
        book = self._books.get(name)
        if book is None:
            book = self._books[name] = self._new_book(name)
        return book

    def _new_book(self, name: str) -> _QueueBook:
        queue = self._queues.get(name)
        if queue is None:  # not configured: the default SLA
            queue = Queue(name=name, channel=Channel.TASK)
        return _QueueBook(queue)

    def _count_matched(self, event: ev.Event) -> _QueueBook | None:
        """Count ``event`` in its queue's book (returned); None when it carries no KPI."""
        # Each case costs an isinstance check and a module attribute look-up (~650
        # instructions compiled), so the commonest come first: every contact is queued,
        # and a caller who hangs up in the queue abandons. (The classes are disjoint, all
        # direct subclasses of `Event`: the order changes no outcome.)
        match event:
            case ev.ContactQueued():
                book = self._book(event.queue)
                book.offered.add(event.at, 0.0)
                book.n_offered += 1
                return book
            case ev.ContactAbandoned():
                return self._abandoned_at(event, event.at)
            case ev.ContactOffered():
                book = self._book(event.queue)
                book.offers.add(event.at, 0.0)
                book.n_offers += 1
                return book
            case ev.OfferAccepted():
                return self._answered(event)
            case ev.ContactCompleted():
                book = self._book(event.queue)
                book.handled.add(event.at, event.handle)
                book.n_handled += 1
                return book
            case ev.OfferRejected(reason="timeout"):
                book = self._book(event.queue)
                book.ronas.add(event.at, 0.0)
                book.n_ronas += 1
                return book
            case ev.OfferRejected(reason="rejected"):
                book = self._book(event.queue)
                book.rejects.add(event.at, 0.0)
                book.n_rejects += 1
                return book
        return None

    def _answered(self, event: ev.OfferAccepted) -> _QueueBook:
        book = self._book(event.queue)
        band = book.band(event.tier)
        at, wait = event.at, event.wait
        band.answered.add(at, wait)
        book.n_answered += 1
        if wait <= band.sla.threshold_s:
            band.within.add(at, 0.0)
            book.n_within += 1
        return book

    def _abandoned_at(self, event: ev.ContactAbandoned, at: float) -> _QueueBook:
        book = self._book(event.queue)
        band = book.band(event.tier)
        wait = event.wait
        band.abandoned.add(at, wait)
        book.n_abandoned += 1
        if wait < self.short_abandon_s:
            band.short.add(at, 0.0)
            book.n_short += 1
        return book

    def _kpis(self, book: _QueueBook, now: float) -> QueueKpis:
        bands = tuple(band.kpis(name) for name, band in sorted(book.bands.items()))
        answered = sum(b.answered for b in bands)
        within = sum(b.answered_within_threshold for b in bands)
        abandoned = sum(b.abandoned for b in bands)
        short = sum(b.short_abandoned for b in bands)
        closed = answered + abandoned
        return QueueKpis(
            queue=book.queue.name,
            now=now,
            window_s=self.window_s,
            offered=len(book.windows["offered"]),
            answered=answered,
            answered_within_threshold=within,
            abandoned=abandoned,
            short_abandoned=short,
            handled=len(book.windows["handled"]),
            offers=len(book.windows["offers"]),
            ronas=len(book.windows["ronas"]),
            rejects=len(book.windows["rejects"]),
            service_level=_ratio(within, closed),
            service_level_abandon_aware=_ratio(within, closed - short),
            abandon_rate=_ratio(abandoned, closed),
            asa=_mean(sum(b.answered.total for b in book.bands.values()), answered),
            aht=book.windows["handled"].mean(),
            avg_abandon_wait=_mean(sum(b.abandoned.total for b in book.bands.values()), abandoned),
            target=book.queue.service_level.target,
            meets_target=all(b.meets_target for b in bands),
            bands=bands,
            totals=book.kpi_totals(),
        )


def _mean(total: float, count: int) -> float | None:
    return total / count if count > 0 else None
