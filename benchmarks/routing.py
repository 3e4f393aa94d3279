"""Routing-core benchmark: decisions per second and decision latency vs agents.

Run ``.venv/bin/python benchmarks/routing.py``: progress goes to stderr, one JSON
line to stdout.

Workload (seeded, so every run sees the same centre): 20 skills; 20 voice
queues, 16 requiring one skill at a level of 2-5 and 4 with AND/OR expressions,
a few with per-tier service levels (several bands), a starvation floor or a
higher priority; agents with 4-6 random skills at proficiency 1-10 (each
qualifies for at least one queue); 10,000 contacts waiting, spread over the
queues, with mixed tiers.

Steady state, for each agent count N: every agent is busy and 10,000 contacts
wait. One iteration = a random busy agent completes (it frees and picks the best
contact across all its queues: the *agent_freed* decision, then accepts the
offer), and a new contact arrives to keep 10,000 waiting (usually no agent is
free: the *contact_arrived* decision still runs the matching and records its
explanation). ``now`` advances 10 ms per iteration. Each command that decides is
timed alone with ``time.perf_counter_ns``; ``decisions_per_s`` is decisions over
the time spent in those commands (accepts and benchmark bookkeeping excluded;
``wall_decisions_per_s`` includes everything).

The naive full-scan matcher (benchmarks/naive.py) then runs in lock-step with
the core from the core's final state, fewer iterations (each agent-free scans
all 10,000 contacts): it is timed alone, and the core's choice and the naive
choice are compared at every step (``agreement``). The core's timings include
everything a real command does (events, explanation, store writes); the naive
one only scans and scores, so the ratio is conservative.

GC: the cyclic collector is disabled during the timed loops (collected just
before), so the figures measure routing work, not how much history the
in-memory store keeps (by default 100,000 finished contacts with their
explanations and 200,000 events: every full collection walks all of it). The
same loop is then repeated at 2,000 agents with the collector on (default
thresholds, set-up objects frozen) and reported as ``gc_enabled_check``,
including the collector's share of the time and its longest pause, and once
more with the thresholds `ringway serve` sets (``serve_thresholds``).
"""

from __future__ import annotations

import gc
import json
import platform
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import util as import_util
from pathlib import Path
from typing import Any

from ringway.runtime import OLDER_THRESHOLDS, YOUNG_THRESHOLD
from router import events as ev
from router.agents import Agent
from router.engine import Router
from router.model import Channel, Contact, ContactStatus
from router.queues import VOICE_TIER_SLA, Queue
from router.skills import parse

AGENT_COUNTS = (100, 1000, 2000, 10000)
SERVE_GC = (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)  # what `ringway serve` sets (ringway/runtime.py)
WAITING = 10_000
SKILLS = [f"s{i:02d}" for i in range(20)]
TIERS = (("gold", 0.1), ("silver", 0.2), ("bronze", 0.4), (None, 0.3))
STEP_S = 0.01  # simulated seconds per iteration
CORE_ITERATIONS = 30_000
NAIVE_ITERATIONS = 200
GC_CHECK_AT = 2000  # agents: the run repeated with the garbage collector on
GOAL_DECISIONS_PER_S = 50_000
GOAL_P99_MS_AT_2000 = 1.0


def _load_naive() -> Any:
    """benchmarks/ is not a package: load naive.py beside this file by path."""
    name = "ringway_bench_naive"
    if name in sys.modules:
        return sys.modules[name]
    spec = import_util.spec_from_file_location(name, Path(__file__).with_name("naive.py"))
    assert spec is not None and spec.loader is not None
    module = import_util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


naive = _load_naive()


