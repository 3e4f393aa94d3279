"""Desktop fan-out benchmark: state change → every socket that shows it, under load.

Run ``.venv/bin/python benchmarks/desktop_fanout.py``: progress goes to stderr,
one JSON line to stdout.

The real service (`ringway.app.build` under uvicorn, as `ringway serve` runs it:
uvloop, no per-message deflate, the serve GC settings) runs in a subprocess with
1,000 agents and 20 supervisors connected over ``/ws/v1/desktop``. This process
is the 1,020 clients (websockets + uvloop). Each agent logs in not-ready, then
``--rate`` times a second one agent sends ``state: ready``: the router changes
the agent's state, and the resulting ``agent_state`` frame goes to that agent's
desktop and to all 20 wallboards (21 sockets), while the wallboards also get
their once-a-second queue figures. Latency of a change = the time from the
router's event (its ``at``, the service clock) to the last of its 21 deliveries
(``p50_ms`` / ``p99_ms``); ``delivery_*`` are per socket. Both processes read
the same host clock.

Reference, same run, same clients: a bare ``websockets`` server (no router, no
sessions, no seq per socket, no replay buffer) answering the same ``state``
messages with the same frames, `websockets.broadcast` to the same 21 sockets.
``ratio_p99`` = ringway p99 / bare p99. The machines are shared and noisy:
read the ratio, and the goal (p99 < 50 ms) as this box's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

SECRET_ENV = "RINGWAY_TOKEN_SECRET"
SECRET = "desktop-fanout-benchmark-secret"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def config_text(agents: int, supervisors: int, data_dir: str) -> str:
    lines = [
        f"service: {{data_dir: '{data_dir}', customer_store: 'memory://'}}",
        "desktop: {heartbeat_s: 10, dead_after_s: 300}",
        "skills: [support]",
        "queues: [{name: support, channel: voice, requires: 'support>=1'}]",
        "agents:",
        *(f"  - {{id: a{n:04d}, skills: {{support: 1}}}}" for n in range(agents)),
        "users:",
        *(f"  - {{id: s{n:02d}, role: supervisor}}" for n in range(supervisors)),
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- servers


def serve_ringway(config_path: str, port: int) -> None:
    import uvicorn

    from ringway.app import build
    from ringway.config import load_config
    from ringway.runtime import tune_gc

    bundle = build(load_config(config_path))
    tune_gc()
    uvicorn.run(
        bundle.app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
    )


class Bare:
    """The reference: the same frames, straight to the sockets with `broadcast`."""

    def __init__(self) -> None:
        self.agents: dict[str, ServerConnection] = {}
        self.supervisors: list[ServerConnection] = []

    async def handler(self, ws: ServerConnection) -> None:
        hello = orjson.loads(await ws.recv())
        user = json.loads(base64.urlsafe_b64decode(hello["token"].split(".")[1] + "=="))["sub"]
        await ws.send(orjson.dumps({"seq": 0, "type": "welcome", "session": user}).decode())
        if hello["view"] == "supervisor":
            self.supervisors.append(ws)
        else:
            self.agents[user] = ws
        async for raw in ws:
            message = orjson.loads(raw)
            if message["type"] == "state":
                self.changed(ws, user, message)
            elif message["type"] == "login":
                await ws.send(_reply(message["id"], {"agent": _record(user, "not_ready")}))

    def changed(self, ws: ServerConnection, user: str, message: dict[str, Any]) -> None:
        now = time.time()
        broadcast([ws], _reply(message["id"], {"agent": _record(user, message["state"])}))
        own = {"seq": 0, "type": "agent_state", "at": now, "agent": _record(user, message["state"])}
        broadcast([ws], orjson.dumps(own).decode())
        row = {
            "id": user,
            "name": user,
            "state": message["state"],
            "presence": message["state"],
            "reason": None,
            "since": now,
            "extension": None,
            "contacts": 0,
            "pending": None,
        }
        frame = {"seq": 0, "type": "agent_state", "at": now, "agent": row}
        broadcast(self.supervisors, orjson.dumps(frame).decode())


def _record(user: str, state: str) -> dict[str, Any]:
    return {
        "id": user,
        "name": user,
        "state": state,
        "presence": state,
        "reason": None,
        "time_in_state": 0.0,
        "skills": {"support": 1},
        "extension": None,
        "capacity": {"maximum": {"voice": 1}, "weight": {}, "budget": None, "exclusive": ["voice"]},
        "reservation": None,
        "contacts": [],
        "wrapping": [],
        "pending": None,
        "occupancy": 0.0,
    }


def _reply(ref: int, result: dict[str, Any]) -> str:
    return orjson.dumps(
        {"seq": 0, "type": "reply", "ref": ref, "ok": True, "result": result}
    ).decode()


def serve_bare(port: int) -> None:
    async def main() -> None:
        bare = Bare()
        async with serve(
            bare.handler, "127.0.0.1", port, compression=None, max_size=None, ping_interval=None
        ):
            await asyncio.Future()

    uvloop.run(main())


# ---------------------------------------------------------------------- clients


class Fleet:
    """1,020 client sockets; records when each agent_state frame arrives."""

    def __init__(self, port: int, tokens: dict[str, tuple[str, str]]) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/v1/desktop"
        self.tokens = tokens  # user -> (token, view)
        self.sockets: dict[str, ClientConnection] = {}
        self.seen: dict[tuple[str, float], list[float]] = {}
        self.replies: dict[tuple[str, int], asyncio.Future[None]] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(64)

        async def one(user: str) -> None:
            async with gate:
                token, view = self.tokens[user]
                ws = await connect(
                    self.url, compression=None, max_size=None, open_timeout=60, ping_interval=None
                )
                hello = {"type": "hello", "token": token, "view": view}
                await ws.send(orjson.dumps(hello).decode())
                while orjson.loads(await ws.recv())["type"] != "welcome":
                    pass
                self.sockets[user] = ws
                self.tasks.append(asyncio.get_running_loop().create_task(self.read(user, ws)))

        await asyncio.gather(*(one(user) for user in self.tokens))

    async def read(self, user: str, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                received = time.time()
                frame = orjson.loads(raw)
                kind = frame["type"]
                if kind == "agent_state":
                    self.seen.setdefault((frame["agent"]["id"], frame["at"]), []).append(received)
                elif kind == "reply":
                    waiting = self.replies.pop((user, frame["ref"]), None)
                    if waiting is not None:
                        waiting.set_result(None)
        except Exception:  # a socket closed at the end of the phase
            return

    async def command(self, user: str, msg_id: int, kind: str, **fields: Any) -> None:
        done = asyncio.get_running_loop().create_future()
        self.replies[(user, msg_id)] = done
        await self.sockets[user].send(orjson.dumps({"type": kind, "id": msg_id, **fields}).decode())
        await asyncio.wait_for(done, 60)

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets.values()), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def run_phase(
    port: int,
    tokens: dict[str, tuple[str, str]],
    agents: list[str],
    supervisors: int,
    rate: float,
    changes: int,
) -> dict[str, Any]:
    fleet = Fleet(port, tokens)
    started = time.perf_counter()
    await fleet.open()
    log(f"  {len(fleet.sockets)} sockets open in {time.perf_counter() - started:.1f}s")
    await asyncio.gather(*(fleet.command(a, 1, "login", ready=False) for a in agents))
    await asyncio.sleep(1.0)
    fleet.seen.clear()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for n in range(changes):
        await asyncio.sleep(max(0.0, t0 + n / rate - loop.time()))
        agent = agents[n % len(agents)]
        state = "ready" if (n // len(agents)) % 2 == 0 else "not_ready"  # always a change
        await fleet.sockets[agent].send(
            orjson.dumps({"type": "state", "id": 2 + n, "state": state}).decode()
        )
    expected = changes * (supervisors + 1)
    deadline = loop.time() + 10
    while sum(map(len, fleet.seen.values())) < expected and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await fleet.close()
    return summarise(fleet.seen, changes, supervisors + 1)


def summarise(
    seen: dict[tuple[str, float], list[float]], changes: int, fanout: int
) -> dict[str, Any]:
    whole = sorted((max(t) - at) * 1000 for (_, at), t in seen.items() if len(t) == fanout)
    each = sorted((r - at) * 1000 for (_, at), t in seen.items() for r in t)
    delivered = sum(map(len, seen.values()))
    return {
        "changes": changes,
        "deliveries": delivered,
        "lost": changes * fanout - delivered,
        "p50_ms": _pct(whole, 50),
        "p99_ms": _pct(whole, 99),
        "max_ms": _pct(whole, 100),
        "delivery_p50_ms": _pct(each, 50),
        "delivery_p99_ms": _pct(each, 99),
    }


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * q / 100))], 2)


# ------------------------------------------------------------------- orchestration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, __file__, *args, "--port", str(port)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server {args} exited with {process.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError(f"server {args} did not listen on {port}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    name: str,
    args: list[str],
    env: dict[str, str],
    options: argparse.Namespace,
    tokens: dict[str, tuple[str, str]],
    agents: list[str],
) -> dict[str, Any]:
    port = free_port()
    log(f"{name}: starting")
    process = start(args, port, env)
    try:
        before = cpu_seconds(process.pid)
        result = uvloop.run(
            run_phase(port, tokens, agents, options.supervisors, options.rate, options.changes)
        )
        result["server_cpu_s"] = round(cpu_seconds(process.pid) - before, 2)
    finally:
        process.terminate()
        process.wait(30)
    log(f"{name}: {result}")
    return result


def orchestrate(options: argparse.Namespace) -> dict[str, Any]:
    from ringway.auth import Authenticator, Role
    from ringway.config import load_config

    env = {**os.environ, SECRET_ENV: SECRET}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fanout.yaml"
        path.write_text(config_text(options.agents, options.supervisors, tmp))
        config = load_config(path)
        auth = Authenticator(config, {SECRET_ENV: SECRET})
        agents = [a.id for a in config.agents]
        tokens = {a: (auth.issue(a, Role.AGENT, 3600)[0], "agent") for a in agents}
        for user in config.users:
            if user.role == "supervisor":
                tokens[user.id] = (auth.issue(user.id, Role.SUPERVISOR, 3600)[0], "supervisor")
        ringway = measure("ringway", ["--serve-ringway", str(path)], env, options, tokens, agents)
        bare = measure("bare websockets", ["--serve-bare"], env, options, tokens, agents)
    return {
        "benchmark": "desktop_fanout",
        "agents": options.agents,
        "supervisors": options.supervisors,
        "rate_per_s": options.rate,
        "ringway": ringway,
        "bare_websockets": bare,
        "ratio_p50": _ratio(ringway["p50_ms"], bare["p50_ms"]),
        "ratio_p99": _ratio(ringway["p99_ms"], bare["p99_ms"]),
        "goal_p99_ms": 50,
        "meets_goal": ringway["p99_ms"] is not None
        and ringway["p99_ms"] < 50
        and ringway["lost"] == 0,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--supervisors", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="state changes per second")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--serve-ringway", metavar="CONFIG")
    parser.add_argument("--serve-bare", action="store_true")
    parser.add_argument("--port", type=int)
    options = parser.parse_args()
    if options.serve_ringway:
        serve_ringway(options.serve_ringway, options.port)
    elif options.serve_bare:
        serve_bare(options.port)
    else:
        print(json.dumps(orchestrate(options)), flush=True)


if __name__ == "__main__":
    main()
