"""`CustomerStore` on PostgreSQL through an asyncpg pool: the CRM that several nodes share.

Async-native: queries run on the caller's event loop (the service's) with no
thread hop, unlike the SQLite store, whose driver blocks. The price is that an
asyncpg pool belongs to the loop it was made on, so the store binds to the
first loop that uses it (``open``, or the service's lifespan probe) and refuses
calls from any other loop with a RuntimeError that says so, rather than failing
somewhere inside asyncpg.

Semantics match `SQLiteCustomerStore`; the contract suite runs against both:
validation before any write, canonical records, id order (the ``id`` column is
``COLLATE "C"``, so the index order is the code-point order the other stores
sort by), every holder of a shared number, e-mails stored lower-cased and
matched exactly, history newest first by instant with arrival breaking ties,
delete cascading to history, `StoreClosed` after ``close``. Every write is one
statement, so each is atomic without an explicit transaction.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
from dataclasses import fields
from typing import Any

import asyncpg

from crm.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateInteraction,
    StoreClosed,
)
from crm.model import Consent, Customer, Interaction, Tier, instant_key
from crm.phone import normalize_email, normalize_phone
from crm.postgres_schema import migrate
from crm.store import CustomerStore, check_page
from crm.validate import validate_customer, validate_interaction

log = logging.getLogger(__name__)

CLOSE_GRACE_S = 10.0  # in-flight queries get this long to finish before close() cuts them off

_CUSTOMER_COLUMNS = (
    "id, name, phones, emails, tier, account_manager, backup_agent,"
    " language, preferences, consents, segment"
)
_SELECT_CUSTOMERS = f"SELECT {_CUSTOMER_COLUMNS} FROM customers"
_INSERT_CUSTOMER = (
    f"INSERT INTO customers ({_CUSTOMER_COLUMNS})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING"
)
_UPDATE_CUSTOMER = (
    "UPDATE customers SET name = $2, phones = $3, emails = $4, tier = $5, account_manager = $6,"
    " backup_agent = $7, language = $8, preferences = $9, consents = $10, segment = $11"
    " WHERE id = $1"
)
# The interactions table names its columns after the dataclass fields.
_INTERACTION_FIELDS = tuple(f.name for f in fields(Interaction))
_INTERACTION_COLUMNS = ", ".join(_INTERACTION_FIELDS)
_INSERT_INTERACTION = (
    # INSERT ... SELECT: the parameters get no type from the target columns, hence the casts.
    f"INSERT INTO interactions ({_INTERACTION_COLUMNS}, at_us)"
    f" SELECT {', '.join(f'${n}::text' for n in range(1, len(_INTERACTION_FIELDS) + 1))},"
    f" ${len(_INTERACTION_FIELDS) + 1}::bigint"
    " WHERE EXISTS (SELECT 1 FROM customers WHERE id = $2::text)"
    " ON CONFLICT (id) DO NOTHING"
)
_SELECT_HISTORY = (
    f"SELECT {_INTERACTION_COLUMNS} FROM interactions WHERE customer_id = $1"
    " ORDER BY at_us DESC, arrival DESC LIMIT $2"
)


def _customer_from_row(row: asyncpg.Record) -> Customer:
    tier = row["tier"]
    return Customer(
        id=row["id"],
        name=row["name"],
        phones=tuple(row["phones"]),
        emails=tuple(row["emails"]),
        tier=Tier(tier) if tier is not None else None,
        account_manager=row["account_manager"],
        backup_agent=row["backup_agent"],
        language=row["language"],
        preferences=json.loads(row["preferences"]),  # asyncpg hands jsonb over as text
        consents=tuple(Consent.from_dict(c) for c in json.loads(row["consents"])),
        segment=row["segment"],
    )


def _customer_params(c: Customer) -> tuple[Any, ...]:
    return (
        c.id,
        c.name,
        list(c.phones),
        list(c.emails),
        c.tier.value if c.tier is not None else None,
        c.account_manager,
        c.backup_agent,
        c.language,
        json.dumps(c.preferences),
        json.dumps([consent.to_dict() for consent in c.consents]),
        c.segment,
    )


def _row_count(status: str) -> int:
    """Rows a command touched, from its status tag ("INSERT 0 1", "UPDATE 3", "DELETE 0")."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresCustomerStore:
    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        command_timeout_s: float | None = 30.0,
    ) -> None:
        self._dsn = dsn
        self._min_size, self._max_size = min_size, max_size
        self._command_timeout = command_timeout_s
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Task[asyncpg.Pool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @classmethod
    async def open(cls, dsn: str, **options: Any) -> PostgresCustomerStore:
        """Create a store and connect/migrate now, so a bad DSN or schema surfaces here."""
        store = cls(dsn, **options)
        try:
            await store._ready_pool()
        except BaseException:
            await store.close()
            raise
        return store

    # --------------------------------------------------------------- the pool

    def _check_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError(
                "PostgresCustomerStore is bound to the event loop that opened it;"
                " use one store per loop"
            )
        return loop

    async def _ready_pool(self) -> asyncpg.Pool:
        if self._closed:
            raise StoreClosed()
        loop = self._check_loop()
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            # One task, shared: concurrent first calls must not each build a pool.
            self._opening = loop.create_task(self._create_pool(), name="crm-postgres-open")
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        except Exception:
            if self._opening is opening and opening.done():
                self._opening = None  # the next call tries again: the server may be back
            raise

    async def _create_pool(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            command_timeout=self._command_timeout,
        )
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            if self._closed:  # close() came while we were connecting
                raise StoreClosed()
        except BaseException:
            pool.terminate()
            raise
        self._pool = pool
        return pool

    async def _fetch(self, sql: str, *args: Any) -> builtins.list[asyncpg.Record]:
        pool = await self._ready_pool()
        rows: builtins.list[asyncpg.Record] = await pool.fetch(sql, *args)
        return rows

    async def _execute(self, sql: str, *args: Any) -> int:
        pool = await self._ready_pool()
        return _row_count(await pool.execute(sql, *args))

    async def _customers(self, sql: str, *args: Any) -> builtins.list[Customer]:
        return [_customer_from_row(row) for row in await self._fetch(sql, *args)]

    # ------------------------------------------------------------ the protocol

    async def get(self, customer_id: str) -> Customer | None:
        found = await self._customers(f"{_SELECT_CUSTOMERS} WHERE id = $1", customer_id)
        return found[0] if found else None

    async def create(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        if await self._execute(_INSERT_CUSTOMER, *_customer_params(record)) == 0:
            raise DuplicateCustomer(record.id)
        return record

    async def update(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        if await self._execute(_UPDATE_CUSTOMER, *_customer_params(record)) == 0:
            raise CustomerNotFound(record.id)
        return record

    async def delete(self, customer_id: str) -> bool:
        # Interactions go with it through ON DELETE CASCADE.
        return await self._execute("DELETE FROM customers WHERE id = $1", customer_id) > 0

    async def list(self, offset: int = 0, limit: int = 100) -> builtins.list[Customer]:
        check_page(offset, limit)
        sql = f"{_SELECT_CUSTOMERS} ORDER BY id LIMIT $1 OFFSET $2"
        return await self._customers(sql, limit, offset)

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        key = normalize_phone(e164, "ZZ")
        if key is None:
            await self._ready_pool()  # still StoreClosed once closed, like every call
            return []
        sql = f"{_SELECT_CUSTOMERS} WHERE phones @> ARRAY[$1::text] ORDER BY id"
        return await self._customers(sql, key)

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        key = normalize_email(addr)
        if key is None:
            await self._ready_pool()
            return []
        sql = f"{_SELECT_CUSTOMERS} WHERE emails @> ARRAY[$1::text] ORDER BY id"
        return await self._customers(sql, key)

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        record = validate_interaction(interaction)
        values = (*(getattr(record, name) for name in _INTERACTION_FIELDS), instant_key(record.at))
        try:
            inserted = await self._execute(_INSERT_INTERACTION, *values)
        except asyncpg.ForeignKeyViolationError:  # the customer was deleted meanwhile
            raise CustomerNotFound(record.customer_id) from None
        if inserted == 0:
            # Nothing written: say why in the order the SQLite store checks.
            if await self.get(record.customer_id) is None:
                raise CustomerNotFound(record.customer_id)
            raise DuplicateInteraction(record.id)
        return record

    async def history(self, customer_id: str, limit: int = 20) -> builtins.list[Interaction]:
        check_page(0, limit)
        rows = await self._fetch(_SELECT_HISTORY, customer_id, limit)
        return [Interaction(**dict(row.items())) for row in rows]

    async def close(self) -> None:
        if self._closed:
            return
        self._check_loop()  # the pool can only be closed on its own loop
        self._closed = True
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            await asyncio.wait([opening])  # it sees _closed and drops its own pool
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(CLOSE_GRACE_S):
                await pool.close()  # waits for in-flight queries to hand their connections back
        except TimeoutError:  # asyncpg has terminated the pool by now
            log.warning(
                "customer store: queries still running after %.0fs were cut off", CLOSE_GRACE_S
            )


def _conforms(store: PostgresCustomerStore) -> CustomerStore:
    # Never called: makes mypy prove the class satisfies the protocol.
    return store
