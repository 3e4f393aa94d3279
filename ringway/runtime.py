"""Process-level settings for a latency-sensitive service.

CPython's cyclic garbage collector runs a young-generation pass every 700 net
allocations by default. A routing decision allocates a few dozen objects
(events, a decision record, heap entries), so with defaults a collection ran
every dozen decisions, and full passes over the in-memory history (100,000
finished contacts, 200,000 events) paused routing for up to 330 ms
(benchmarks/routing.py, ``gc_enabled_check``). `ringway serve` therefore
freezes what exists before it starts serving (modules, configuration: never
garbage) and collects the young generation less often. Tests and library users
keep CPython's defaults: this is the process entry point's choice.

``RINGWAY_GC_THRESHOLDS=young,older,oldest`` (three positive integers, as
`gc.set_threshold` takes them) overrides the thresholds below, for measuring
(docs/sip-performance.md) or for a deployment whose heap differs from ours.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

YOUNG_THRESHOLD = 50_000  # allocations between young collections (default 700)
OLDER_THRESHOLDS = (20, 20)
ENV_THRESHOLDS = "RINGWAY_GC_THRESHOLDS"


def gc_thresholds(env: Mapping[str, str]) -> tuple[int, int, int]:
    """The collector's thresholds: ours, or the environment's; ValueError if malformed."""
    text = env.get(ENV_THRESHOLDS, "").strip()
    if not text:
        return (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    parts = text.split(",")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise ValueError(
            f"{ENV_THRESHOLDS}: expected three positive integers like 50000,20,20, got {text!r}"
        )
    return values[0], values[1], values[2]


def tune_gc(thresholds: tuple[int, int, int] | None = None) -> None:
    """Freeze what start-up built and space collections out; call once set up."""
    chosen = thresholds if thresholds is not None else gc_thresholds(os.environ)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*chosen)
