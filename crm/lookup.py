"""Who is calling? A time-boxed customer lookup for routing and the screen-pop.

Routing must never wait on the CRM: a lookup that runs past ``timeout_s`` is
abandoned with status ``timeout``, and a store that raises yields status
``error`` (logged). Either way the contact is routed as an unknown caller
instead of stalling in the IVR. A withheld or garbage CLI never reaches the
store at all.

A store that can answer a phone lookup without I/O (`CachedPhoneLookups`, the
SQLite store's cache) is asked that way first: an answer already in memory cannot
run late, so it skips the time box, whose timer and task cost more than the
cached answer (Python 3.11's ``wait_for`` wraps the coroutine in a task).

The result of a cached answer is built once per answer the store keeps and handed
to every lookup of the number while the store keeps that answer (the store's tuple
is the same object exactly as long as the answer holds): every call from a repeat
caller looked up the same record, and copying its customers and building the result
cost more than the rest of the lookup. A `LookupResult` is a frozen value; its
customers are copies of the store's (so the store's cache is never reached through
one), and their ``preferences`` dict, the one mutable part, is read, never written,
by everything a result is handed to (the SIP set-up, the contact's pop and tier).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from mypy_extensions import mypyc_attr

from crm.model import Customer, Tier
from crm.phone import normalize_email, normalize_phone
from crm.store import CachedPhoneLookups, CustomerStore
from router.record import slot_constructor

log = logging.getLogger(__name__)

UNKNOWN_LABEL = "Unknown caller"


class LookupStatus(StrEnum):
    MATCHED = "matched"  # exactly one customer
    MULTIPLE = "multiple"  # several customers share the number/address
    UNKNOWN = "unknown"  # a valid number/address nobody holds
    INVALID = "invalid"  # withheld, anonymous or unparseable: the store was not asked
    TIMEOUT = "timeout"  # the store did not answer within the time box
    ERROR = "error"  # the store raised; see the log


# compiled (scripts/build_native.py), a plain dataclass: built by `slot_constructor`
@mypyc_attr(native_class=False)
@dataclass(frozen=True, kw_only=True, slots=True)
class LookupResult:
    status: LookupStatus
    normalized: str | None = None  # E.164 number or lower-cased address that was looked up
    candidates: tuple[Customer, ...] = ()

    @property
    def customer(self) -> Customer | None:
        """The customer when exactly one matched, else ``None``."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def tier(self) -> Tier | None:
        # Several candidates could hold different tiers: routing on any one of
        # them would be a guess, so a shared number gets no tier treatment.
        customer = self.customer
        return customer.tier if customer is not None else None

    @property
    def label(self) -> str:
        """What the agent desktop shows as the caller's name."""
        return self._label(self.customer)

    def _label(self, customer: Customer | None) -> str:
        if customer is not None:
            return customer.name
        if self.status is LookupStatus.MULTIPLE:
            return f"{len(self.candidates)} possible customers"
        return UNKNOWN_LABEL

    def to_pop(self) -> dict[str, Any]:
        """The screen-pop payload sent to the agent desktop: a dict of its own; for a
        result `CustomerLookup` shares (module docstring), its candidates' records are
        the ones built for that result, shared by its pops: read only."""
        shared = _SHARED_POPS.get(id(self))
        if shared is not None and shared[0] is self:
            return dict(shared[1])
        return self._new_pop()

    def customer_dict(self) -> dict[str, Any] | None:
        """``customer.to_dict()`` of the one customer matched, else None; for a result
        `CustomerLookup` shares, its pop's record of the customer, shared: read only."""
        shared = _SHARED_POPS.get(id(self))
        if shared is not None and shared[0] is self:
            candidates: list[dict[str, Any]] = shared[1]["candidates"]
            return candidates[0] if len(candidates) == 1 else None
        customer = self.customer
        return None if customer is None else customer.to_dict()

    def _new_pop(self) -> dict[str, Any]:
        # the customer found once, not once per property (every queued call builds a pop)
        customer = self.customer
        tier = customer.tier if customer is not None else None
        return {
            # str() of a StrEnum is its value, without the enum's `value` property (Python)
            "status": str(self.status),
            "normalized": self.normalized,
            "label": self._label(customer),
            "customer_id": customer.id if customer is not None else None,
            "tier": str(tier) if tier is not None else None,
            "candidates": [c.to_dict() for c in self.candidates],
        }


