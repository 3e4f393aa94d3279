"""Token buckets: how often an anonymous client may act.

Pure: every call takes ``now``. A bucket holds up to ``burst`` tokens and refills
at ``rate`` tokens per second; an action costs one token. `take` answers 0 when
the action may go ahead, else how many seconds until it could.
"""

from __future__ import annotations

from collections import OrderedDict


class TokenBucket:
    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate}, {burst}")
        self.rate, self.burst = rate, burst
        self._tokens = float(burst)
        self._at = now

    def take(self, now: float) -> float:
        """Spend a token: 0.0 if there was one, else the wait (seconds) for the next."""
        elapsed = max(0.0, now - self._at)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._at = max(self._at, now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class KeyedLimiter:
    """One bucket per key (a client address), the least recently used forgotten past ``keys``."""

    def __init__(self, rate: float, burst: int, keys: int = 10_000) -> None:
        self.rate, self.burst, self.keys = rate, burst, keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, now)
            while len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)
