"""Rolling KPIs: the definitions, the window, tiers, and a day driven through the router."""

from __future__ import annotations

import random

import pytest

from router import events as ev
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue, ServiceLevel
from router.skills import parse
from router.stats import EXPIRE_STEP_S, StatsBook

SALES = Queue(
    name="sales",
    channel=Channel.VOICE,
    requirement=parse("sales"),
    service_level=ServiceLevel(target=0.8, threshold_s=20),
    sla_by_tier={"gold": ServiceLevel(target=0.9, threshold_s=10)},
    offer_timeout_s=60,
)


def queued(at: float, queue: str = "sales") -> ev.ContactQueued:
    return ev.ContactQueued(at=at, contact_id=f"c{at}", queue=queue, channel="voice")


def answered(at: float, wait: float, tier: str | None = None) -> ev.OfferAccepted:
    return ev.OfferAccepted(
        at=at,
        contact_id=f"c{at}",
        agent_id="a",
        queue="sales",
        channel="voice",
        reservation_id="r",
        wait=wait,
        tier=tier,
    )


def abandoned(at: float, wait: float, tier: str | None = None) -> ev.ContactAbandoned:
    return ev.ContactAbandoned(
        at=at, contact_id=f"c{at}", queue="sales", channel="voice", wait=wait, tier=tier
    )


def completed(at: float, handle: float) -> ev.ContactCompleted:
    return ev.ContactCompleted(
        at=at, contact_id=f"c{at}", agent_id="a", queue="sales", channel="voice", handle=handle
    )


def rejected(at: float, reason: str) -> ev.OfferRejected:
    return ev.OfferRejected(
        at=at, contact_id="c", agent_id="a", queue="sales", reservation_id="r", reason=reason
    )


def book_with(*events: ev.Event, window_s: float = 1800.0) -> StatsBook:
    book = StatsBook({"sales": SALES}, window_s)
    for event in events:
        book.apply(event)
    return book


def test_service_level_variants_and_means() -> None:
    book = book_with(
        *(queued(t) for t in (1, 2, 3, 4, 5, 6)),
        answered(10, wait=20),  # exactly the threshold: within
        answered(11, wait=21),
        answered(12, wait=9, tier="gold"),
        answered(13, wait=11, tier="gold"),  # within 20, not within gold's 10
        abandoned(14, wait=4.9),  # short
        abandoned(15, wait=30),
        completed(40, handle=100),
        completed(41, handle=50),
    )
    k = book.queue_kpis("sales", now=50)
    assert (k.offered, k.answered, k.answered_within_threshold) == (6, 4, 2)
    assert (k.abandoned, k.short_abandoned, k.handled) == (2, 1, 2)
    assert k.service_level == 2 / 6
    assert k.service_level_abandon_aware == 2 / 5
    assert k.abandon_rate == 2 / 6
    assert k.asa == (20 + 21 + 9 + 11) / 4
    assert k.aht == 75.0
    assert k.avg_abandon_wait == (4.9 + 30) / 2
    bands = {b.band: b for b in k.bands}
    assert (bands[""].threshold_s, bands[""].answered_within_threshold) == (20, 1)
    assert (bands["gold"].threshold_s, bands["gold"].service_level) == (10, 0.5)
    assert k.target == 0.8 and not k.meets_target


def test_meets_target_needs_every_band() -> None:
    # Default band 4/5 = 80 % meets 80 %; gold 8/9 = 88.9 % misses 90 %.
    default = [answered(t, wait=1) for t in range(4)] + [answered(4, wait=99)]
    gold = [answered(10 + t, wait=1, tier="gold") for t in range(8)]
    book = book_with(*default, *gold, answered(30, wait=50, tier="gold"))
    k = book.queue_kpis("sales", now=31)
    assert [(b.band, b.meets_target) for b in k.bands] == [("", True), ("gold", False)]
    assert k.service_level == 12 / 14 and k.service_level > 0.8
    assert not k.meets_target
    book.apply(answered(31, wait=1, tier="gold"))  # gold 9/10 = 90 %
    assert book.queue_kpis("sales", now=31).meets_target


