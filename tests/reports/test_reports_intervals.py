"""Interval reports: attribution to the queued interval, the per-contact join, parsing."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from ringway.reports import (
    FIELDS,
    IntervalRow,
    interval_report,
    parse_interval,
    parse_time,
    rows_to_csv,
    rows_to_json,
)
from router import events as ev
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue, ServiceLevel
from router.skills import parse

T0 = 1704103200.0  # 2024-01-01T10:00:00Z
GOLD = {"gold": ServiceLevel(target=0.9, threshold_s=10)}


def _queues() -> dict[str, Queue]:
    sales = Queue(
        name="sales",
        channel=Channel.VOICE,
        requirement=parse("sales"),
        service_level=ServiceLevel(target=0.8, threshold_s=20),
        sla_by_tier=GOLD,
        offer_timeout_s=60,
    )
    support = Queue(name="support", channel=Channel.VOICE, requirement=parse("support"))
    return {"sales": sales, "support": support}


def drive_day() -> list[ev.Event]:
    """One agent (sales only) through answers in and out of SL, abandons, a RONA.

    Offsets from 10:00:00 — sales: c1 queued 10 answered 15 (wait 5) handle 70;
    c2 20/90 (70) handle 100; c3 abandons after 3 s; c4 after 40 s; c5 gold
    queued 890 (10:14:50) answered 920 (10:15:20, wait 30) handle 80; c6 gold
    1001/1013 (12 > gold's 10) handle 27; c7 1100, rings out at 1160, answered
    1175 (75) handle 35. support (nobody serves it): s1 cancelled, s2 abandons at 50 s.
    """
    router = Router(_queues().values(), rng=random.Random(7))
    out: list[ev.Event] = []

    def at(offset: float, command: str, *args: object, **kwargs: object) -> None:
        out.extend(getattr(router, command)(*args, T0 + offset, **kwargs))

    def arrive(offset: float, cid: str, queue: str, tier: str | None = None) -> None:
        contact = Contact(id=cid, channel=Channel.VOICE, queue=queue, created_at=T0, tier=tier)
        at(offset, "contact_arrived", contact)

    cap = capacity_from({"voice": 1})
    at(0, "add_agent", Agent(id="alice", name="Alice", skills={"sales": 5}, capacity=cap))
    at(0, "login", "alice", ready=True)
    arrive(10, "c1", "sales")
    at(15, "accept", "alice", "c1")
    arrive(20, "c2", "sales")
    arrive(30, "c3", "sales")
    at(33, "end", "c3")
    arrive(40, "c4", "sales")
    at(75, "end", "c1")
    at(80, "end", "c4")
    at(85, "complete", "alice", "c1")
    at(90, "accept", "alice", "c2")
    arrive(100, "s1", "support")
    at(180, "end", "c2")
    at(190, "complete", "alice", "c2")
    at(200, "cancel", "s1")
    arrive(890, "c5", "sales", "gold")
    at(920, "accept", "alice", "c5")
    arrive(950, "s2", "support")
    at(980, "end", "c5")
    at(1000, "complete", "alice", "c5")
    at(1000, "end", "s2")
    arrive(1001, "c6", "sales", "gold")
    at(1013, "accept", "alice", "c6")
    at(1033, "end", "c6")
    at(1040, "complete", "alice", "c6")
    arrive(1100, "c7", "sales")
    at(1160, "tick")
    at(1170, "set_ready", "alice")
    at(1175, "accept", "alice", "c7")
    at(1200, "end", "c7")
    at(1210, "complete", "alice", "c7")
    return out


def _by_key(rows: list[IntervalRow]) -> dict[tuple[float, str], IntervalRow]:
    return {(row.interval_start - T0, row.queue): row for row in rows}


def test_router_day_with_tier_thresholds() -> None:
    rows = interval_report(drive_day(), start=T0, end=T0 + 1800, interval_s=900, queues=_queues())
    assert [(r.interval_start - T0, r.queue) for r in rows] == [
        (0, "sales"),
        (0, "support"),
        (900, "sales"),
        (900, "support"),
    ]
    got = _by_key(rows)
    assert got[0, "sales"] == IntervalRow(
        interval_start=T0,
        interval_s=900,
        queue="sales",
        offered=5,
        answered=3,
        abandoned=2,
        short_abandoned=1,
        answered_within_threshold=1,
        handled=3,
        service_level=0.2,
        service_level_offered=0.2,
        service_level_abandon_aware=0.25,
        asa=35.0,
        aht=250 / 3,
        avg_abandon_wait=21.5,
    )
    support = got[0, "support"]  # s1: queued then cancelled
    assert (support.offered, support.answered, support.abandoned) == (1, 0, 0)
    assert support.service_level is None and support.service_level_offered == 0.0
    late = got[900, "sales"]
    assert (late.offered, late.answered, late.answered_within_threshold) == (2, 2, 0)
    assert (late.service_level, late.asa, late.aht) == (0.0, 43.5, 31.0)
    s2 = got[900, "support"]
    assert (s2.offered, s2.abandoned, s2.short_abandoned, s2.avg_abandon_wait) == (1, 1, 0, 50.0)
    assert (s2.service_level, s2.service_level_abandon_aware) == (0.0, 0.0)


def test_default_threshold_without_queue_config() -> None:
    rows = _by_key(interval_report(drive_day(), start=T0, end=T0 + 1800, interval_s=900))
    # c6 (gold, wait 12) is within the default 20 s once the gold SLA is unknown.
    assert rows[900, "sales"].answered_within_threshold == 1
    assert rows[900, "sales"].service_level == 0.5


def test_contact_counts_where_queued_even_when_answered_after_the_report() -> None:
    rows = interval_report(drive_day(), start=T0, end=T0 + 900, interval_s=900)
    sales = _by_key(rows)[0, "sales"]
    assert (sales.offered, sales.answered, sales.handled) == (5, 3, 3)  # c5 answered at 10:15:20
    assert sales.asa == 35.0


def _q(at: float, cid: str, queue: str = "a", tier: str | None = None) -> ev.ContactQueued:
    return ev.ContactQueued(at=at, contact_id=cid, queue=queue, channel="voice", tier=tier)


def _acc(at: float, cid: str, wait: float, queue: str = "a") -> ev.OfferAccepted:
    return ev.OfferAccepted(
        at=at,
        contact_id=cid,
        agent_id="x",
        queue=queue,
        channel="voice",
        reservation_id="r",
        wait=wait,
    )


def _done(at: float, cid: str, handle: float, queue: str = "a") -> ev.ContactCompleted:
    return ev.ContactCompleted(
        at=at, contact_id=cid, agent_id="x", queue=queue, channel="voice", handle=handle
    )


def test_overflow_offers_to_both_queues_and_answers_in_one() -> None:
    events = [
        _q(10, "c1", "a"),
        ev.ContactOverflowed(
            at=70, contact_id="c1", queue="a", target="b", reason="max_wait", wait=60
        ),
        _q(70, "c1", "b"),
        _acc(80, "c1", wait=70, queue="b"),
        _done(100, "c1", 20, queue="b"),
    ]
    rows = {r.queue: r for r in interval_report(events, start=0, end=900, interval_s=900)}
    assert (rows["a"].offered, rows["a"].answered, rows["a"].abandoned) == (1, 0, 0)
    assert (rows["b"].offered, rows["b"].answered, rows["b"].handled) == (1, 1, 1)
    assert rows["b"].asa == 70.0


def test_transfer_ends_the_first_leg_answered_without_handle() -> None:
    events = [
        _q(10, "c1", "a"),
        _acc(12, "c1", wait=2, queue="a"),
        ev.ContactTransferred(at=50, contact_id="c1", agent_id="x", queue="a", target="b"),
        _q(50, "c1", "b"),
        _acc(55, "c1", wait=5, queue="b"),
        _done(95, "c1", 40, queue="b"),
    ]
    rows = {r.queue: r for r in interval_report(events, start=0, end=900, interval_s=900)}
    assert (rows["a"].answered, rows["a"].handled, rows["a"].aht) == (1, 0, None)
    assert (rows["b"].answered, rows["b"].handled, rows["b"].aht) == (1, 1, 40.0)


def test_contacts_queued_outside_the_range_are_ignored() -> None:
    events = [_q(-5, "early"), _acc(3, "early", wait=8), _q(950, "late"), _acc(951, "late", 1)]
    assert interval_report(events, start=0, end=900, interval_s=900) == []  # no queue seen
    (row,) = interval_report(events, start=0, end=900, interval_s=900, queues=_one("a"))
    assert (row.offered, row.answered) == (0, 0)


def _one(name: str) -> dict[str, Queue]:
    return {name: Queue(name=name, channel=Channel.VOICE)}


def test_reading_stops_once_past_the_end_with_every_contact_closed() -> None:
    def stream() -> Iterator[ev.Event]:
        yield _q(10, "c1")
        yield _acc(950, "c1", wait=940)
        yield _done(990, "c1", 40)
        yield _q(1000, "c2")  # past the end, nothing open: the report must stop here
        raise AssertionError("read past the point where the report was complete")

    (row,) = interval_report(stream(), start=0, end=900, interval_s=900)
    assert (row.offered, row.answered, row.handled, row.asa) == (1, 1, 1, 940.0)


def test_every_interval_has_a_row_per_queue_and_the_last_may_be_short() -> None:
    queues = {name: Queue(name=name, channel=Channel.VOICE) for name in ("b", "a")}
    rows = interval_report([], start=100, end=1100, interval_s=900, queues=queues)
    assert [(r.interval_start, r.interval_s, r.queue) for r in rows] == [
        (100, 900, "a"),
        (100, 900, "b"),
        (1000, 100, "a"),
        (1000, 100, "b"),
    ]
    assert all(r.offered == 0 and r.service_level is None for r in rows)


def test_an_hour_of_quarters_is_four_intervals() -> None:
    rows = interval_report([_q(3599.5, "c")], start=0.1, end=3600.1, interval_s=900, queues=None)
    assert [r.interval_start for r in rows] == [0.1, 900.1, 1800.1, 2700.1]
    assert rows[-1].offered == 1


@pytest.mark.parametrize(("start", "end", "interval"), [(10, 10, 900), (10, 5, 900), (0, 10, 0)])
def test_bad_ranges_are_refused(start: float, end: float, interval: float) -> None:
    with pytest.raises(ValueError):
        interval_report([], start=start, end=end, interval_s=interval)


def test_json_and_csv_use_the_documented_fields() -> None:
    rows = interval_report([_q(10, "c1"), _acc(14, "c1", wait=4)], start=0, end=900, interval_s=900)
    (doc,) = rows_to_json(rows)
    assert list(doc) == list(FIELDS)
    assert doc["interval_start"] == "1970-01-01T00:00:00Z"
    assert doc["interval_start_epoch"] == 0
    assert doc["service_level"] == 1.0 and doc["aht"] is None
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN sneaks in
    header, line = rows_to_csv(rows).splitlines()
    assert header == ",".join(FIELDS)
    assert line == "1970-01-01T00:00:00Z,0.0,900.0,a,1,1,0,0,1,0,1.0,1.0,1.0,4.0,,"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("30m", 1800), ("1h", 3600), ("900s", 900), ("900", 900), (" 1.5H ", 5400)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "0m", "-5m", "15 minutes", "1d", "m", "nan"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid interval"):
        parse_interval(text)


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2024-01-01T10:00:00Z", T0),
        ("2024-01-01T10:00:00", T0),  # naive is UTC
        ("2024-01-01 10:00", T0),
        ("2024-01-01T11:00:00+01:00", T0),
        ("2024-01-01", T0 - 36000),
        ("1704103200", T0),
        ("1704103200.5", T0 + 0.5),
    ],
)
def test_parse_time(text: str, epoch: float) -> None:
    assert parse_time(text) == epoch


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "nan", "inf"])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid time"):
        parse_time(text)
