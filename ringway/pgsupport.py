"""PostgreSQL plumbing for tests and operators: URLs, a server that answers, scratch databases.

`ensure_postgres` makes sure the server a DSN names answers, and on a Debian
machine where we are root it does what a fresh machine lacks: installs the
``postgresql`` package, creates or starts the local cluster on the DSN's port,
and creates a login role for the OS user (Debian authenticates local socket
connections by OS user, "peer"). Anything it cannot fix is one line in
`PostgresUnavailable`: tests never skip themselves, they fail saying why.

`temporary_database` gives each test run its own database, uniquely named, so
parallel runs on one server never see each other's rows.

Everything here is synchronous (it runs asyncpg on a private ``asyncio.run``):
call it from fixtures and scripts, never from inside a running event loop.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

POSTGRES_PREFIX = "postgresql://"
TEST_DSN_ENV = "RINGWAY_TEST_PG_DSN"
# Debian's socket directory; peer authentication works there on a fresh install.
DEBIAN_SOCKET_DIR = "/var/run/postgresql"
DEFAULT_ADMIN_DSN = f"postgresql:///postgres?host={DEBIAN_SOCKET_DIR}"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

Say = Callable[[str], None]


class PostgresUnavailable(RuntimeError):
    """No usable server, and nothing we are allowed to do about it; the message is one line."""


def is_postgres_url(value: str) -> bool:
    return value.startswith(POSTGRES_PREFIX)


def redact(dsn: str) -> str:
    """The DSN with its password hidden, for messages and logs."""
    return re.sub(r"(://[^:/?#@]*):[^@/?#]*@", r"\1:***@", dsn)


def with_database(dsn: str, name: str) -> str:
    """The same server and options, another database.

    Done by hand: ``urlunsplit`` drops the empty authority of a socket DSN
    (``postgresql:///db?host=/run/postgresql``) and so changes its meaning.
    """
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        raise ValueError(f"not a URL: {redact(dsn)!r}")
    location, qmark, query = rest.partition("?")
    authority = location.partition("/")[0]
    return f"{scheme}://{authority}/{quote(name, safe='')}{qmark}{query}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a DSN points, as far as deciding "is this server ours to start" needs."""

    host: str | None  # None: libpq's default (a local socket)
    port: int
    user: str

    @property
    def local(self) -> bool:
        return self.host is None or self.host.startswith("/") or self.host in _LOCAL_HOSTS

    @property
    def socket_dir(self) -> str:
        return (
            self.host if self.host is not None and self.host.startswith("/") else DEBIAN_SOCKET_DIR
        )


def parse_target(dsn: str, env: Mapping[str, str] = os.environ) -> Target:
    """Host, port and user as asyncpg will resolve them (URL, then query, then PG* env)."""
    parts = urlsplit(dsn)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or query.get("host") or env.get("PGHOST") or None
    port = parts.port or int(query.get("port") or env.get("PGPORT") or 5432)
    user = parts.username or query.get("user") or env.get("PGUSER") or getpass.getuser()
    return Target(host=host, port=port, user=user)


# ------------------------------------------------------------------ probing


@dataclass(frozen=True, slots=True)
class Probe:
    state: str  # "ok" | "down" (nothing answers, or still starting) | "no_role" | "refused"
    detail: str = ""


async def _probe_async(dsn: str, timeout_s: float) -> Probe:
    import asyncpg  # here, not at the top: the CLI imports this module for is_postgres_url

    try:
        conn = await asyncpg.connect(dsn, timeout=timeout_s)
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as exc:
        return Probe("down", str(exc) or type(exc).__name__)
    except asyncpg.InvalidAuthorizationSpecificationError as exc:
        state = "no_role" if re.search(r'role ".*" does not exist', str(exc)) else "refused"
        return Probe(state, str(exc))
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Probe("refused", str(exc))
    await conn.close()
    return Probe("ok")


def probe(dsn: str, timeout_s: float = 5.0) -> Probe:
    return asyncio.run(_probe_async(dsn, timeout_s))


def _stderr(line: str) -> None:
    sys.stderr.write(f"ringway: {line}\n")


def ensure_postgres(dsn: str | None = None, *, wait_s: float = 60.0, say: Say = _stderr) -> str:
    """Return a DSN whose server answers, installing/starting/creating what a local one lacks.

    ``dsn`` defaults to ``$RINGWAY_TEST_PG_DSN``, else the Debian socket as the
    OS user. Raises `PostgresUnavailable` with one line when that is not possible.
    """
    dsn = dsn or os.environ.get(TEST_DSN_ENV) or DEFAULT_ADMIN_DSN
    target = parse_target(dsn)
    found = probe(dsn)
    if found.state == "down" and _may_manage(target):
        started = _start_local_cluster(target.port, say)
        # Not started by us (already running, e.g. by the package's install): look once more.
        found = _wait_until_up(dsn, wait_s if started else 0.0)
    if found.state == "no_role" and _may_manage(target) and target.user == getpass.getuser():
        _create_role(target, say)
        found = probe(dsn)
    if found.state != "ok":
        raise PostgresUnavailable(_explain(dsn, target, found))
    return dsn


def _wait_until_up(dsn: str, wait_s: float) -> Probe:
    deadline = time.monotonic() + wait_s
    while True:
        found = probe(dsn)
        if found.state != "down" or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _may_manage(target: Target) -> bool:
    """Only a local server on Debian, and only as root: never touch anything else."""
    return target.local and os.geteuid() == 0 and shutil.which("apt-get") is not None


def _explain(dsn: str, target: Target, found: Probe) -> str:
    where = f"PostgreSQL at {redact(dsn)}"
    hint = f"set {TEST_DSN_ENV} to a server you can create databases on"
    if found.state == "down" and not _may_manage(target):
        hint = "start it, or run the tests as root on Debian to have it installed, or " + hint
    detail = " ".join(found.detail.split())  # one line, whatever the server said
    return f"{where} is not usable ({found.state}: {detail}); {hint}"


# ------------------------------------------------------- Debian cluster work


def _run(argv: list[str], say: Say) -> None:
    say("$ " + " ".join(argv))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = " ".join((done.stderr or done.stdout).split())[-300:]
        raise PostgresUnavailable(f"{' '.join(argv)} failed ({done.returncode}): {output}")


def _install_server(say: Say) -> None:
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"]
    try:
        _run(install, say)
    except PostgresUnavailable:
        _run(["apt-get", "update", "-qq"], say)  # a fresh image has no package lists yet
        _run(install, say)


def _clusters() -> list[dict[str, Any]]:
    done = subprocess.run(["pg_lsclusters", "--json"], capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return found


def _newest_installed_version() -> str:
    versions = [v for v in os.listdir("/usr/lib/postgresql") if v.isdigit()]
    if not versions:
        raise PostgresUnavailable("postgresql is installed but /usr/lib/postgresql has no server")
    return max(versions, key=int)


def _start_local_cluster(port: int, say: Say) -> bool:
    """Start the Debian cluster on ``port``, installing and creating it if need be.

    Returns whether anything was started (a running cluster that did not answer
    will not answer by waiting either).
    """
    if shutil.which("pg_ctlcluster") is None:
        _install_server(say)
    clusters = _clusters()
    cluster = next((c for c in clusters if int(c["port"]) == port), None)
    if cluster is None:
        if clusters:
            ports = ", ".join(f"{c['version']}/{c['cluster']}:{c['port']}" for c in clusters)
            raise PostgresUnavailable(f"no local PostgreSQL cluster on port {port} (have {ports})")
        version = _newest_installed_version()
        _run(["pg_createcluster", version, "main", "--port", str(port)], say)
        cluster = {"version": version, "cluster": "main", "running": 0}
    if cluster.get("running"):
        return False
    version, name = str(cluster["version"]), str(cluster["cluster"])
    _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"], say)
    return True


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_role(target: Target, say: Say) -> None:
    """A superuser role for the OS user, made as ``postgres`` over the socket (peer auth)."""
    statement = f"CREATE ROLE {_quote_ident(target.user)} SUPERUSER LOGIN"
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", target.socket_dir]
    _run(["runuser", "-u", "postgres", "--", *psql, "-p", str(target.port), "-c", statement], say)


# ------------------------------------------------------- scratch databases


async def _admin(dsn: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def scratch_name(label: str) -> str:
    """``ringway_<label>_<pid>_<random>``: unique, and traceable to the run that made it."""
    clean = re.sub(r"[^a-z0-9_]", "_", label.lower())[:24]
    return f"ringway_{clean}_{os.getpid()}_{secrets.token_hex(4)}"


@contextmanager
def temporary_database(admin_dsn: str, label: str = "test") -> Iterator[str]:
    """Create an empty database, yield its DSN, drop it (even with connections left open)."""
    name = scratch_name(label)
    # template0: a pristine copy, whatever someone left in template1.
    asyncio.run(_admin(admin_dsn, f"CREATE DATABASE {_quote_ident(name)} TEMPLATE template0"))
    try:
        yield with_database(admin_dsn, name)
    finally:
        asyncio.run(_admin(admin_dsn, f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)"))
