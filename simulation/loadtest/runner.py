"""Run a load test: check, log in, play the arrivals, drain, hang up, report.

1. Load the scenario and build the plan (queues per channel driver, agents).
2. Check the target answers (``/api/v1/healthz``), each driver's endpoint
   (SMTP), and log every agent in; any failure here is bad input (exit 2).
3. Agents open their desktops and go ready; then each queue's Poisson arrivals
   are played for ``duration`` wall seconds, each customer as its own task.
4. Drain: wait (up to ``drain`` seconds) until every contact made is handled or
   abandoned. Then customers still waiting leave, agents finish and log out.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ringway.config import ConfigError
from simulation.loadtest.access import check_target, login_all, passwords
from simulation.loadtest.agent import SimAgent
from simulation.loadtest.drivers import Arrival, ChannelDriver, Target, registry
from simulation.loadtest.errors import ErrorLog, LoadTestError
from simulation.loadtest.ledger import Ledger, channel_summary, latency_summary
from simulation.loadtest.phones import Phones
from simulation.loadtest.plan import LoadPlan, QueuePlan, arrival_times, build_plan

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    scenario: Path
    target: str
    duration_s: float | None = None
    speed: float = 1.0
    smtp: str | None = None
    credentials: Path | None = None
    password_env: str | None = None
    drain_s: float = 60.0
    seed: int | None = None
    sip: str | None = None
    ivr: Path | None = None


def http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadTestError(f"--target must be an http(s)://host:port URL, got {text!r}")
    return f"{parts.scheme}://{parts.netloc}"


def smtp_address(text: str | None, option: str = "--smtp") -> tuple[str, int] | None:
    if text is None:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise LoadTestError(f"{option} must be HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def make_plan(options: Options) -> LoadPlan:
    from simulation.loader import load_scenario

    try:
        scenario = load_scenario(options.scenario)
    except ConfigError as exc:
        raise LoadTestError(str(exc)) from None
    addresses = {channel: driver.address_of for channel, driver in registry().items()}
    return build_plan(
        scenario, addresses, duration_s=options.duration_s, speed=options.speed, seed=options.seed
    )


async def run_loadtest(
    options: Options, env: Mapping[str, str] = os.environ, progress: Progress | None = None
) -> dict[str, Any]:
    say = progress or (lambda message: None)
    plan = make_plan(options)
    target = Target(
        http_url(options.target),
        smtp_address(options.smtp),
        secrets.token_hex(4),
        sip=smtp_address(options.sip, "--sip"),
        ivr=options.ivr,
    )
    ledger, errors = Ledger(), ErrorLog()
    drivers = {ch: registry()[ch](target, ledger, errors) for ch in plan.channels}
    for channel, driver in drivers.items():
        driver.prepare([q for q in plan.queues if q.channel == channel])
        driver.check()
    password = passwords(options.credentials, options.password_env, env)
    phones = Phones(
        plan,
        target,
        passwords(options.credentials, options.password_env, env, field="sip_password"),
        ledger,
        errors,
    )
    try:
        async with httpx.AsyncClient() as client:
            await check_target(client, target.http_url)
            for driver in drivers.values():
                await driver.preflight()
            say(f"logging in {len(plan.agent_ids)} agents")
            tokens = await login_all(client, target.http_url, plan.agent_ids, password)
        keys = {channel: driver.key_of for channel, driver in drivers.items()}
        agents = [SimAgent(agent_id, plan, ledger, errors, keys) for agent_id in plan.agent_ids]
        await phones.register(agents, say)
        play = _Play(plan, drivers, ledger)
        try:
            await asyncio.gather(*(a.start(target.ws_url, tokens[a.id]) for a in agents))
            say(f"{len(agents)} agents ready; playing {plan.duration_s:g} s of arrivals")
            await play.arrivals()
            say(f"arrivals done ({play.made} contacts); draining up to {options.drain_s:g} s")
            await play.drain(options.drain_s)
        finally:
            await play.finish()
            await asyncio.gather(*(agent.stop(grace_s=5.0) for agent in agents))
    finally:
        await phones.stop()
        for driver in drivers.values():
            await driver.close()
    return report(plan, target, ledger, errors, play)


class _Play:
    """The customers' side: arrival schedules, one task per customer, the drain."""

    def __init__(self, plan: LoadPlan, drivers: Mapping[str, ChannelDriver], ledger: Ledger):
        self.plan, self.drivers, self.ledger = plan, drivers, ledger
        self.customers: set[asyncio.Task[None]] = set()
        self.scheduled: dict[str, int] = {}
        self.made = 0
        self.window_s = 0.0
        self.drained_s = 0.0

    async def arrivals(self) -> None:
        started = time.monotonic()
        await asyncio.gather(*(self._queue(queue, started) for queue in self.plan.queues))
        self.window_s = time.monotonic() - started

    async def _queue(self, queue: QueuePlan, started: float) -> None:
        plan = self.plan
        times = arrival_times(
            queue.rates,
            plan.scenario.interval_s,
            speed=plan.speed,
            duration_s=plan.duration_s,
            rng=plan.rng(f"arrivals:{queue.queue}"),
        )
        self.scheduled[queue.queue] = len(times)
        patience = plan.sampler(queue.queue, "patience", plan.rng(f"patience:{queue.queue}"))
        driver = self.drivers[queue.channel]
        for at in times:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            self.made += 1
            wait = patience() if patience is not None else math.inf
            arrival = Arrival(self.made, queue, wait)
            task = asyncio.get_running_loop().create_task(driver.arrive(arrival))
            self.customers.add(task)
            task.add_done_callback(self.customers.discard)
        await asyncio.sleep(max(0.0, started + plan.duration_s - time.monotonic()))

    async def drain(self, limit_s: float) -> None:
        """Until every contact made is handled or abandoned and every customer has
        hung up (an e-mail still in transfer, a chat closing), or ``limit_s``."""
        started = time.monotonic()
        while time.monotonic() - started < limit_s:
            if not self.customers and self.ledger.open_count() == 0:
                break
            await asyncio.sleep(0.05)
        self.drained_s = time.monotonic() - started

    async def finish(self) -> None:
        for driver in self.drivers.values():
            await driver.stop()
        if self.customers:
            await asyncio.wait(set(self.customers), timeout=10)
        for task in list(self.customers):
            task.cancel()
        await asyncio.gather(*self.customers, return_exceptions=True)


