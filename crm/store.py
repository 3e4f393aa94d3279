"""The customer store contract every backend implements.

All methods are coroutines so a backend with real I/O (SQLite on a worker
thread, a remote CRM over HTTP) never blocks the routing event loop. Semantics
shared by every implementation, and pinned by the contract test suite:

* writes validate first (`crm.validate`) and raise `InvalidCustomer` /
  `InvalidInteraction` before changing anything;
* records come back canonical: phones in E.164, e-mails lower-cased;
* ``list`` and the ``find_by_*`` lookups return customers ordered by id;
* ``find_by_phone`` returns *every* customer holding the number (households,
  switchboards): choosing between them is the caller's business;
* ``delete`` also removes the customer's interaction history;
* after ``close`` every call raises `StoreClosed`; ``close`` itself is idempotent.
"""

from __future__ import annotations

import builtins
from typing import Protocol, runtime_checkable

from crm.model import Customer, Interaction


@runtime_checkable
class CustomerStore(Protocol):
    async def get(self, customer_id: str) -> Customer | None:
        """The customer, or ``None`` if there is none with that id."""
        ...

    async def create(self, customer: Customer) -> Customer:
        """Store a new customer; raises `DuplicateCustomer` if the id is taken."""
        ...

    async def update(self, customer: Customer) -> Customer:
        """Replace the whole record; raises `CustomerNotFound` if the id is unknown."""
        ...

    async def delete(self, customer_id: str) -> bool:
        """Remove the customer and its history; ``False`` if there was nothing to remove."""
        ...

    # builtins.list: inside this class body the bare name is the method below.
    async def list(self, offset: int = 0, limit: int = 100) -> builtins.list[Customer]:
        """A page of customers ordered by id; raises ValueError on a negative offset/limit."""
        ...

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        """Every customer holding the number; an unparseable number matches nobody."""
        ...

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        """Every customer holding the address, compared case-insensitively."""
        ...

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        """Record a touch; raises `CustomerNotFound` / `DuplicateInteraction`."""
        ...

    async def history(self, customer_id: str, limit: int = 20) -> builtins.list[Interaction]:
        """The customer's most recent interactions, newest first (empty if unknown)."""
        ...

    async def close(self) -> None:
        """Release resources; later calls raise `StoreClosed`."""
        ...


def check_page(offset: int, limit: int) -> None:
    """Shared argument check so every backend rejects the same pages."""
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must be >= 0, got offset={offset} limit={limit}")


@runtime_checkable
class CachedPhoneLookups(Protocol):
    """A store that can sometimes answer `find_by_phone` from memory (`crm.sqlite`)."""

    def cached_by_phone(self, e164: str) -> builtins.list[Customer] | None:
        """`find_by_phone`'s answer when known without I/O, else ``None``."""
        ...

    def cached_phone_answer(self, e164: str) -> tuple[Customer, ...] | None:
        """`cached_by_phone`'s customers as the store keeps them, not copied: the same
        tuple object for as long as that answer holds, a new one once the store has read
        the number again (so its identity says whether the answer changed). Read only:
        a caller copies what it hands on."""
        ...