def progress(message: str) -> None:
    print(f"[routing-bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- workload


def build_queues(rng: random.Random) -> list[Queue]:
    queues: list[Queue] = []
    expressions = {
        16: "s16>=3 & (s03>=2 | s04>=2)",
        17: "s17>=2 | s05>=7",
        18: "(s18>=3 & s00>=2) | s01>=8",
        19: "s19>=4 & s02",
    }
    for index in range(20):
        text = expressions.get(index, f"s{index:02d}>={rng.randint(2, 5)}")
        queues.append(
            Queue(
                name=f"q{index:02d}",
                channel=Channel.VOICE,
                requirement=parse(text, known_skills=set(SKILLS)),
                strategy="most-skilled" if index % 2 else "longest-idle",
                sla_by_tier=dict(VOICE_TIER_SLA) if index < 5 else {},
                starvation_s=120.0 if 5 <= index < 8 else None,
                priority=10 if 10 <= index < 13 else 0,
            )
        )
    return queues


@dataclass
class Workload:
    """Everything seeded: the centre, the agents and the stream of contacts."""

    queues: list[Queue]
    agents: list[tuple[str, dict[str, int]]]
    waiting: int
    seed: int
    rng: random.Random = field(repr=False)
    issued: int = 0

    def next_contact(self, now: float) -> Contact:
        self.issued += 1
        rng = self.rng
        roll, tier = rng.random(), None
        for name, share in TIERS:
            if roll < share:
                tier = name
                break
            roll -= share
        return Contact(
            id=f"k{self.issued}",
            channel=Channel.VOICE,
            queue=self.queues[rng.randrange(len(self.queues))].name,
            created_at=now,
            tier=tier,
            priority=5 if rng.random() < 0.05 else 0,
        )


def build_workload(n_agents: int, *, waiting: int = WAITING, seed: int = 1) -> Workload:
    rng = random.Random(seed)
    queues = build_queues(rng)
    agents: list[tuple[str, dict[str, int]]] = []
    while len(agents) < n_agents:
        chosen = rng.sample(SKILLS, rng.randint(4, 6))
        skills = {name: rng.randint(1, 10) for name in chosen}
        if any(q.requirement.matches(skills) for q in queues):
            agents.append((f"a{len(agents):05d}", skills))
    return Workload(
        queues=queues,
        agents=agents,
        waiting=waiting,
        seed=seed,
        rng=random.Random(seed + 1),
    )


# ---------------------------------------------------------------- measuring


def summary(samples_ns: Sequence[int]) -> dict[str, float | int]:
    if not samples_ns:
        return {"n": 0}
    ordered = sorted(samples_ns)
    count = len(ordered)

    def pct(p: float) -> float:
        return round(ordered[min(count - 1, int(p * (count - 1) + 0.5))] / 1000, 2)

    return {
        "n": count,
        "mean_us": round(sum(ordered) / count / 1000, 2),
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "p999_us": pct(0.999),
        "max_us": round(ordered[-1] / 1000, 2),
    }


class GcClock:
    """The cyclic garbage collector around a timed loop: off, or on and timed.

    ``enabled=False`` (the main measurement) collects and disables it for the loop,
    so the figures are the routing work alone. ``enabled=True`` leaves it on with
    the default thresholds, moves the set-up objects out of its way (``gc.freeze``,
    as a service would after start-up) and times every collection.
    """

    def __init__(self, *, enabled: bool, thresholds: tuple[int, int, int] | None = None) -> None:
        self.enabled = enabled
        self.thresholds = thresholds  # None: CPython's defaults
        self._saved_thresholds = gc.get_threshold()
        self.ns = 0
        self.max_ns = 0
        self.collections = [0, 0, 0]
        self._start = 0
        self._was_enabled = gc.isenabled()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter_ns()
        else:
            pause = time.perf_counter_ns() - self._start
            self.ns += pause
            self.max_ns = max(self.max_ns, pause)
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcClock:
        gc.collect()
        if self.enabled:
            gc.freeze()
            if self.thresholds is not None:
                gc.set_threshold(*self.thresholds)
            gc.callbacks.append(self)
            gc.enable()
        else:
            gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.callbacks.remove(self)
            gc.unfreeze()
            gc.set_threshold(*self._saved_thresholds)
        if self._was_enabled:
            gc.enable()
        else:
            gc.disable()
        gc.collect()

    def report(self, wall_s: float) -> dict[str, Any]:
        if not self.enabled:
            return {"enabled": False}
        return {
            "enabled": True,
            "collections_by_generation": self.collections,
            "seconds": round(self.ns / 1e9, 3),
            "share_of_wall": round(self.ns / 1e9 / wall_s, 3) if wall_s else None,
            "longest_pause_ms": round(self.max_ns / 1e6, 2),
        }


def offered_to(events: Iterable[ev.Event]) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in events if isinstance(e, ev.ContactOffered)]