def test_tiers_without_their_own_sla_use_the_default_band() -> None:
    k = book_with(answered(1, wait=15, tier="bronze")).queue_kpis("sales", now=2)
    assert [(b.band, b.answered_within_threshold) for b in k.bands] == [("", 1)]


def test_rona_and_reject_counts() -> None:
    book = book_with(
        rejected(1, "timeout"),
        rejected(2, "timeout"),
        rejected(3, "rejected"),
        rejected(4, "disconnected"),
    )
    k = book.queue_kpis("sales", now=5)
    assert (k.ronas, k.rejects) == (2, 1)


def test_the_window_expires_old_samples_but_totals_keep_them() -> None:
    book = book_with(queued(0), answered(5, wait=5), window_s=60)
    k = book.queue_kpis("sales", now=64.9)  # the window is (4.9, 64.9]
    assert (k.offered, k.answered, k.service_level) == (0, 1, 1.0)
    k = book.queue_kpis("sales", now=65)
    assert (k.answered, k.asa, k.service_level, k.meets_target) == (0, None, None, True)
    book.apply(completed(100, handle=95))
    assert book.queue_kpis("sales", now=100).aht == 95.0
    k = book.queue_kpis("sales", now=160)
    assert (k.handled, k.aht) == (0, None)
    assert (k.totals.offered, k.totals.answered, k.totals.handled) == (1, 1, 1)
    assert k.totals.answered_within_threshold == 1


def test_apply_expires_so_memory_stays_bounded() -> None:
    book = StatsBook({"sales": SALES}, window_s=10)
    for t in range(10_000):
        book.apply(answered(float(t), wait=1))
    # Peek at the one band's window: only the last 10 s are kept.
    band = book._books["sales"].bands[""]  # white-box: the bound itself
    assert len(band.answered) == 10
    assert book.queue_kpis("sales", now=9999).totals.answered == 10_000


def test_idle_unknown_and_unconfigured_queues() -> None:
    book = StatsBook({"sales": SALES})
    idle = book.queue_kpis("nope", now=0)
    assert (idle.offered, idle.service_level, idle.meets_target) == (0, None, True)
    assert [k.queue for k in book.all_kpis(0)] == ["sales"]  # asking did not register "nope"
    book.apply(queued(1, queue="new"))
    assert [(k.queue, k.offered, k.target) for k in book.all_kpis(2)] == [
        ("new", 1, 0.8),
        ("sales", 0, 0.8),
    ]


def test_to_dict_is_json_ready() -> None:
    data = book_with(answered(1, wait=1, tier="gold")).queue_kpis("sales", 2).to_dict()
    assert data["bands"][0]["band"] == "gold" and data["totals"]["answered"] == 1
    assert data["service_level"] == 1.0


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError):
        StatsBook({}, window_s=0)


