"""Opening hours per tier: Bronze voice in office hours only (seeds, Unit 5 §5.7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from router_testkit import add_agent, arrive, build, of_kind, offers, queue

from router import events as ev
from router.errors import InvalidConfig
from router.hours import opening_hours
from router.model import ContactStatus

OFFICE = opening_hours(
    "office",
    timezone="Europe/London",
    days="mon-fri",
    opens="08:00",
    closes="18:00",
    holidays=["2026-12-25"],
)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        ("2026-11-23T07:59:59", False),  # Monday, GMT: London = UTC
        ("2026-11-23T08:00:00", True),
        ("2026-11-23T17:59:59", True),
        ("2026-11-23T18:00:00", False),
        ("2026-11-28T12:00:00", False),  # Saturday
        ("2026-12-25T12:00:00", False),  # holiday
        ("2026-07-15T07:30:00", True),  # BST: 08:30 in London
        ("2026-07-15T17:30:00", False),  # BST: 18:30 in London
        ("2026-03-30T07:00:00", True),  # the Monday after clocks go forward: 08:00 BST
    ],
)
def test_office_hours_follow_the_london_calendar(instant: str, open_: bool) -> None:
    assert OFFICE.is_open(at(instant)) is open_


def test_bronze_caller_out_of_hours_is_closed_out_and_nothing_is_queued() -> None:
    router = build([queue("support", hours={"bronze": OFFICE})])
    add_agent(router, "amy", now=at("2026-11-23T19:00:00"))
    events = arrive(router, "c1", "support", at("2026-11-23T19:00:01"), tier="bronze")
    [closed] = of_kind(events, ev.ContactOverflowed)
    assert (closed.reason, closed.target) == ("closed", None)
    contact = router.contact("c1")
    assert contact.status is ContactStatus.OVERFLOWED
    assert "office" in contact.attributes["closed"]
    assert offers(events) == [] and router.waiting("support") == []


def test_gold_caller_out_of_hours_is_still_served() -> None:
    router = build([queue("support", hours={"bronze": OFFICE})])
    add_agent(router, "amy", now=at("2026-11-23T19:00:00"))
    events = arrive(router, "c1", "support", at("2026-11-23T19:00:01"), tier="gold")
    assert offers(events) == [("c1", "amy")]


def test_closed_tier_goes_to_the_after_hours_queue() -> None:
    router = build(
        [queue("support", hours={"*": OFFICE}, after_hours="night"), queue("night", "night")]
    )
    add_agent(router, "owl", {"night": 1}, now=at("2026-11-28T02:00:00"))
    events = arrive(router, "c1", "support", at("2026-11-28T02:00:01"))
    assert [(e.reason, e.target) for e in of_kind(events, ev.ContactOverflowed)] == [
        ("closed", "night")
    ]
    assert offers(events) == [("c1", "owl")]
    assert router.contact("c1").queue == "night"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"days": "mon-funday"}, "use mon..sun"),
        ({"opens": "18:00", "closes": "08:00"}, "is not after opens"),
        ({"opens": "8am"}, "not a time of day"),
        ({"holidays": ["25/12/2026"]}, "holiday"),
    ],
)
def test_bad_hours_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {
        "timezone": "UTC",
        "days": "mon-fri",
        "opens": "08:00",
        "closes": "18:00",
        **kwargs,
    }
    with pytest.raises(InvalidConfig, match=message):
        opening_hours("x", **spec)  # type: ignore[arg-type]


def test_weekend_wrapping_day_range() -> None:
    weekend = opening_hours("w", timezone="UTC", days="fri-mon", opens="00:00", closes="23:59")
    assert weekend.days == frozenset({4, 5, 6, 0})
