"""`ringway loadtest` placing real SIP calls into a running `ringway serve` (its SIP edge).

Callers are SIP UACs over UDP with RTP: INVITE, ACK, RFC 4733 keys through the
demo IVR to their queue, music on hold, BYE when patience runs out. Agents log
in on the desktop websocket and register phones with digest auth, which answer
the service's INVITEs, talk (marked RTP the caller must hear through the
bridge) and hang up; the desktop completes the wrap-up. A chat queue runs
alongside. The load tester's account is checked against the service's own
figures: the queue totals over REST and the SIP call records (CDRs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from peer_kit import free_port

from ringway.auth import MIN_ITERATIONS, hash_password

AGENTS = {"lt-v1": "2101", "lt-v2": "2102", "lt-v3": "2103", "lt-v4": "2104"}
PASSWORD = "load-test-password"  # desktop and SIP, for throwaway users of a throwaway service

SERVICE = """
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
  seed_demo_customers: true
routing:
  offer_timeout_s: 10
  wrap_up_s: 30
  entry_points: {{"web-chat": chat}}
desktop:
  chat: {{starts_per_minute: 1000, rate_per_s: 5, burst: 10}}
mail: {{relay_host: 127.0.0.1, relay_port: 1}}
skills: [sales, billing, support]
queues:
  - {{name: sales, channel: voice, requires: "sales>=1"}}
  - {{name: billing, channel: voice, requires: "billing>=1"}}
  - {{name: support, channel: voice, requires: "support>=1"}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
agents:
{agents}
"""

# Billing has more callers than its two agents can take at once, and little patience:
# some callers give up (BYE) while they hear music on hold.
SCENARIO = """
name: loadtest-voice
config: service.yaml
interval: 15m
intervals: 1
seed: 5
arrivals:
  - {queue: billing, rate: 240}
  - {queue: support, rate: 120}
  - {queue: chat, rate: 60}
handling:
  - queue: billing
    talk_time: {dist: exponential, mean: 40}
    wrap_up: {dist: uniform, low: 2, high: 5}
    patience: {dist: exponential, mean: 12}
  - queue: support
    talk_time: {dist: exponential, mean: 30}
    wrap_up: {dist: uniform, low: 2, high: 5}
    patience: {dist: exponential, mean: 120}
  - queue: chat
    talk_time: {dist: exponential, mean: 30}
    patience: {dist: exponential, mean: 60}
answer_delay: {dist: uniform, low: 1, high: 3}
staff:
  - agents: [lt-v1, lt-v2, lt-v3, lt-v4]
"""


@dataclass
class Served:
    url: str
    sip: str
    admin_token: str
    scenario: Path
    data_dir: Path


def write_files(tmp_path: Path) -> tuple[Path, Path]:
    digest = hash_password(PASSWORD, iterations=MIN_ITERATIONS)
    skills = {
        "lt-v1": "{billing: 5}",
        "lt-v2": "{billing: 5, support: 3}",
        "lt-v3": "{support: 5}",
        "lt-v4": "{support: 5, sales: 5}",
    }
    agent = '  - {{id: {}, extension: "{}", skills: {}, password_hash: "{}"}}'
    rows = [agent.format(a, ext, skills[a], digest) for a, ext in AGENTS.items()]
    service = tmp_path / "service.yaml"
    service.write_text(SERVICE.format(data_dir=tmp_path / "var", agents="\n".join(rows)))
    scenario = tmp_path / "load.yaml"
    scenario.write_text(SCENARIO)
    return service, scenario


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    service, scenario = write_files(tmp_path)
    http, sip = free_port(), free_port()
    token = "lt-admin-" + os.urandom(8).hex()
    env = {**os.environ, "RINGWAY_ADMIN_TOKEN": token, "LT_PASSWORD": PASSWORD}
    env.update({f"RINGWAY_SIP_PASSWORD_{ext}": PASSWORD for ext in AGENTS.values()})
    command = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(service)]
    command += ["--http-port", str(http), "--sip-port", str(sip)]
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
        yield Served(url, f"127.0.0.1:{sip}", token, scenario, tmp_path / "var")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def loadtest(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ringway.cli", "loadtest", *args]
    env = {**os.environ, "LT_PASSWORD": PASSWORD}
    return subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)


def test_loadtest_places_sip_calls_through_the_ivr_to_agents_phones(served: Served) -> None:
    result = loadtest(
        str(served.scenario),
        "--target", served.url,
        "--sip", served.sip,
        "--password-env", "LT_PASSWORD",
        "--duration", "15",
        "--speed", "10",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    doc = json.loads(result.stdout)
    assert doc["errors"]["total"] == 0, doc["errors"]
    assert doc["unfinished"] == 0 and doc["ok"] is True and doc["skipped"] == {}
    for channel in ("voice", "chat"):
        row = doc["channels"][channel]
        assert row["offered"] > 0 and row["offered"] == row["scheduled"], row
        assert row["offered"] == row["handled"] + row["abandoned"], row
    voice = doc["channels"]["voice"]
    assert voice["handled"] > 0 and voice["abandoned"] >= 1, voice  # patience ran out
    assert doc["queues"]["billing"]["abandoned"] >= 1
    # Every answered call was timed: INVITE -> IVR answer, queue entry -> phone rings,
    # and the offer reached the desktop.
    answers, rings = voice["invite_to_answer_ms"], voice["queue_to_ring_ms"]
    assert answers["count"] == voice["offered"]
    assert 0 < answers["p50"] <= answers["p99"] < 10_000
    assert rings["count"] >= voice["handled"] and rings["p50"] <= rings["p99"]
    assert voice["latency_ms"]["count"] >= voice["handled"]

    # The service saw the same calls: its call records and its queue totals. A caller
    # whose patience ran out before the IVR had acted on its key (a lagging service)
    # is a hang-up in the IVR to the service and an abandon to us: the CDR says which.
    cdrs = [json.loads(line) for line in (served.data_dir / "cdr.jsonl").read_text().splitlines()]
    assert len(cdrs) == voice["offered"]
    outcomes = Counter(c["outcome"] for c in cdrs)
    assert outcomes["completed"] == voice["handled"]
    in_ivr = outcomes["abandoned_in_ivr"]  # no queue yet: counted over all voice queues
    assert in_ivr <= voice["abandoned"] // 2
    media = [c["media"] for c in cdrs if c["outcome"] == "completed"]
    assert all(m["agent_to_caller"] > 0 and m["caller_to_agent"] > 0 for m in media)  # RTP
    headers = {"Authorization": f"Bearer {served.admin_token}"}
    queues = httpx.get(f"{served.url}/api/v1/queues", headers=headers, timeout=10).json()
    totals = {q["queue"]: q["kpis"]["totals"] for q in queues["queues"]}
    for name in ("billing", "support", "chat"):
        ours = doc["queues"][name]
        assert totals[name]["handled"] == ours["handled"], name
        if name == "chat" or not in_ivr:
            assert totals[name]["offered"] == ours["offered"], name
            assert totals[name]["abandoned"] == ours["abandoned"], name
    for kpi in ("offered", "abandoned"):
        assert sum(totals[q][kpi] for q in ("billing", "support")) == voice[kpi] - in_ivr
    agents = httpx.get(f"{served.url}/api/v1/agents", headers=headers, timeout=10).json()
    assert {a["id"]: a["state"] for a in agents["agents"]} == dict.fromkeys(AGENTS, "offline")
    assert all(q["waiting"] == 0 for q in queues["queues"])

    # The same service, but a SIP address where nothing answers: refused before any
    # traffic, with one line (this shares the service to keep the suite short).
    silent = free_port()
    result = loadtest(
        str(served.scenario),
        "--target", served.url,
        "--sip", f"127.0.0.1:{silent}",
        "--password-env", "LT_PASSWORD",
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"error: no SIP answer from 127.0.0.1:{silent} (OPTIONS)"


def test_voice_without_sip_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    _, scenario = write_files(tmp_path)
    port = free_port()
    result = loadtest(
        str(scenario), "--target", f"http://127.0.0.1:{port}", "--password-env", "LT_PASSWORD"
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == "error: the scenario has voice queues: give --sip HOST:PORT"
