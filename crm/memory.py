"""A dict-backed `CustomerStore`: the test double for other packages and the SQLite twin.

It follows the same contract as `SQLiteCustomerStore` (the contract suite runs
against both), including validation, id ordering and copy-out semantics, so a
test that passes against it means the same against the real store.
"""

from __future__ import annotations

import builtins
from dataclasses import replace

from crm.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateInteraction,
    StoreClosed,
)
from crm.model import Customer, Interaction, instant_key
from crm.phone import normalize_email, normalize_phone
from crm.store import CustomerStore, check_page
from crm.validate import validate_customer, validate_interaction


def _copy(customer: Customer) -> Customer:
    # Customer is frozen but its preferences dict is not: never share it with callers.
    return replace(customer, preferences=dict(customer.preferences))


class MemoryCustomerStore:
    def __init__(self) -> None:
        self._customers: dict[str, Customer] = {}
        self._by_phone: dict[str, set[str]] = {}
        self._by_email: dict[str, set[str]] = {}
        # Per customer: (time key, arrival seq, interaction); seq breaks ties like SQLite's rowid.
        self._history: dict[str, builtins.list[tuple[int, int, Interaction]]] = {}
        self._interaction_ids: set[str] = set()
        self._seq = 0
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed()

    def _index(self, customer: Customer) -> None:
        for phone in customer.phones:
            self._by_phone.setdefault(phone, set()).add(customer.id)
        for email in customer.emails:
            self._by_email.setdefault(email, set()).add(customer.id)

    def _unindex(self, customer: Customer) -> None:
        for phone in customer.phones:
            self._by_phone.get(phone, set()).discard(customer.id)
        for email in customer.emails:
            self._by_email.get(email, set()).discard(customer.id)

    def _select(self, ids: set[str]) -> builtins.list[Customer]:
        return [_copy(self._customers[i]) for i in sorted(ids)]

    async def get(self, customer_id: str) -> Customer | None:
        self._check_open()
        found = self._customers.get(customer_id)
        return _copy(found) if found is not None else None

    async def create(self, customer: Customer) -> Customer:
        self._check_open()
        record = validate_customer(customer)
        if record.id in self._customers:
            raise DuplicateCustomer(record.id)
        self._customers[record.id] = record
        self._index(record)
        return _copy(record)

    async def update(self, customer: Customer) -> Customer:
        self._check_open()
        record = validate_customer(customer)
        old = self._customers.get(record.id)
        if old is None:
            raise CustomerNotFound(record.id)
        self._unindex(old)
        self._customers[record.id] = record
        self._index(record)
        return _copy(record)

    async def delete(self, customer_id: str) -> bool:
        self._check_open()
        old = self._customers.pop(customer_id, None)
        if old is None:
            return False
        self._unindex(old)
        for _, _, interaction in self._history.pop(customer_id, []):
            self._interaction_ids.discard(interaction.id)
        return True

    async def list(self, offset: int = 0, limit: int = 100) -> builtins.list[Customer]:
        self._check_open()
        check_page(offset, limit)
        ids = sorted(self._customers)[offset : offset + limit]
        return [_copy(self._customers[i]) for i in ids]

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        self._check_open()
        key = normalize_phone(e164, "ZZ")
        return self._select(self._by_phone.get(key, set()) if key else set())

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        self._check_open()
        key = normalize_email(addr)
        return self._select(self._by_email.get(key, set()) if key else set())

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        self._check_open()
        record = validate_interaction(interaction)
        if record.customer_id not in self._customers:
            raise CustomerNotFound(record.customer_id)
        if record.id in self._interaction_ids:
            raise DuplicateInteraction(record.id)
        self._seq += 1
        entry = (instant_key(record.at), self._seq, record)
        self._history.setdefault(record.customer_id, []).append(entry)
        self._interaction_ids.add(record.id)
        return record

    async def history(self, customer_id: str, limit: int = 20) -> builtins.list[Interaction]:
        self._check_open()
        check_page(0, limit)
        entries = sorted(self._history.get(customer_id, []), key=lambda e: (e[0], e[1]))
        return [interaction for _, _, interaction in reversed(entries)][:limit]

    async def close(self) -> None:
        self._closed = True


def _conforms(store: MemoryCustomerStore) -> CustomerStore:
    # Never called: makes mypy prove the class satisfies the protocol.
    return store
