"""Durations and clock times as planners write them.

``90``, ``90s``, ``15m``, ``1.5h`` are durations in seconds; ``08:30`` (where a
clock time is allowed) is a time of day, turned into an offset from the
scenario's start clock (a time before the start means the next day).
"""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(value: float | str) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"`` or ``"2h"``; never negative."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip().lower())
        if match is None:
            raise ValueError(f"{value!r} is not a duration (e.g. 90, 90s, 15m, 2h)")
        seconds = float(match[1]) * _UNIT_S[match[2]]
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
