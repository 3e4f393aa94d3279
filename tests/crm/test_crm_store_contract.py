"""The `CustomerStore` contract, run against every implementation.

pytest-asyncio is not installed, so each test drives its store through one
``asyncio.Runner``: one event loop per test, as the service has one loop. The
PostgreSQL store needs that (its asyncpg pool belongs to the loop that opened
it); that the SQLite store also survives a new loop per call is pinned in
test_crm_sqlite.py, which uses ``asyncio.run`` per call.

PostgreSQL is a real server (`ringway.pgsupport.ensure_postgres` finds one, or
on Debian as root installs and starts it), with a fresh database per test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest

from crm.errors import (
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateInteraction,
    InvalidCustomer,
    InvalidInteraction,
    StoreClosed,
)
from crm.memory import MemoryCustomerStore
from crm.model import Customer, Interaction, Tier
from crm.postgres import PostgresCustomerStore
from crm.sqlite import SQLiteCustomerStore
from crm.store import CustomerStore
from ringway.pgsupport import ensure_postgres, temporary_database

T = TypeVar("T")
HOME = "+442079460321"
_runner: asyncio.Runner | None = None  # the running test's loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    assert _runner is not None, "run() outside a test"
    return _runner.run(coro)


@pytest.fixture
def loop() -> Iterator[None]:
    global _runner
    with asyncio.Runner() as runner:
        _runner = runner
        try:
            yield
        finally:
            _runner = None


@pytest.fixture(scope="module")
def pg_admin() -> str:
    return ensure_postgres()


@pytest.fixture
def pg_database(pg_admin: str) -> Iterator[str]:
    with temporary_database(pg_admin, "crm_contract") as dsn:
        yield dsn


def _open(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> CustomerStore:
    if kind == "memory":
        return MemoryCustomerStore()
    if kind == "postgres":  # asked for here, so only PostgreSQL runs need the server
        return run(PostgresCustomerStore.open(request.getfixturevalue("pg_database")))
    path = ":memory:" if kind == "sqlite-memory" else tmp_path / "crm.db"
    return run(SQLiteCustomerStore.open(path))


@pytest.fixture(params=["memory", "sqlite-memory", "sqlite-file", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, loop: None) -> Iterator[CustomerStore]:
    opened = _open(request.param, tmp_path, request)
    yield opened
    run(opened.close())


def customer(cid: str, **changes: Any) -> Customer:
    base = Customer(id=cid, name=f"Customer {cid}", phones=("+447700900001",), tier=Tier.SILVER)
    return replace(base, **changes)


def interaction(iid: str, at: str, cid: str = "c1", **changes: Any) -> Interaction:
    base = Interaction(id=iid, customer_id=cid, at=at, channel="voice", direction="inbound")
    return replace(base, **changes)


def test_implements_protocol(store: CustomerStore) -> None:
    assert isinstance(store, CustomerStore)


def test_create_then_get(store: CustomerStore) -> None:
    created = run(store.create(customer("c1", preferences={"channel": "chat"})))
    assert run(store.get("c1")) == created
    assert created.preferences == {"channel": "chat"}
    assert run(store.get("nobody")) is None


def test_create_returns_canonical_record(store: CustomerStore) -> None:
    raw = customer("c1", phones=("+44 20 7946 0958", "+442079460958"), emails=("A@B.example",))
    created = run(store.create(raw))
    assert created.phones == ("+442079460958",)
    assert created.emails == ("a@b.example",)
    assert run(store.get("c1")) == created


def test_duplicate_id_is_rejected_and_original_kept(store: CustomerStore) -> None:
    original = run(store.create(customer("c1", name="First")))
    with pytest.raises(DuplicateCustomer, match="c1"):
        run(store.create(customer("c1", name="Second")))
    assert run(store.get("c1")) == original


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (customer("", name="no id"), "id"),
        (customer("c1", phones=("020 7946 0958",)), "phones"),
        (customer("c1", emails=("nope",)), "emails"),
    ],
)
def test_invalid_customer_is_rejected_and_not_stored(
    store: CustomerStore, bad: Customer, field: str
) -> None:
    with pytest.raises(InvalidCustomer) as caught:
        run(store.create(bad))
    assert caught.value.field == field
    assert run(store.list()) == []


def test_update_replaces_record_and_reindexes(store: CustomerStore) -> None:
    run(store.create(customer("c1", phones=("+447700900001",), emails=("old@example.com",))))
    updated = customer("c1", phones=("+447700900002",), emails=("new@example.com",), tier=None)
    assert run(store.update(updated)) == updated
    assert run(store.get("c1")) == updated
    assert run(store.find_by_phone("+447700900001")) == []
    assert run(store.find_by_email("old@example.com")) == []
    assert [c.id for c in run(store.find_by_phone("+447700900002"))] == ["c1"]
    assert [c.id for c in run(store.find_by_email("new@example.com"))] == ["c1"]


def test_update_missing_raises_not_found(store: CustomerStore) -> None:
    with pytest.raises(CustomerNotFound, match="ghost"):
        run(store.update(customer("ghost")))
    assert run(store.get("ghost")) is None


def test_update_validates(store: CustomerStore) -> None:
    original = run(store.create(customer("c1")))
    with pytest.raises(InvalidCustomer):
        run(store.update(customer("c1", phones=("withheld",))))
    assert run(store.get("c1")) == original


def test_delete_removes_customer_indexes_and_history(store: CustomerStore) -> None:
    run(store.create(customer("c1", emails=("c1@example.com",))))
    run(store.add_interaction(interaction("i1", "2024-05-01T10:00:00Z")))
    assert run(store.delete("c1")) is True
    assert run(store.delete("c1")) is False
    assert run(store.get("c1")) is None
    assert run(store.find_by_phone("+447700900001")) == []
    assert run(store.find_by_email("c1@example.com")) == []
    assert run(store.history("c1")) == []
    # The interaction id is free again once its customer is gone.
    run(store.create(customer("c1")))
    run(store.add_interaction(interaction("i1", "2024-05-02T10:00:00Z")))
    assert [i.id for i in run(store.history("c1"))] == ["i1"]


def test_list_pages_in_id_order(store: CustomerStore) -> None:
    for cid in ["c3", "c1", "c4", "c2"]:
        run(store.create(customer(cid)))
    assert [c.id for c in run(store.list())] == ["c1", "c2", "c3", "c4"]
    assert [c.id for c in run(store.list(offset=1, limit=2))] == ["c2", "c3"]
    assert run(store.list(offset=10)) == []
    with pytest.raises(ValueError):
        run(store.list(offset=-1))


def test_shared_number_returns_every_holder(store: CustomerStore) -> None:
    run(store.create(customer("priya", phones=(HOME, "+447700900789"))))
    run(store.create(customer("arjun", phones=(HOME,))))
    run(store.create(customer("other", phones=("+447700900999",))))
    assert [c.id for c in run(store.find_by_phone(HOME))] == ["arjun", "priya"]
    assert [c.id for c in run(store.find_by_phone("+447700900789"))] == ["priya"]
    assert [c.id for c in run(store.find_by_phone("+44 20 7946 0321"))] == ["arjun", "priya"]
    assert run(store.find_by_phone("+12025550100")) == []
    assert run(store.find_by_phone("anonymous")) == []


def test_email_lookup_is_case_insensitive(store: CustomerStore) -> None:
    run(store.create(customer("c1", emails=("Ann.Lee@Example.com",))))
    assert [c.id for c in run(store.find_by_email("ann.lee@example.com"))] == ["c1"]
    assert [c.id for c in run(store.find_by_email("ANN.LEE@EXAMPLE.COM"))] == ["c1"]
    assert [c.id for c in run(store.find_by_email("Ann <ann.lee@example.com>"))] == ["c1"]
    assert run(store.find_by_email("someone@example.com")) == []
    assert run(store.find_by_email("garbage")) == []


def test_history_is_newest_first_with_limit(store: CustomerStore) -> None:
    run(store.create(customer("c1")))
    run(store.create(customer("c2")))
    run(store.add_interaction(interaction("i-mid", "2024-05-01T12:00:00+00:00")))
    run(store.add_interaction(interaction("i-old", "2024-05-01T09:00:00+00:00")))
    # 13:30+02:00 is 11:30Z: older than i-mid although it sorts after it as text.
    run(store.add_interaction(interaction("i-offset", "2024-05-01T13:30:00+02:00")))
    run(store.add_interaction(interaction("i-new", "2024-05-02T08:00:00Z", agent_id="alice")))
    run(store.add_interaction(interaction("other", "2024-06-01T00:00:00Z", cid="c2")))
    history = run(store.history("c1"))
    assert [i.id for i in history] == ["i-new", "i-mid", "i-offset", "i-old"]
    assert history[0].agent_id == "alice"
    assert history[0].at == "2024-05-02T08:00:00Z"  # stored as given, not rewritten
    assert [i.id for i in run(store.history("c1", limit=2))] == ["i-new", "i-mid"]
    assert run(store.history("nobody")) == []


def test_history_ties_keep_arrival_order(store: CustomerStore) -> None:
    run(store.create(customer("c1")))
    for iid in ["first", "second", "third"]:
        run(store.add_interaction(interaction(iid, "2024-05-01T10:00:00Z")))
    assert [i.id for i in run(store.history("c1"))] == ["third", "second", "first"]


def test_add_interaction_errors(store: CustomerStore) -> None:
    with pytest.raises(CustomerNotFound):
        run(store.add_interaction(interaction("i1", "2024-05-01T10:00:00Z", cid="ghost")))
    run(store.create(customer("c1")))
    run(store.add_interaction(interaction("i1", "2024-05-01T10:00:00Z")))
    with pytest.raises(DuplicateInteraction):
        run(store.add_interaction(interaction("i1", "2024-05-01T11:00:00Z")))
    with pytest.raises(InvalidInteraction):
        run(store.add_interaction(interaction("i2", "2024-05-01T11:00:00Z", direction="up")))
    assert [i.id for i in run(store.history("c1"))] == ["i1"]


def test_returned_records_are_copies(store: CustomerStore) -> None:
    created = run(store.create(customer("c1", preferences={"channel": "voice"})))
    created.preferences["channel"] = "tampered"
    fetched = run(store.get("c1"))
    assert fetched is not None
    fetched.preferences["channel"] = "tampered too"
    assert run(store.get("c1")) == customer("c1", preferences={"channel": "voice"})


def test_concurrent_writes_all_land(store: CustomerStore) -> None:
    async def create_many() -> None:
        await asyncio.gather(*(store.create(customer(f"c{n:02d}")) for n in range(20)))

    run(create_many())
    assert len(run(store.list())) == 20
    assert len(run(store.find_by_phone("+447700900001"))) == 20


def test_closed_store_refuses_calls_and_close_is_idempotent(store: CustomerStore) -> None:
    run(store.create(customer("c1")))
    run(store.close())
    run(store.close())
    with pytest.raises(StoreClosed):
        run(store.get("c1"))
    with pytest.raises(StoreClosed):
        run(store.create(customer("c2")))
