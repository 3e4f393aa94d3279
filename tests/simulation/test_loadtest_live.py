"""`ringway loadtest` against a real `ringway serve` (subprocess, free ports, SMTP intake).

Simulated agents log in over REST and work on the desktop websocket, chat
customers use the chat websocket, e-mails go through the SMTP intake. The load
tester's own account (offered = handled + abandoned, no protocol errors, latency
figures) is checked against the service's queue figures, read over REST.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from peer_kit import free_port

from ringway.auth import MIN_ITERATIONS, hash_password

AGENTS = ("lt-a1", "lt-a2", "lt-a3")
PASSWORD = "load-test-password"  # for throwaway users of a throwaway service

SERVICE = """
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
routing:
  offer_timeout_s: 10
  wrap_up_s: 30
  entry_points: {{"web-chat": chat, "help@ringway.test": email}}
desktop:
  chat: {{starts_per_minute: 1000, rate_per_s: 5, burst: 10}}
mail: {{relay_host: 127.0.0.1, relay_port: 1}}
skills: [support]
queues:
  - {{name: chat, channel: chat, requires: "support>=1"}}
  - {{name: email, channel: email, requires: "support>=1", wrap_up_s: 0}}
agents:
{agents}
"""

SCENARIO = """
name: loadtest-small
config: service.yaml
interval: 15m
intervals: 1
seed: 11
arrivals:
  - {queue: chat, rate: 180}
  - {queue: email, rate: 180}
handling:
  - queue: chat
    talk_time: {dist: exponential, mean: 30}
    wrap_up: {dist: uniform, low: 5, high: 10}
    patience: {dist: exponential, mean: 20}
  - queue: email
    talk_time: {dist: exponential, mean: 30}
answer_delay: {dist: uniform, low: 1, high: 3}
staff:
  - agents: [lt-a1, lt-a2, lt-a3]
"""


@dataclass
class Served:
    url: str
    smtp: str
    admin_token: str
    scenario: Path
    credentials: Path


def write_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    digest = hash_password(PASSWORD, iterations=MIN_ITERATIONS)
    agent = (
        "  - {{id: {}, skills: {{support: 5}}, capacity: {{chat: 2, email: 1}}, "
        'password_hash: "{}"}}'
    )
    agents = "\n".join(agent.format(a, digest) for a in AGENTS)
    service = tmp_path / "service.yaml"
    service.write_text(SERVICE.format(data_dir=tmp_path / "var", agents=agents))
    scenario = tmp_path / "load.yaml"
    scenario.write_text(SCENARIO)
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({a: PASSWORD for a in AGENTS}))
    return service, scenario, credentials


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    service, scenario, credentials = write_files(tmp_path)
    http, smtp = free_port(), free_port()
    token = "lt-admin-" + os.urandom(8).hex()
    env = {**os.environ, "RINGWAY_ADMIN_TOKEN": token}
    command = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(service)]
    command += ["--http-port", str(http), "--smtp-port", str(smtp)]
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/api/v1/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "ringway serve did not come up"
            time.sleep(0.2)
        yield Served(url, f"127.0.0.1:{smtp}", token, scenario, credentials)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ringway.cli", "loadtest", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


def test_loadtest_drives_chat_and_email_through_a_running_service(served: Served) -> None:
    result = loadtest(
        str(served.scenario),
        "--target",
        served.url,
        "--smtp",
        served.smtp,
        "--credentials",
        str(served.credentials),
        "--duration",
        "20",
        "--speed",
        "10",
        "--json",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.count("\n") == 1  # one JSON document, progress on stderr
    doc = json.loads(result.stdout)
    assert doc["errors"]["total"] == 0, doc["errors"]
    assert doc["unfinished"] == 0 and doc["ok"] is True
    assert doc["agents"] == 3 and doc["skipped"] == {}
    for channel in ("chat", "email"):
        row = doc["channels"][channel]
        assert row["offered"] > 0
        assert row["offered"] == row["handled"] + row["abandoned"], row
        assert row["offered"] == row["scheduled"]  # every scheduled contact was made
        latency, routing = row["latency_ms"], row["routing_ms"]
        assert latency["count"] > 0 and 0 < latency["p50"] <= latency["p99"] <= latency["max"]
        # Every offered contact has the split: routing alone is part of the end-to-end time.
        assert routing["count"] == latency["count"] == row["queue_wait_ms"]["count"]
        assert 0 < routing["p50"] <= latency["p99"] and routing["max"] <= latency["max"]
    assert doc["channels"]["email"]["abandoned"] == 0  # e-mail customers do not give up

    # The service saw the same traffic: its own queue figures, over REST.
    headers = {"Authorization": f"Bearer {served.admin_token}"}
    queues = httpx.get(f"{served.url}/api/v1/queues", headers=headers, timeout=10).json()
    totals = {q["queue"]: q["kpis"]["totals"] for q in queues["queues"]}
    for name in ("chat", "email"):
        ours = doc["queues"][name]
        assert totals[name]["offered"] == ours["offered"]
        assert totals[name]["handled"] == ours["handled"]
        assert totals[name]["abandoned"] == ours["abandoned"]
    # Nobody is left behind: every simulated agent logged out, nothing waits.
    agents = httpx.get(f"{served.url}/api/v1/agents", headers=headers, timeout=10).json()
    assert {a["id"]: a["state"] for a in agents["agents"]} == {a: "offline" for a in AGENTS}
    assert all(q["waiting"] == 0 for q in queues["queues"])


def test_unreachable_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _, scenario, credentials = write_files(tmp_path)
    port = free_port()  # nothing listens there
    result = loadtest(
        str(scenario),
        "--target",
        f"http://127.0.0.1:{port}",
        "--smtp",
        f"127.0.0.1:{port}",
        "--credentials",
        str(credentials),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the target")
