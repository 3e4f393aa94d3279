"""The event log's rows come from `ringway.persist.EventRows` (compiled with the persister),
one per event class: these pin that fast path in use, and its texts for the value shapes
it writes itself (the rest it hands to the encoder's rules), against ``json.dumps``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ringway import eventlog
from ringway.eventlog import _row
from ringway.persist import EventRows
from router import events as ev
from router.model import Channel


def expected(event: ev.Event) -> tuple[Any, ...]:
    data = event.to_dict()
    for name in ("seq", "at", "kind"):
        del data[name]
    queue = data.get("queue")
    text = json.dumps(data, separators=(",", ":"))
    return (event.seq, event.at, event.kind, queue if isinstance(queue, str) else None, text)


def test_every_plain_kind_is_written_by_the_compiled_builder() -> None:
    for cls in ev.EVENT_TYPES.values():
        names = [f for f in cls.__dataclass_fields__ if f not in ("seq", "at", "kind")]
        if cls.to_dict is not ev.Event.to_dict or not names:
            continue
        eventlog._ROW_WRITERS.pop(cls, None)
        assert isinstance(eventlog._row_writer(cls), EventRows), cls


@pytest.mark.parametrize(
    "wait",
    [0.0023456789, 31.25, 1e-4, 9.999999999999998e15, -2.5, 0.0, 5e-5, 1e16, 1e300],
)
@pytest.mark.parametrize("tier", [None, "gold", 'q"uote\\', "é\u2028", "\x7f\x01"])
def test_an_abandon_is_written_as_json_writes_it(wait: float, tier: str | None) -> None:
    event = ev.ContactAbandoned(
        seq=12,
        at=1_796_686_887.104,
        contact_id="c-595c14697155d90a",
        queue="cps",
        channel=Channel.VOICE,
        wait=wait,
        tier=tier,
    )
    assert _row(event) == expected(event)


@pytest.mark.parametrize("priority", [0, -3, 2**70, True])
def test_a_queued_contact_is_written_as_json_writes_it(priority: int) -> None:
    event = ev.ContactQueued(
        seq=11,
        at=1_796_686_887.0,
        contact_id="c-1",
        queue="cps",
        channel="voice",
        tier="gold",
        priority=priority,
        customer_id="cust-1002",
    )
    row = _row(event)
    assert row == expected(event)
    assert type(row[4]) is str and type(row[3]) is str


def test_a_queue_that_is_not_text_is_no_column() -> None:
    event = ev.ContactQueued(seq=1, at=2.0, contact_id="c", queue=None, channel="voice")  # type: ignore[arg-type]
    assert _row(event) == expected(event)
    assert _row(event)[3] is None
