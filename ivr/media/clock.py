"""One shared pacing clock for every RTP stream a process plays.

A G.711 stream sends a packet every 20 ms (RFC 3551 §4.5.14). With one loop timer
per packet per stream, a service with N callers on hold arms and fires 50·N timers
a second, and the event loop's timer heap, not the audio, becomes the cost. The
clock instead groups deadlines into slots of `quantum` seconds: one loop timer per
occupied slot fires every callback due in it. Each stream keeps its own schedule
(its `Player` still says when each packet is due; RTP sequence numbers and
timestamps are untouched), and a packet is sent at most one quantum after its
deadline, plus the loop's own lateness. Streams start at arbitrary moments, so with
the default 5 ms quantum the loop sees at most 200 timers a second, however many
streams play.

Why not one fixed 20 ms tick: a stream whose deadline falls just after a tick would
wait almost a whole frame, every frame — lateness uniform over [0, 20) ms, which
leaves no room under the 20 ms jitter budget.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable

QUANTUM_S = 0.005
# uvloop's timers count whole milliseconds, so a loop timer can wake before its
# `call_at` time as `loop.time()` reads it (by up to 0.5 ms, measured here): a slot
# that wakes early waits this long again rather than send a packet before it is due.
EARLY_WAKE_RETRY_S = 0.001


class ClockHandle:
    """One scheduled callback; `cancel()` before it fires and it never runs."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class MediaClock:
    """Coalesces `call_at` deadlines into one loop timer per `quantum` slot."""

    def __init__(self, loop: asyncio.AbstractEventLoop, quantum: float = QUANTUM_S) -> None:
        if not quantum > 0:
            raise ValueError(f"quantum must be positive, got {quantum!r}")
        self.loop = loop
        self.quantum = quantum
        self._slots: dict[int, list[ClockHandle]] = {}
        self.fired = 0  # loop timers fired (slots), for the benchmarks' account

    def call_at(self, when: float, callback: Callable[[], None]) -> ClockHandle:
        """Run `callback` at the first slot boundary at or after `when` (never before it)."""
        slot = math.ceil(when / self.quantum)
        if slot * self.quantum < when:  # float rounding: never early
            slot += 1
        handle = ClockHandle(callback)
        entries = self._slots.get(slot)
        if entries is None:
            self._slots[slot] = [handle]
            self.loop.call_at(slot * self.quantum, self._fire, slot)
        else:
            entries.append(handle)
        return handle

    @property
    def pending(self) -> int:
        """Callbacks scheduled and not yet run (cancelled ones included until their slot)."""
        return sum(len(entries) for entries in self._slots.values())

    def _fire(self, slot: int) -> None:
        if self.loop.time() < slot * self.quantum:  # woke early: never send before due
            self.loop.call_later(EARLY_WAKE_RETRY_S, self._fire, slot)
            return
        self.fired += 1
        for handle in self._slots.pop(slot, ()):
            if handle.cancelled:
                continue
            try:
                handle.callback()
            except Exception as exc:  # one broken stream must not silence the others
                self.loop.call_exception_handler(
                    {"message": "media clock callback failed", "exception": exc}
                )


_CLOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaClock] = (
    weakref.WeakKeyDictionary()
)


def media_clock(loop: asyncio.AbstractEventLoop | None = None) -> MediaClock:
    """The shared clock of `loop` (the running loop by default), made on first use."""
    loop = loop if loop is not None else asyncio.get_running_loop()
    clock = _CLOCKS.get(loop)
    if clock is None:
        clock = _CLOCKS[loop] = MediaClock(loop)
    return clock
