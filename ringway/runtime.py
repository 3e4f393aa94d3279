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
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (default 700)
OLDER_THRESHOLDS = (20, 20)


def tune_gc() -> None:
    """Freeze what start-up built and space collections out; call once set up."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
