"""The event log writes an exact float between 1e-4 and 1e16 with orjson instead of
float's repr (dtoa, ~7,000 instructions for a wait of 17 digits): the text must be
repr's, digit for digit, or the stored ``data`` would change."""

from __future__ import annotations

import json
import random
import struct

import pytest

from ringway import eventlog
from ringway.eventlog import _HIGH, _LOW, _orjson_is_repr, _row, _short_float
from router import events as ev


def samples() -> list[float]:
    rnd = random.Random(20261207)
    out = [_LOW, _HIGH, 0.1, 0.2, 0.30000000000000004, 1 / 3, 2 / 3, 1e15, 9.999999999999998e15]
    out += [_LOW * (1 + k * 2**-52) for k in range(-3, 4)]
    out += [_HIGH * (1 - k * 2**-53) for k in range(1, 6)]
    for _ in range(40_000):  # any bit pattern
        (value,) = struct.unpack("<d", rnd.getrandbits(64).to_bytes(8, "little"))
        out.append(value)
    for _ in range(40_000):  # every magnitude of the range
        out.append(rnd.random() * 10.0 ** rnd.randint(-4, 15))
    for _ in range(40_000):  # waits: one epoch time less another, as the router takes them
        start = 1_765_000_000.0 + rnd.random() * 1e7
        out.append(start + rnd.random() * rnd.choice((0.01, 1.0, 100.0, 10_000.0)) - start)
        out.append(start)
    out += [round(rnd.random() * 1000, rnd.randint(0, 6)) for _ in range(20_000)]
    return out + [-value for value in out]


def test_orjson_writes_repr_s_text_over_the_range() -> None:
    assert _orjson_is_repr()  # the fast path is the one in use here
    checked = 0
    for value in samples():
        if _LOW <= value < _HIGH or -_HIGH < value <= -_LOW:
            assert _short_float(value).decode() == repr(value), value
            checked += 1
    assert checked > 250_000


@pytest.mark.parametrize(
    "wait",
    [0.0, -0.0, 5e-5, 1e-4, 0.0123456789012345, 31.25, 1e16, 1.5e300, float("inf"), float("nan")],
)
def test_a_wait_is_written_as_the_json_encoder_writes_it(wait: float) -> None:
    event = ev.ContactAbandoned(
        seq=3, at=1_765_000_000.5, contact_id="c-1", queue="q", channel="voice", wait=wait
    )
    data = {"contact_id": "c-1", "queue": "q", "channel": "voice", "wait": wait}
    data |= {"agent_id": None, "tier": None}
    expected = json.dumps(data, separators=(",", ":"))
    assert _row(event) == (3, 1_765_000_000.5, "contact_abandoned", "q", expected)


def test_a_different_orjson_layout_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # e.g. an orjson that writes 1e15 as "1e15": every float then goes through repr
    real = eventlog.orjson.dumps

    def dumps(value: object) -> bytes:
        return b"1e15" if value == 1e15 else real(value)

    monkeypatch.setattr(eventlog.orjson, "dumps", dumps)
    assert not _orjson_is_repr()