class CoreRun:
    """The router in steady state: every agent busy, ``waiting`` contacts queued."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.router = Router(workload.queues, rng=random.Random(workload.seed + 2))
        self.pick = random.Random(workload.seed + 3)  # which busy agent completes next
        self.now = 0.0
        self.held: dict[str, str] = {}  # agent -> the contact it is handling
        self.busy: list[str] = []
        self.index: dict[str, int] = {}  # agent -> position in busy
        self.idle: set[str] = set()
        self.timings: dict[str, list[int]] = {
            "agent_freed": [],
            "contact_arrived": [],
            "accept": [],
        }
        self.offers_on_free = 0
        self.arrivals_matched = 0

    # -- bookkeeping of who is busy

    def _take(self, agent_id: str, contact_id: str, timed: bool) -> None:
        start = time.perf_counter_ns()
        self.router.accept(agent_id, contact_id, self.now)
        if timed:
            self.timings["accept"].append(time.perf_counter_ns() - start)
        self.held[agent_id] = contact_id
        if agent_id not in self.index:
            self.index[agent_id] = len(self.busy)
            self.busy.append(agent_id)
        self.idle.discard(agent_id)

    def _release(self, agent_id: str) -> None:
        del self.held[agent_id]
        position = self.index.pop(agent_id)
        last = self.busy.pop()
        if last != agent_id:
            self.busy[position] = last
            self.index[last] = position
        self.idle.add(agent_id)

    def waiting(self) -> int:
        return sum(len(self.router.waiting(q.name)) for q in self.workload.queues)

    # -- set-up

    def setup(self) -> None:
        router, workload = self.router, self.workload
        for agent_id, skills in workload.agents:
            router.add_agent(Agent(id=agent_id, name=agent_id, skills=dict(skills)), 0.0)
            router.login(agent_id, 0.0)
        backlog = workload.waiting + len(workload.agents)
        for index in range(backlog):  # the queue built up over the first 100 s
            self.now = 100.0 * index / backlog
            router.contact_arrived(workload.next_contact(self.now), self.now)
        self.now = 100.0
        for agent_id, _ in workload.agents:
            for contact_id, agent in offered_to(router.set_ready(agent_id, self.now)):
                self._take(agent, contact_id, timed=False)
            if agent_id not in self.held:
                self.idle.add(agent_id)
        while self.waiting() < workload.waiting:  # top up; idle agents get work first
            contact = workload.next_contact(self.now)
            for contact_id, agent in offered_to(router.contact_arrived(contact, self.now)):
                self._take(agent, contact_id, timed=False)
        router.tick(self.now)

    # -- one steady-state iteration

    def step(self, *, timed: bool = True) -> tuple[str | None, str | None, str | None]:
        """Returns (agent freed, contact it took, agent the new contact went to)."""
        router, timings = self.router, self.timings
        agent_id = self.busy[self.pick.randrange(len(self.busy))]
        contact_id = self.held[agent_id]
        start = time.perf_counter_ns()
        events = router.complete(agent_id, contact_id, self.now)
        elapsed = time.perf_counter_ns() - start
        if timed:
            timings["agent_freed"].append(elapsed)
        took = next((c for c, a in offered_to(events) if a == agent_id), None)
        if took is not None:
            self.offers_on_free += timed
            self._take(agent_id, took, timed)
        else:
            self._release(agent_id)
        contact = self.workload.next_contact(self.now)
        start = time.perf_counter_ns()
        events = router.contact_arrived(contact, self.now)
        elapsed = time.perf_counter_ns() - start
        if timed:
            timings["contact_arrived"].append(elapsed)
        went_to = None
        for offered, agent in offered_to(events):
            self.arrivals_matched += timed
            self._take(agent, offered, timed)
            went_to = agent
        self.now += STEP_S
        return agent_id, took, went_to

    def run(
        self,
        iterations: int,
        *,
        gc_enabled: bool = False,
        gc_thresholds: tuple[int, int, int] | None = None,
    ) -> dict[str, Any]:
        self.timings = {name: [] for name in self.timings}
        self.offers_on_free = self.arrivals_matched = 0
        with GcClock(enabled=gc_enabled, thresholds=gc_thresholds) as gc_clock:
            started = time.perf_counter()
            for index in range(iterations):
                self.step()
                if index % 2000 == 1999:
                    self.router.tick(self.now)  # drops spent offer timers; nothing else is due
            wall = time.perf_counter() - started
        freed, arrived = self.timings["agent_freed"], self.timings["contact_arrived"]
        decisions = len(freed) + len(arrived)
        busy_s = (sum(freed) + sum(arrived)) / 1e9
        return {
            "iterations": iterations,
            "decisions": decisions,
            "decisions_per_s": round(decisions / busy_s) if busy_s else None,
            "wall_decisions_per_s": round(decisions / wall) if wall else None,
            "agent_freed": summary(freed),
            "contact_arrived": summary(arrived),
            "accept": summary(self.timings["accept"]),
            "freed_agent_took_a_contact": round(self.offers_on_free / max(1, len(freed)), 4),
            "arrivals_offered_at_once": self.arrivals_matched,
            "waiting_at_end": self.waiting(),
            "gc": gc_clock.report(wall),
        }


def naive_lockstep(core: CoreRun, iterations: int) -> dict[str, Any]:
    """Time the naive matcher on the core's exact state and compare their choices."""
    router = core.router
    agents = {
        a.id: Agent(id=a.id, name=a.name, skills=dict(a.skills), idle_since=a.idle_since)
        for a in router.agents.values()
    }
    matcher = naive.NaiveMatcher(core.workload.queues, list(agents.values()))
    for agent_id, contact_id in core.held.items():
        matcher.busy[agent_id] = contact_id
    for queue in core.workload.queues:
        for c in router.waiting(queue.name):
            if c.status is ContactStatus.QUEUED:
                matcher.waiting[c.id] = naive.NaiveContact(
                    c.id, c.queue, c.tier, c.priority, c.enqueued_at, c.seq
                )
    with GcClock(enabled=False):
        freed_ns, arrived_ns, agree, compared = _lockstep(core, matcher, agents, iterations, router)
    busy_s = (sum(freed_ns) + sum(arrived_ns)) / 1e9
    decisions = len(freed_ns) + len(arrived_ns)
    return {
        "iterations": iterations,
        "decisions": decisions,
        "decisions_per_s": round(decisions / busy_s) if busy_s else None,
        "agent_freed": summary(freed_ns),
        "contact_arrived": summary(arrived_ns),
        "agreement_with_core": round(agree / compared, 4) if compared else None,
    }


