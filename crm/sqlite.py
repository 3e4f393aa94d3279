"""`CustomerStore` on the stdlib ``sqlite3``, kept off the event loop.

All database work runs on one dedicated worker thread that owns the working
connection: sqlite3 connections must not hop threads, a single writer never
contends with itself, and ``":memory:"`` (which exists per connection) works
like a file. The coroutines only hand closures to that thread and await them,
so a slow disk stalls CRM lookups, never routing.

Phone lookups (every call's CLI, docs/sip-performance.md) are answered from a
bounded cache when the database cannot have changed since the answer was read:
a hand-off to the worker thread cost ~100 µs of CPU per call (futures, waking the
thread, the GIL back and forth), a cached answer ~5 µs. Whether it changed is
exact, not a guess by age:

* this store's own writes drop the cache (and any answer still being read when
  they were submitted is not kept: the worker runs jobs in order);
* a file database also has a second, query-only connection that the event loop
  asks ``PRAGMA data_version`` before each cached answer. It changes whenever any
  other connection commits: this store's worker, another process, the ``sqlite3``
  shell. That read only looks at the WAL index in shared memory (~3 µs, no
  disk read); it never waits (busy timeout 0): a busy or failed check falls back
  to the worker thread, as does every cache miss, so the loop never reads a page.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import mmap
import os
import sqlite3
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from mypy_extensions import mypyc_attr

from crm.errors import CustomerNotFound, DuplicateCustomer, DuplicateInteraction, StoreClosed
from crm.model import Consent, Customer, Interaction, Tier, instant_key
from crm.phone import normalize_email, normalize_phone
from crm.sqlite_schema import connect, transaction
from crm.store import CustomerStore, check_page
from crm.validate import validate_customer, validate_interaction
from router.record import slot_constructor

T = TypeVar("T")

_CUSTOMER_COLUMNS = (
    "c.id, c.name, c.phones, c.emails, c.tier, c.account_manager, c.backup_agent,"
    " c.language, c.preferences, c.consents, c.segment"
)
_SELECT_CUSTOMERS = f"SELECT {_CUSTOMER_COLUMNS} FROM customers c"
# The interactions table names its columns after the dataclass fields.
_INTERACTION_FIELDS = tuple(f.name for f in fields(Interaction))
_INTERACTION_COLUMNS = ", ".join(_INTERACTION_FIELDS)


# Cached phone answers (normalised E.164 -> customers): bounded so hostile CLIs cannot
# grow it without limit; the oldest entry goes first.
_PHONE_CACHE_SIZE = 4096
# ":memory:" and "" (a private temporary file) are the connection's own: no other
# connection can open them, so only this store's writes change them.
_PRIVATE_PATHS = frozenset({":memory:", ""})
_DATA_VERSION = "PRAGMA data_version"
# The WAL index's header (https://sqlite.org/walformat.html, "The WAL-Index Header"): the
# first 96 bytes of the ``-shm`` file, two copies of a 48-byte `WalIndexHdr`. Every
# commit in WAL mode rewrites it (``iChange`` is bumped, ``mxFrame`` and the frame
# checksums move; a WAL restart changes the salts), writing the second copy first, and a
# commit is visible to a new reader only once it is written. SQLite itself tells
# another connection's commit by the same 48 bytes (`walTryBeginRead` compares them with
# the header it read last: a change is what bumps ``data_version``). So bytes equal to
# those seen just before the last ``PRAGMA data_version`` mean nothing was committed
# since, and the PRAGMA (~10,000 instructions a call, the read transaction it opens)
# would give the same answer. Copies that differ (a commit being written), another
# layout or an uninitialised index: the PRAGMA, as before.
_SHM_HEADER = 96
_SHM_COPY = 48
_WAL_INDEX_VERSION = (3007000).to_bytes(4, sys.byteorder)
_FIND_BY_PHONE = (
    f"{_SELECT_CUSTOMERS} JOIN customer_phones p ON p.customer_id = c.id"
    " WHERE p.e164 = ? ORDER BY c.id"
)


# Customer's fields, positionally (`slot_constructor`): a copy per cached lookup
_make_customer = slot_constructor(Customer)


def _copy(c: Customer) -> Customer:
    """A cached customer for a caller: Customer is frozen but its preferences dict is
    not, so callers never share it. Built by `slot_constructor` (a third of the keyword
    constructor's cost, which was half of `dataclasses.replace`'s), every field in
    declaration order; tests/crm/test_crm_sqlite_cache.py fails if a field is missed."""
    return _make_customer(
        c.id,
        c.name,
        c.phones,
        c.emails,
        c.tier,
        c.account_manager,
        c.backup_agent,
        c.language,
        dict(c.preferences),
        c.consents,
        c.segment,
    )


def _customer_from_row(row: tuple[Any, ...]) -> Customer:
    (cid, name, phones, emails, tier, manager, backup, language, prefs, consents, segment) = row
    return Customer(
        id=cid,
        name=name,
        phones=tuple(json.loads(phones)),
        emails=tuple(json.loads(emails)),
        tier=Tier(tier) if tier is not None else None,
        account_manager=manager,
        backup_agent=backup,
        language=language,
        preferences=json.loads(prefs),
        consents=tuple(Consent.from_dict(c) for c in json.loads(consents)),
        segment=segment,
    )


def _customer_params(c: Customer) -> tuple[Any, ...]:
    return (
        c.name,
        json.dumps(list(c.phones)),
        json.dumps(list(c.emails)),
        c.tier.value if c.tier is not None else None,
        c.account_manager,
        c.backup_agent,
        c.language,
        json.dumps(c.preferences),
        json.dumps([consent.to_dict() for consent in c.consents]),
        c.segment,
        c.id,
    )


def _exists(conn: sqlite3.Connection, table: str, key: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (key,)).fetchone() is not None


def _write_indexes(conn: sqlite3.Connection, c: Customer) -> None:
    conn.execute("DELETE FROM customer_phones WHERE customer_id = ?", (c.id,))
    conn.execute("DELETE FROM customer_emails WHERE customer_id = ?", (c.id,))
    conn.executemany(
        "INSERT INTO customer_phones (e164, customer_id) VALUES (?, ?)",
        [(p, c.id) for p in c.phones],
    )
    conn.executemany(
        "INSERT INTO customer_emails (address, customer_id) VALUES (?, ?)",
        [(e, c.id) for e in c.emails],
    )


def _insert_customer(conn: sqlite3.Connection, c: Customer) -> None:
    with transaction(conn):
        if _exists(conn, "customers", c.id):
            raise DuplicateCustomer(c.id)
        conn.execute(
            "INSERT INTO customers (name, phones, emails, tier, account_manager, backup_agent,"
            " language, preferences, consents, segment, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _customer_params(c),
        )
        _write_indexes(conn, c)


def _update_customer(conn: sqlite3.Connection, c: Customer) -> None:
    with transaction(conn):
        if not _exists(conn, "customers", c.id):
            raise CustomerNotFound(c.id)
        conn.execute(
            "UPDATE customers SET name = ?, phones = ?, emails = ?, tier = ?,"
            " account_manager = ?, backup_agent = ?, language = ?, preferences = ?,"
            " consents = ?, segment = ? WHERE id = ?",
            _customer_params(c),
        )
        _write_indexes(conn, c)


def _insert_interaction(conn: sqlite3.Connection, i: Interaction) -> None:
    with transaction(conn):
        if not _exists(conn, "customers", i.customer_id):
            raise CustomerNotFound(i.customer_id)
        if _exists(conn, "interactions", i.id):
            raise DuplicateInteraction(i.id)
        conn.execute(
            f"INSERT INTO interactions ({_INTERACTION_COLUMNS}, at_us)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*_interaction_values(i), instant_key(i.at)),
        )


def _interaction_values(i: Interaction) -> tuple[Any, ...]:
    return tuple(getattr(i, name) for name in _INTERACTION_FIELDS)


def _select_customers(conn: sqlite3.Connection, sql: str, *params: Any) -> list[Customer]:
    return [_customer_from_row(row) for row in conn.execute(sql, params).fetchall()]


def _select_history(conn: sqlite3.Connection, customer_id: str, limit: int) -> list[Interaction]:
    rows = conn.execute(
        f"SELECT {_INTERACTION_COLUMNS} FROM interactions WHERE customer_id = ?"
        " ORDER BY at_us DESC, rowid DESC LIMIT ?",  # rowid: arrival order breaks ties
        (customer_id, limit),
    ).fetchall()
    return [Interaction(**dict(zip(_INTERACTION_FIELDS, row, strict=True))) for row in rows]


def _delete_customer(conn: sqlite3.Connection, customer_id: str) -> bool:
    # Phones, e-mails and interactions go with it through ON DELETE CASCADE.
    with transaction(conn):
        return conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,)).rowcount > 0


# Compiled, a native class: its attributes are struct fields, where a plain class's
# were generic look-ups, slower compiled than 3.11's specialised interpreted ones (the
# cached phone answer, once a call). Its tests reach it through real seams (its
# executor, a subclass), never by swapping a method on an instance.
@mypyc_attr(allow_interpreted_subclasses=True)
class SQLiteCustomerStore:
    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-sqlite")
        self._conn: sqlite3.Connection | None = None  # opened lazily, on the worker thread
        self._closed = False
        # The phone cache (module docstring): answers, the generation they belong to
        # (bumped whenever they are dropped), and how the loop tells they still hold.
        self._by_phone: dict[str, tuple[Customer, ...]] = {}
        self._generation = 0
        self._private = self._path in _PRIVATE_PATHS
        self._reader: sqlite3.Connection | None = None  # the loop's data_version check
        # The reader's one cursor, kept: `Connection.execute` makes a cursor per call,
        # which the connection also registers (a weak reference, swept now and then):
        # about half of what the check cost. Used on the loop only (made on the worker).
        self._versions: sqlite3.Cursor | None = None
        self._data_version: int | None = None
        # The WAL index's header, mapped read-only (made on the worker, read on the loop),
        # and its bytes as seen before the last data_version check (b"": none usable).
        self._shm: mmap.mmap | None = None
        self._shm_seen = b""

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteCustomerStore:
        """Create a store and open/migrate the database now, so errors surface here."""
        store = cls(path)
        try:
            await store._run(lambda conn: None)
        except BaseException:
            await store.close()
            raise
        return store

    async def _run(self, job: Callable[[sqlite3.Connection], T], *, reads_only: bool = False) -> T:
        if self._closed:
            raise StoreClosed()
        if not reads_only:  # it may change what a cached answer says
            self._forget_phones()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._on_worker, job)

    def _on_worker(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = connect(self._path)
            if not self._private:
                self._reader = _open_reader(self._path)
                self._shm = _map_wal_index(self._reader, os.path.realpath(self._path))
                self._versions = self._reader.cursor()
        return job(self._conn)

    # -- the phone cache (module docstring) ------------------------------------------

    def _forget_phones(self) -> None:
        self._by_phone.clear()
        self._generation += 1

    def _phones_current(self) -> bool:
        """Whether the cached phone answers still hold (dropping them if another
        connection committed); False: the answer must come from the worker."""
        if self._private:
            return True  # only this store writes it, and its writes drop the cache
        versions = self._versions
        if versions is None:
            return False  # not opened yet
        header = b""
        shm = self._shm
        if shm is not None:
            try:
                header = shm[:_SHM_HEADER]
            except ValueError:  # closed (the store is closing): the PRAGMA says so
                header = b""
            if header == self._shm_seen:
                return True  # nothing committed since the last check (`_SHM_HEADER`)
        try:
            version: int = versions.execute(_DATA_VERSION).fetchone()[0]
        except sqlite3.Error:  # busy (timeout 0) or worse: ask the worker, which reports it
            return False
        if version != self._data_version:
            self._forget_phones()
            self._data_version = version
        # read before the PRAGMA: a commit in between changes it, and the next check reads
        self._shm_seen = header if _settled(header) else b""
        return True

    def cached_by_phone(self, e164: str) -> builtins.list[Customer] | None:
        """What `find_by_phone` would answer, when known without a database read;
        None: ask `find_by_phone`. Synchronous, so a caller can skip the time box."""
        answer = self.cached_phone_answer(e164)
        return None if answer is None else [_copy(c) for c in answer]

    def cached_phone_answer(self, e164: str) -> tuple[Customer, ...] | None:
        """`cached_by_phone` without the copies: the cache's own tuple, which is never
        changed, only replaced (`_keep_phone` makes a new one per read), so while it is
        the same object the answer is the same (`crm.lookup` keeps its result by it)."""
        if self._closed:
            return None  # find_by_phone says StoreClosed
        key = normalize_phone(e164, "ZZ")
        if key is None:
            return ()
        return self._by_phone.get(key) if self._phones_current() else None

    def _cached_phone(self, key: str) -> builtins.list[Customer] | None:
        found = self._by_phone.get(key)
        return None if found is None else [_copy(c) for c in found]

    def _keep_phone(self, key: str, found: builtins.list[Customer], generation: int) -> None:
        if generation != self._generation:
            return  # dropped (a write, another connection's commit) while it was read
        if len(self._by_phone) >= _PHONE_CACHE_SIZE:
            del self._by_phone[next(iter(self._by_phone))]
        self._by_phone[key] = tuple(_copy(c) for c in found)

    async def get(self, customer_id: str) -> Customer | None:
        found = await self._run(
            lambda conn: _select_customers(
                conn, f"{_SELECT_CUSTOMERS} WHERE c.id = ?", customer_id
            ),
            reads_only=True,
        )
        return found[0] if found else None

    async def create(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        await self._run(lambda conn: _insert_customer(conn, record))
        return record

    async def update(self, customer: Customer) -> Customer:
        record = validate_customer(customer)
        await self._run(lambda conn: _update_customer(conn, record))
        return record

    async def delete(self, customer_id: str) -> bool:
        return await self._run(lambda conn: _delete_customer(conn, customer_id))

    async def list(self, offset: int = 0, limit: int = 100) -> builtins.list[Customer]:
        check_page(offset, limit)
        sql = f"{_SELECT_CUSTOMERS} ORDER BY c.id LIMIT ? OFFSET ?"
        return await self._run(
            lambda conn: _select_customers(conn, sql, limit, offset), reads_only=True
        )

    async def find_by_phone(self, e164: str) -> builtins.list[Customer]:
        if self._closed:  # before the reader is touched: the worker may be closing it
            raise StoreClosed()
        key = normalize_phone(e164, "ZZ")
        if key is None:
            return []
        current = self._phones_current()
        if current:
            cached = self._cached_phone(key)
            if cached is not None:
                return cached
        # Kept only if nothing dropped the cache between this check and the answer.
        generation = self._generation
        found = await self._run(
            lambda conn: _select_customers(conn, _FIND_BY_PHONE, key), reads_only=True
        )
        if current:
            self._keep_phone(key, found, generation)
        return found

    async def find_by_email(self, addr: str) -> builtins.list[Customer]:
        key = normalize_email(addr)
        if key is None:
            return []
        sql = (
            f"{_SELECT_CUSTOMERS} JOIN customer_emails e ON e.customer_id = c.id"
            " WHERE e.address = ? ORDER BY c.id"
        )
        return await self._run(lambda conn: _select_customers(conn, sql, key), reads_only=True)

    async def add_interaction(self, interaction: Interaction) -> Interaction:
        record = validate_interaction(interaction)
        await self._run(lambda conn: _insert_interaction(conn, record))
        return record

    async def history(self, customer_id: str, limit: int = 20) -> builtins.list[Interaction]:
        check_page(0, limit)
        return await self._run(
            lambda conn: _select_history(conn, customer_id, limit), reads_only=True
        )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._forget_phones()
        loop = asyncio.get_running_loop()
        try:
            # Queued behind any jobs still in flight, so they finish on an open connection.
            await loop.run_in_executor(self._executor, self._close_on_worker)
        finally:
            self._executor.shutdown(wait=False)

    def _close_on_worker(self) -> None:
        # The reader first: the last connection to close checkpoints the WAL and removes it.
        if self._reader is not None:
            self._versions = None
            shm, self._shm = self._shm, None
            self._shm_seen = b""
            if shm is not None:
                shm.close()
            self._reader.close()
            self._reader = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _open_reader(path: str) -> sqlite3.Connection:
    """The event loop's connection: it only asks ``PRAGMA data_version``, never waits
    for a lock (timeout 0) and cannot write (``query_only``)."""
    reader = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    reader.execute("PRAGMA query_only = ON")
    return reader


def _map_wal_index(reader: sqlite3.Connection, path: str) -> mmap.mmap | None:
    """The reader's WAL index (``<path>-shm``, ``path`` resolved as SQLite resolves a
    symlinked database's name) mapped read-only, when the database is in
    WAL mode; else None (every check asks ``PRAGMA data_version``).

    Called after the worker's connection has put the file in WAL mode, and kept while the
    reader is open: SQLite only truncates the index when a connection opens it with no
    other connection holding it (`unixLockSharedMemory`), which cannot happen while this
    process holds it, and leaving WAL mode needs an exclusive lock no connection gets
    while another one has the database open."""
    try:
        mode = reader.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            return None
        reader.execute(_DATA_VERSION).fetchone()  # a read: the reader joins the index
        with open(f"{path}-shm", "rb") as file:
            return mmap.mmap(file.fileno(), _SHM_HEADER, access=mmap.ACCESS_READ)
    except (OSError, ValueError, sqlite3.Error):
        return None


def _settled(header: bytes) -> bool:
    """Whether ``header`` is a WAL index header fit to compare: both copies alike (no
    commit half-written), the layout known, initialised."""
    return (
        len(header) == _SHM_HEADER
        and header[:_SHM_COPY] == header[_SHM_COPY:]
        and header[:4] == _WAL_INDEX_VERSION
        and header[12] == 1
    )


def _conforms(store: SQLiteCustomerStore) -> CustomerStore:
    # Never called: makes mypy prove the class satisfies the protocol.
    return store
