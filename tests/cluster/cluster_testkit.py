"""Real redis-server processes and Ringway nodes for the cluster tests.

Each test starts its own redis-server on a free port (so killing or restarting
it touches nobody else) and nodes either in-process (`ringway.app.build`, the
app's lifespan run by hand, driven over ASGI) or as ``ringway serve``
subprocesses. redis-server is installed with apt-get when missing (the tests
never skip: ``scripts/install-peers.sh`` does the same for ``make test``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from peer_kit import free_port

from ringway.app import ServiceBundle, build
from ringway.cluster import ClusterNode
from ringway.config import RingwayConfig, load_config_text

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "cluster-test-admin-token"
ENV = {"RINGWAY_ADMIN_TOKEN": ADMIN_TOKEN, "RINGWAY_TOKEN_SECRET": "cluster-test-secret"}


def ensure_redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("redis-server")
    assert found is not None, "redis-server is not installed and apt-get did not install it"
    return found


class RedisServer:
    """A private redis-server: AOF on, so a restart keeps what it acknowledged."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.binary = ensure_redis_server()
        self.directory, self.port = directory, port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: Redis writes its AOF and exits (a restart loses nothing it acknowledged)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


def config_yaml(
    redis_url: str,
    node_id: str,
    data_dir: Path,
    *,
    agents: int = 20,
    offer_timeout_s: float = 30,
    wrap_up_s: float = 0,
    lease_ms: int = 1500,
    command_ttl_ms: int = 4000,
    http_port: int = 8080,
) -> str:
    agent_lines = "\n".join(
        f"  - {{id: a{i:03d}, name: Agent {i}, skills: {{support: {1 + i % 9}}}}}"
        for i in range(agents)
    )
    return f"""
service:
  http_port: {http_port}
  data_dir: "{data_dir}"
  customer_store: "memory://"
  redis_url: "{redis_url}"
  node_id: {node_id}
  cluster: {{lease_ms: {lease_ms}, command_ttl_ms: {command_ttl_ms}}}
routing:
  offer_timeout_s: {offer_timeout_s}
  wrap_up_s: {wrap_up_s}
skills: [support]
queues:
  - {{name: support, channel: voice, requires: "support>=1"}}
agents:
{agent_lines}
"""


def node_config(redis_url: str, node_id: str, data_dir: Path, **options: Any) -> RingwayConfig:
    return load_config_text(config_yaml(redis_url, node_id, data_dir, **options), f"{node_id}.yaml")


@dataclass
class InProcessNode:
    bundle: ServiceBundle
    client: httpx.AsyncClient

    @property
    def node(self) -> ClusterNode:
        host = self.bundle.service.host
        assert isinstance(host, ClusterNode)
        return host

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return await self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)


@asynccontextmanager
async def in_process_node(config: RingwayConfig) -> AsyncIterator[InProcessNode]:
    bundle = build(config, ENV)
    app = bundle.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
            yield InProcessNode(bundle, client)


async def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


class ServeProcess:
    """``ringway serve --config FILE`` as a subprocess (stderr kept in a file)."""

    def __init__(self, config_file: Path, port: int) -> None:
        self.config_file, self.port = config_file, port
        self.log = config_file.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ringway.cli", "serve", "--config", str(self.config_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **ENV},
                cwd=ROOT,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            try:
                httpx.get(f"{self.base_url}/docs", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"ringway serve did not start:\n{self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
