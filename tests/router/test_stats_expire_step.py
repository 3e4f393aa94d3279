"""`StatsBook.apply` expires a queue's windows once its cutoff moved `EXPIRE_STEP_S`,
not on every event: the KPIs a query reads are the same, memory stays bounded."""

from __future__ import annotations

from router import events as ev
from router.model import Channel
from router.queues import Queue
from router.stats import EXPIRE_STEP_S, StatsBook

SALES = Queue(name="sales", channel=Channel.VOICE)


def queued(at: float) -> ev.ContactQueued:
    return ev.ContactQueued(at=at, contact_id=f"c{at}", queue="sales", channel="voice")


def answered(at: float, wait: float) -> ev.OfferAccepted:
    return ev.OfferAccepted(
        at=at,
        contact_id=f"c{at}",
        agent_id="a",
        queue="sales",
        channel="voice",
        reservation_id="r",
        wait=wait,
    )


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