def _lockstep(
    core: CoreRun, matcher: Any, agents: dict[str, Agent], iterations: int, router: Router
) -> tuple[list[int], list[int], int, int]:
    freed_ns: list[int] = []
    arrived_ns: list[int] = []
    agree = compared = 0
    for _ in range(iterations):
        # the core picks the agent (its own rng); the naive is told the same one
        state = core.pick.getstate()
        agent_id = core.busy[core.pick.randrange(len(core.busy))]
        core.pick.setstate(state)
        now = core.now
        start = time.perf_counter_ns()
        naive_took = matcher.agent_freed(agents[agent_id], now)
        freed_ns.append(time.perf_counter_ns() - start)
        issued = core.workload.issued
        rng_state = core.workload.rng.getstate()
        core_freed, core_took, core_went_to = core.step(timed=False)
        assert core_freed == agent_id
        compared += 1
        agree += (naive_took.id if naive_took else None) == core_took
        _sync(matcher, agent_id, naive_took, core_took)
        # the same new contact for the naive matcher
        core.workload.rng.setstate(rng_state)
        core.workload.issued = issued
        contact = core.workload.next_contact(now)  # replays the one the core just got
        arrival = naive.NaiveContact(
            contact.id, contact.queue, contact.tier, contact.priority, now, 0
        )
        arrival.seq = router.contact(contact.id).seq
        start = time.perf_counter_ns()
        naive_went_to = matcher.contact_arrived(arrival, now)
        arrived_ns.append(time.perf_counter_ns() - start)
        compared += 1
        agree += naive_went_to == core_went_to
        _sync_arrival(matcher, arrival, naive_went_to, core_went_to)
    return freed_ns, arrived_ns, agree, compared


def _sync(matcher: Any, agent_id: str, naive_took: Any, core_took: str | None) -> None:
    """Keep the naive state equal to the core's when they disagree (a tie broken apart)."""
    if (naive_took.id if naive_took else None) == core_took:
        return
    if naive_took is not None:
        matcher.waiting[naive_took.id] = naive_took
    matcher.busy[agent_id] = core_took
    if core_took is not None:
        matcher.waiting.pop(core_took, None)


def _sync_arrival(matcher: Any, arrival: Any, naive_to: str | None, core_to: str | None) -> None:
    if naive_to == core_to:
        return
    if naive_to is not None:
        matcher.busy[naive_to] = None
    if core_to is None:
        matcher.waiting[arrival.id] = arrival
    else:
        matcher.waiting.pop(arrival.id, None)
        matcher.busy[core_to] = arrival.id


# ---------------------------------------------------------------- the run