def report(
    plan: LoadPlan, target: Target, ledger: Ledger, errors: ErrorLog, play: _Play
) -> dict[str, Any]:
    ours = ledger.ours()
    channels = {
        channel: channel_summary(
            [r for r in ours if r.channel == channel],
            sum(play.scheduled.get(q.queue, 0) for q in plan.queues if q.channel == channel),
            play.window_s,
        )
        for channel in plan.channels
    }
    queues = {
        q.queue: channel_summary(
            [r for r in ours if r.queue == q.queue], play.scheduled.get(q.queue, 0), play.window_s
        )
        for q in plan.queues
    }
    latencies = [r.offered - r.created for r in ours if r.offered and r.created is not None]
    unfinished = sum(1 for r in ours if r.outcome == "unfinished")
    return {
        "scenario": plan.scenario.name,
        "target": target.http_url,
        "speed": plan.speed,
        "duration_s": plan.duration_s,
        "arrival_window_s": round(play.window_s, 3),
        "drain_s": round(play.drained_s, 3),
        "agents": len(plan.agent_ids),
        "channels": channels,
        "queues": queues,
        "latency_ms": latency_summary(latencies),
        "skipped": dict(plan.skipped),
        "errors": errors.to_dict(),
        "foreign_offers": ledger.foreign_count(),
        "unfinished": unfinished,
        "ok": errors.total == 0 and unfinished == 0,
    }
