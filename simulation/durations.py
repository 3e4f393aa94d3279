"""Durations and clock times as planners write them.

``90``, ``90s``, ``15m``, ``1.5h``, ``1h45m`` are durations in seconds; ``08:30`` (where a
clock time is allowed) is a time of day, turned into an offset from the
scenario's start clock (a time before the start means the next day).
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PARTS = re.compile(r"(?:\d+(?:\.\d+)?\s*[hms]\s*)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([hms])")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0}


def duration(value: float | str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1h45m"``; never negative."""
    text = str(value).strip().lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif _NUMBER.fullmatch(text):
        seconds = float(text)
    elif _PARTS.fullmatch(text):
        seconds = sum(float(n) * _UNIT_S[unit] for n, unit in _PART.findall(text))
    else:
        raise ValueError(f"{value!r} is not a duration (e.g. 90, 90s, 15m, 2h, 1h45m)")
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"must be >= 0 seconds, got {value!r}")
    return seconds


def clock(text: str) -> float:
    """Seconds after midnight for ``HH:MM``."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a clock time HH:MM")
    return int(match[1]) * 3600.0 + int(match[2]) * 60.0


def offset(value: float | str, start_clock_s: float) -> float:
    """A duration, or a clock time turned into seconds after ``start_clock_s``."""
    if isinstance(value, str) and ":" in value:
        return (clock(value) - start_clock_s) % 86400.0
    return duration(value)