class CustomerLookup:
    def __init__(
        self, store: CustomerStore, default_region: str = "US", timeout_s: float = 0.25
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._store = store
        self._region = default_region
        self._timeout_s = timeout_s
        self._cached_answer = (
            store.cached_phone_answer if isinstance(store, CachedPhoneLookups) else None
        )
        # by number: the store's answer and the result made of it (module docstring)
        self._results: dict[str, tuple[tuple[Customer, ...], LookupResult]] = {}

    async def lookup_cli(self, raw_cli: str | None) -> LookupResult:
        """Find the customers holding the caller id a SIP edge handed over."""
        e164 = normalize_phone(raw_cli, self._region)
        known = self._cached(e164)
        if known is not None:
            return known
        return await self._lookup(e164, self._store.find_by_phone, "cli")

    def lookup_cli_now(self, raw_cli: str | None) -> LookupResult | None:
        """`lookup_cli`'s answer when it needs no I/O (a number the store's cache knows,
        or one that is no number at all), else None: then await `lookup_cli`."""
        e164 = normalize_phone(raw_cli, self._region)
        if e164 is None:
            return LookupResult(status=LookupStatus.INVALID)
        return self._cached(e164)

    def _cached(self, e164: str | None) -> LookupResult | None:
        if e164 is None or self._cached_answer is None:
            return None
        try:
            answer = self._cached_answer(e164)
        except Exception:  # the store's own lookup reports it, time-boxed (`_lookup`)
            return None
        if answer is None:
            return None
        known = self._results.get(e164)
        if known is not None and known[0] is answer:
            return known[1]  # the store still keeps the answer this result was made of
        return self._remember(e164, answer)

    def _remember(self, e164: str, answer: tuple[Customer, ...]) -> LookupResult:
        """The result of the store's ``answer``, kept while the store keeps the answer,
        with its pop. The entry holds the answer itself, so its identity cannot pass to
        a new tuple."""
        result = _result(e164, [_own_copy(c) for c in answer])
        results = self._results
        if e164 in results:
            _forget_pop(results[e164][1])  # the record changed: its old pop goes
        elif len(results) >= _RESULTS_KEPT:
            oldest = next(iter(results))  # the oldest number first
            _forget_pop(results.pop(oldest)[1])
        results[e164] = (answer, result)
        _share_pop(result)
        return result

    async def lookup_email(self, raw: str | None) -> LookupResult:
        """Find the customers holding an e-mail sender address (``Name <a@b>`` accepted)."""
        address = normalize_email(raw)
        return await self._lookup(address, self._store.find_by_email, "email")

    async def _lookup(
        self,
        key: str | None,
        find: Callable[[str], Awaitable[list[Customer]]],
        kind: str,
    ) -> LookupResult:
        if key is None:
            return LookupResult(status=LookupStatus.INVALID)
        try:
            found = await asyncio.wait_for(find(key), self._timeout_s)
        except TimeoutError:
            log.warning("crm %s lookup for %s timed out after %.3fs", kind, key, self._timeout_s)
            return LookupResult(status=LookupStatus.TIMEOUT, normalized=key)
        except Exception:
            # Deliberately broad: any store failure must degrade to "unknown caller".
            log.exception("crm %s lookup for %s failed", kind, key)
            return LookupResult(status=LookupStatus.ERROR, normalized=key)
        return _result(key, found)


# Cached results kept, by number: as many as the SQLite store keeps answers.
_RESULTS_KEPT = 4096
# The pops of the results `CustomerLookup` keeps, by the result's id(): each entry holds
# its result, so the id cannot be another object's while the entry is here. Built once
# per record version: a pop (and the set-up's record of the caller, `customer_dict`)
# was ~25,000 instructions of dicts and lists a call, for the same content. Nothing
# writes into a pop or its records (the desktop, the API and the cluster read them),
# and each `to_pop` is a dict of its own: a key set on one pop reaches no other.
# Bounded as the results are, for every `CustomerLookup` of the process together (a
# result whose pop went builds its pops afresh).
_SHARED_POPS: dict[int, tuple[LookupResult, dict[str, Any]]] = {}


def _share_pop(result: LookupResult) -> None:
    if len(_SHARED_POPS) >= _RESULTS_KEPT:
        del _SHARED_POPS[next(iter(_SHARED_POPS))]  # the oldest first
    _SHARED_POPS[id(result)] = (result, result._new_pop())


def _forget_pop(result: LookupResult) -> None:
    _SHARED_POPS.pop(id(result), None)


def _own_copy(customer: Customer) -> Customer:
    """A customer of the store's cache for a result: a dict of its own, so nothing
    reached through a result can change the store's answer."""
    return replace(customer, preferences=dict(customer.preferences))


# status, normalized, candidates: positionally (`slot_constructor`), one per lookup
_make_result = slot_constructor(LookupResult)


def _result(key: str, found: list[Customer]) -> LookupResult:
    if not found:
        return _make_result(LookupStatus.UNKNOWN, key, ())
    status = LookupStatus.MATCHED if len(found) == 1 else LookupStatus.MULTIPLE
    return _make_result(status, key, tuple(found))
