"""The B2BUA's customer lookup, kept for the call's contact.

A call is looked up on its CLI twice: by the B2BUA at INVITE (the IVR greets a known
customer) and by `RoutingService.create_contact` when the IVR queues it (pop, tier,
language). On the router path that second lookup was a SQLite round trip through a
thread and two more number parses per call, for the answer the first one just gave.
`CallerLookups` keeps the first answer per Call-ID for `create_contact` to reuse,
under rules that keep the result the same as a fresh lookup's:

* only definitive answers (matched, multiple, unknown, invalid): a timed-out or
  failed lookup is retried at queue time, as before;
* only while fresh (`max_age_s`, default 10 s): a caller who spends a minute in the
  IVR's menus is looked up again and sees any change to their record;
* at most `capacity` calls (oldest dropped): a call that ends before it queues never
  claims its entry, and a dropped entry only means a second lookup.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from crm.lookup import LookupResult, LookupStatus

REUSABLE = frozenset(
    {LookupStatus.MATCHED, LookupStatus.MULTIPLE, LookupStatus.UNKNOWN, LookupStatus.INVALID}
)
# The others, tested by identity: a set look-up hashes the member, which for an Enum
# (a StrEnum's too) is enum.py's Python `__hash__`, once per call.
_RETRIED = tuple(status for status in LookupStatus if status not in REUSABLE)


class CallerLookups:
    """Definitive lookup results by Call-ID, each claimable once while fresh."""

    def __init__(
        self,
        *,
        max_age_s: float = 10.0,
        capacity: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_s < 0 or capacity < 1:
            raise ValueError("max_age_s must be >= 0 and capacity >= 1")
        self.max_age_s = max_age_s
        self.capacity = capacity
        self.clock = clock
        self._by_call: OrderedDict[str, tuple[str | None, LookupResult, float]] = OrderedDict()

    def keep(self, call_id: str, cli: str | None, result: LookupResult) -> None:
        if result.status in _RETRIED:  # timed out or failed: looked up again at queue time
            return
        self._by_call[call_id] = (cli, result, self.clock())
        self._by_call.move_to_end(call_id)
        while len(self._by_call) > self.capacity:
            self._by_call.popitem(last=False)

    def claim(self, call_id: str, cli: str | None) -> LookupResult | None:
        """The kept result for this call and CLI if still fresh, else None (look up)."""
        kept = self._by_call.pop(call_id, None)
        if kept is None:
            return None
        kept_cli, result, at = kept
        if kept_cli != cli or self.clock() - at > self.max_age_s:
            return None
        return result

    def forget(self, call_id: str) -> None:
        self._by_call.pop(call_id, None)

    def __len__(self) -> int:
        return len(self._by_call)
