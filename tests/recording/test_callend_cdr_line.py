"""cdr.jsonl's line and the record's epoch times, made cheaper, are what they were: the
times are `round(t, 3)` to the bit, and the line is orjson's text with
OPT_NON_STR_KEYS whether or not the record needs the option."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from ringway.telephony_records import _cdr_line, _to_ms


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) and type(a) is type(b)


def _near_halves(rng: random.Random, count: int, top: int) -> list[float]:
    """Doubles at and one or two ulps around k + 0.5 thousandths: where a product
    rounded the other way would show."""
    out: list[float] = []
    for _ in range(count):
        half = (rng.randrange(0, top) + 0.5) / 1000.0
        below = math.nextafter(half, 0.0)
        above = math.nextafter(half, math.inf)
        out += [half, below, above, math.nextafter(below, 0.0), math.nextafter(above, math.inf)]
    return out


def test_milliseconds_are_round_to_three_places_to_the_bit() -> None:
    rng = random.Random(3261)
    values = [rng.uniform(1.7e9, 1.9e9) for _ in range(20_000)]  # epoch seconds
    values += [rng.uniform(0.0, 1e5) for _ in range(20_000)]  # loop seconds
    values += [rng.uniform(-50.0, 50.0) for _ in range(5_000)]
    values += _near_halves(rng, 5_000, 2**41) + _near_halves(rng, 2_000, 10**6)
    values += [
        0.0, -0.0, 5e-324, 1e-300, 0.0004, 0.0005, 0.0015, 0.0025, 2.675, -2.675, 1.0005,
        4503599627.3704995, 4503599627370.5, 4503599627370.4995, 9007199254740.993,
        1e16, 1e300, -1e300, math.inf, -math.inf, math.nan,
    ]  # fmt: skip
    wrong = [t for t in values if not _same(_to_ms(t), round(t, 3))]
    assert wrong == []


def test_the_bounds_are_the_powers_of_two_they_name() -> None:
    from ringway.telephony_records import _ABOVE_HALF, _BELOW_HALF, _TWO_43

    assert (float(2**43), 0.5 - 2.0**-9, 0.5 + 2.0**-9) == (_TWO_43, _BELOW_HALF, _ABOVE_HALF)


def _with_option(record: dict[Any, Any]) -> bytes:
    return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)


@pytest.mark.parametrize(
    "record",
    [
        {"call_id": "c1", "started_at": 1796640166.72, "events": [{"at": 645.925, "x": None}]},
        {"call_id": "c\u00e9\u2603", "media": {"rx": 0}, "hold": {"music": False}, "n": 1e17},
        {"path": Path("/x/y.wav"), "nested": {"deeper": {"k": [1, 2.5, True]}}},
        {"nan": math.nan, "inf": math.inf, "tiny": 1e-7},
        {3: "int key", 2.5: "float key", None: "none key", True: "bool key"},  # needs it
        {"ok": {7: "a nested int key"}},  # needs it, inside
    ],
)
def test_a_line_is_the_text_orjson_wrote_with_the_option(record: dict[Any, Any]) -> None:
    assert _cdr_line(record) == _with_option(record)