def run(
    agent_counts: Sequence[int] = AGENT_COUNTS,
    *,
    waiting: int = WAITING,
    core_iterations: int = CORE_ITERATIONS,
    naive_iterations: int = NAIVE_ITERATIONS,
    gc_check_at: int | None = GC_CHECK_AT,
    seed: int = 1,
) -> dict[str, Any]:
    core: dict[str, Any] = {}
    gc_check: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    ratio: dict[str, Any] = {}
    for count in agent_counts:
        progress(f"N={count}: building ({waiting} waiting)")
        started = time.perf_counter()
        run_ = CoreRun(build_workload(count, waiting=waiting, seed=seed))
        run_.setup()
        setup_s = time.perf_counter() - started
        progress(f"N={count}: set-up {setup_s:.1f} s; core x{core_iterations}")
        result = run_.run(core_iterations)
        result["setup_s"] = round(setup_s, 2)
        core[str(count)] = result
        progress(
            f"N={count}: core {result['decisions_per_s']}/s, freed p99 "
            f"{result['agent_freed'].get('p99_us')} us"
        )
        if count == gc_check_at:
            progress(f"N={count}: the same loop again with the garbage collector on")
            with_gc = run_.run(core_iterations, gc_enabled=True)
            progress(f"N={count}: and with the thresholds `ringway serve` sets")
            tuned = run_.run(core_iterations, gc_enabled=True, gc_thresholds=SERVE_GC)
            gc_check = {
                "agents": count,
                "decisions_per_s": with_gc["decisions_per_s"],
                "agent_freed": with_gc["agent_freed"],
                "contact_arrived": with_gc["contact_arrived"],
                "gc": with_gc["gc"],
                "serve_thresholds": {
                    "thresholds": list(SERVE_GC),
                    "decisions_per_s": tuned["decisions_per_s"],
                    "agent_freed_p99_us": tuned["agent_freed"].get("p99_us"),
                    "gc": tuned["gc"],
                },
            }
        progress(f"N={count}: naive x{naive_iterations} in lock-step with the core")
        slow = naive_lockstep(run_, naive_iterations)
        baseline[str(count)] = slow
        ratio[str(count)] = {
            "decisions_per_s": _div(result["decisions_per_s"], slow["decisions_per_s"]),
            "agent_freed_p50": _div(slow["agent_freed"]["p50_us"], result["agent_freed"]["p50_us"]),
            "contact_arrived_p50": _div(
                slow["contact_arrived"]["p50_us"], result["contact_arrived"]["p50_us"]
            ),
        }
        progress(f"N={count}: naive {slow['decisions_per_s']}/s; core/naive {ratio[str(count)]}")
    first, last = str(min(agent_counts)), str(max(agent_counts))
    growth = {
        "agents": [int(first), int(last)],
        "core_agent_freed_p50": _div(
            core[last]["agent_freed"]["p50_us"], core[first]["agent_freed"]["p50_us"]
        ),
        "core_contact_arrived_p50": _div(
            core[last]["contact_arrived"]["p50_us"], core[first]["contact_arrived"]["p50_us"]
        ),
        "naive_contact_arrived_p50": _div(
            baseline[last]["contact_arrived"]["p50_us"],
            baseline[first]["contact_arrived"]["p50_us"],
        ),
        "agents_ratio": round(int(last) / int(first), 2),
    }
    return {
        "benchmark": "router.routing",
        "python": platform.python_version(),
        "gc": "disabled during timed loops (see gc_enabled_check for the same loop with it on)",
        "workload": {
            "skills": len(SKILLS),
            "queues": 20,
            "waiting": waiting,
            "agent_counts": list(agent_counts),
            "seed": seed,
            "step_s": STEP_S,
        },
        "core": core,
        "naive": baseline,
        "core_vs_naive": ratio,
        "gc_enabled_check": gc_check,
        "growth_p50": growth,
        "goal": _goal(core),
    }


def _goal(core: dict[str, Any]) -> dict[str, Any]:
    at = core.get("2000")
    worst_rate = min(r["decisions_per_s"] for r in core.values())
    out: dict[str, Any] = {
        "decisions_per_s_min_over_n": worst_rate,
        "decisions_per_s_target": GOAL_DECISIONS_PER_S,
        "p99_ms_target_at_2000": GOAL_P99_MS_AT_2000,
    }
    if at is not None:
        p99 = max(at["agent_freed"]["p99_us"], at["contact_arrived"]["p99_us"]) / 1000
        out["p99_ms_at_2000"] = round(p99, 3)
        out["met"] = worst_rate >= GOAL_DECISIONS_PER_S and p99 < GOAL_P99_MS_AT_2000
    return out


def _div(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main() -> None:
    result = run()
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
