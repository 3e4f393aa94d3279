"""`ringway.pgsupport`: URL helpers, scratch databases, and bringing up a server that is down.

The "fresh machine" path is exercised for real where it can be (root on
Debian): a new, stopped cluster on a free port, which `ensure_postgres` must
start and give a role for the OS user, exactly as on a machine where the
``postgresql`` package was just installed. The package install itself is the
one step not replayed here (it is already installed).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import subprocess
from collections.abc import Iterator

import asyncpg
import pytest
from peer_kit import free_port

from ringway.pgsupport import (
    DEBIAN_SOCKET_DIR,
    PostgresUnavailable,
    Target,
    ensure_postgres,
    is_postgres_url,
    parse_target,
    probe,
    redact,
    scratch_name,
    temporary_database,
    with_database,
)


def test_urls() -> None:
    assert is_postgres_url("postgresql://x@h/db") and not is_postgres_url("var/events.sqlite3")
    assert (
        redact("postgresql://ringway:s3cr3t@db:5432/crm") == "postgresql://ringway:***@db:5432/crm"
    )
    assert redact("postgresql://ringway@db/crm") == "postgresql://ringway@db/crm"
    socket_dsn = "postgresql:///postgres?host=/var/run/postgresql"
    assert with_database(socket_dsn, "t1") == "postgresql:///t1?host=/var/run/postgresql"
    assert with_database("postgresql://u:p@h:5/a", "b") == "postgresql://u:p@h:5/b"
    assert with_database("postgresql://h", "b c") == "postgresql://h/b%20c"
    with pytest.raises(ValueError, match="not a URL"):
        with_database("var/x", "b")


def test_targets_resolve_like_libpq() -> None:
    env = {"PGHOST": "envhost", "PGPORT": "6000", "PGUSER": "envuser"}
    assert parse_target("postgresql://u@db:5433/x", env) == Target("db", 5433, "u")
    assert parse_target("postgresql:///x?host=/tmp&port=5999", env) == Target(
        "/tmp", 5999, "envuser"
    )
    assert parse_target("postgresql:///x", env) == Target("envhost", 6000, "envuser")
    local = parse_target("postgresql:///x", {})
    assert local == Target(None, 5432, getpass.getuser())
    assert local.local and local.socket_dir == DEBIAN_SOCKET_DIR
    assert parse_target("postgresql://127.0.0.1/x", {}).local
    assert not parse_target("postgresql://127.0.0.2/x", {}).local  # not ours to start


def test_scratch_names_are_unique_valid_identifiers() -> None:
    names = {scratch_name("Crm Contract-Suite!") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.startswith(f"ringway_crm_contract_suite__{os.getpid()}_")
        assert len(name) <= 63 and name == name.lower()


def test_temporary_database_is_dropped_even_with_a_connection_open() -> None:
    admin = ensure_postgres()

    async def exists(name: str) -> bool:
        conn = await asyncpg.connect(admin)
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
        finally:
            await conn.close()

    with asyncio.Runner() as runner:
        with temporary_database(admin, "scratch") as dsn:
            straggler = runner.run(asyncpg.connect(dsn))  # a test that forgot to close
            name = runner.run(straggler.fetchval("SELECT current_database()"))
            assert dsn.startswith(f"postgresql:///{name}?") or f"/{name}" in dsn
            assert asyncio.run(exists(name))
        assert not asyncio.run(exists(name))
        straggler.terminate()  # the server already cut it off (DROP ... WITH (FORCE))


def test_a_server_that_answers_is_returned_as_is() -> None:
    said: list[str] = []
    dsn = ensure_postgres(say=said.append)
    assert probe(dsn).state == "ok" and said == []


def test_a_server_that_is_not_ours_is_never_touched() -> None:
    said: list[str] = []
    dsn = f"postgresql://ringway:hunter2@127.0.0.2:{free_port()}/x"
    with pytest.raises(PostgresUnavailable) as caught:
        ensure_postgres(dsn, say=said.append)
    message = str(caught.value)
    assert said == []  # no apt-get, no pg_ctlcluster for a server on another host
    assert message.startswith("PostgreSQL at postgresql://ringway:***@127.0.0.2:")
    assert "(down:" in message and "RINGWAY_TEST_PG_DSN" in message
    assert "\n" not in message and "hunter2" not in message


def _manageable() -> bool:
    return os.geteuid() == 0 and shutil.which("pg_createcluster") is not None


@pytest.fixture
def stopped_cluster() -> Iterator[tuple[str, int]]:
    """A new cluster, never started, with no role but postgres: a just-installed server."""
    version = max(os.listdir("/usr/lib/postgresql"), key=int)
    name, port = f"rwtest{os.getpid()}", free_port()
    subprocess.run(
        ["pg_createcluster", version, name, "--port", str(port)], check=True, capture_output=True
    )
    try:
        yield name, port
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], check=True)


def test_a_local_cluster_that_is_down_is_started_and_given_a_role(
    request: pytest.FixtureRequest,
) -> None:
    dsn_for = f"postgresql:///postgres?host={DEBIAN_SOCKET_DIR}&port={{port}}"
    said: list[str] = []
    if not _manageable():  # not root on Debian: the one clear line, nothing attempted
        with pytest.raises(PostgresUnavailable, match=r"not usable .*start it"):
            ensure_postgres(dsn_for.format(port=free_port()), say=said.append)
        assert said == []
        return
    name, port = request.getfixturevalue("stopped_cluster")
    dsn = dsn_for.format(port=port)
    assert probe(dsn).state == "down"
    assert ensure_postgres(dsn, say=said.append) == dsn
    assert probe(dsn).state == "ok"
    assert any("pg_ctlcluster" in line and f"{name} start" in line for line in said)
    assert any(f'CREATE ROLE "{getpass.getuser()}"' in line for line in said)
    said.clear()
    assert ensure_postgres(dsn, say=said.append) == dsn and said == []  # now a no-op


def test_a_local_port_without_a_cluster_is_named() -> None:
    dsn = f"postgresql://127.0.0.1:{free_port()}/postgres"
    with pytest.raises(PostgresUnavailable) as caught:
        ensure_postgres(dsn, say=lambda _: None, wait_s=1)
    if _manageable():
        assert f"no local PostgreSQL cluster on port {parse_target(dsn).port}" in str(caught.value)
    else:
        assert "is not usable (down:" in str(caught.value)