def test_a_day_through_the_router() -> None:
    """c1 answered in 5 s, c2 in 70 s, c3 abandons at 3 s, c4 at 40 s, c5 (gold) in
    30 s, c6 (gold) in 12 s, c7 rings out once and is answered in 75 s."""
    router = Router([SALES], rng=random.Random(3))
    book = StatsBook({"sales": SALES}, window_s=1800)

    def at(now: float, command: str, *args: object) -> None:
        for event in getattr(router, command)(*args, now):
            book.apply(event)

    def arrive(now: float, cid: str, tier: str | None = None) -> None:
        at(
            now,
            "contact_arrived",
            Contact(id=cid, channel=Channel.VOICE, queue="sales", created_at=now, tier=tier),
        )

    at(
        0,
        "add_agent",
        Agent(id="al", name="Al", skills={"sales": 1}, capacity=capacity_from({"voice": 1})),
    )
    router.login("al", 0, ready=True)
    arrive(10, "c1")
    at(15, "accept", "al", "c1")
    arrive(20, "c2")
    arrive(30, "c3")
    at(33, "end", "c3")
    arrive(40, "c4")
    at(75, "end", "c1")
    at(80, "end", "c4")
    at(85, "complete", "al", "c1")
    at(90, "accept", "al", "c2")
    at(180, "end", "c2")
    at(190, "complete", "al", "c2")
    arrive(890, "c5", "gold")
    at(920, "accept", "al", "c5")
    at(980, "end", "c5")
    at(1000, "complete", "al", "c5")
    arrive(1001, "c6", "gold")
    at(1013, "accept", "al", "c6")
    at(1033, "end", "c6")
    at(1040, "complete", "al", "c6")
    arrive(1100, "c7")
    at(1160, "tick")
    at(1170, "set_ready", "al")
    at(1175, "accept", "al", "c7")
    at(1200, "end", "c7")
    at(1210, "complete", "al", "c7")

    k = book.queue_kpis("sales", now=1210)
    assert (k.offered, k.answered, k.answered_within_threshold) == (7, 5, 1)
    assert (k.abandoned, k.short_abandoned, k.handled) == (2, 1, 5)
    assert (k.offers, k.ronas, k.rejects) == (6, 1, 0)
    assert k.service_level == 1 / 7
    assert k.service_level_abandon_aware == 1 / 6
    assert k.asa == 38.4
    assert k.aht == 62.4
    assert not k.meets_target

    short = StatsBook({"sales": SALES}, window_s=300)  # replay: a fresh book, shorter window
    for event in router.store.events.read(limit=10_000):
        short.apply(event)
    k = short.queue_kpis("sales", now=1210)  # window (910, 1210]
    assert (k.offered, k.answered, k.answered_within_threshold) == (2, 3, 0)
    assert (k.abandoned, k.handled, k.offers, k.ronas) == (0, 3, 3, 1)
    assert k.asa == 39.0 and k.aht == pytest.approx(142 / 3)
    assert k.totals.answered == 5 and k.totals.offered == 7


# `StatsBook.apply` expires a queue's windows once its cutoff moved `EXPIRE_STEP_S`, not
# on every event: the KPIs a query reads are the same, memory stays bounded.


def test_dense_events_expire_in_steps_and_queries_stay_exact() -> None:
    book = StatsBook({"sales": SALES}, window_s=10)
    for i in range(1000):  # ten events a second
        book.apply(answered(i / 10, wait=1))
    band = book._books["sales"].bands[""]  # white-box: the bound itself
    kept = len(band.answered)
    assert 100 <= kept <= 100 + 10 * EXPIRE_STEP_S + 1  # the window, and at most a step
    assert kept > 101  # not expired on every event
    kpis = book.queue_kpis("sales", now=99.9)
    assert kpis.answered == 100  # (89.9, 99.9]: the query expires to its own now
    assert kpis.totals.answered == 1000


def test_a_step_later_the_window_is_expired_by_apply_alone() -> None:
    book = StatsBook({"sales": SALES}, window_s=10)
    book.apply(queued(0))
    book.apply(queued(5))
    book.apply(queued(10 + EXPIRE_STEP_S + 0.5))  # cutoff past 0, a step past the last
    assert len(book._books["sales"].windows["offered"]) == 2


class _QueuedLater(ev.ContactQueued):
    """A subclass: counted through the patterns, not the exact-class fast path."""


class _AbandonedLater(ev.ContactAbandoned):
    pass


def test_queued_and_abandoned_count_the_same_by_class_or_subclass() -> None:
    exact, sub = StatsBook({"sales": SALES}), StatsBook({"sales": SALES})
    exact.apply(queued(1.0))
    exact.apply(abandoned(2.0, wait=1.0, tier="gold"))
    exact.apply(abandoned(3.0, wait=30.0))
    sub.apply(_QueuedLater(at=1.0, contact_id="c1.0", queue="sales", channel="voice"))
    sub.apply(
        _AbandonedLater(
            at=2.0, contact_id="c2.0", queue="sales", channel="voice", wait=1.0, tier="gold"
        )
    )
    sub.apply(_AbandonedLater(at=3.0, contact_id="c3.0", queue="sales", channel="voice", wait=30.0))
    kpis = exact.queue_kpis("sales", 10.0)
    assert kpis == sub.queue_kpis("sales", 10.0)
    assert kpis.offered == 1 and kpis.abandoned == 2 and kpis.short_abandoned == 1
