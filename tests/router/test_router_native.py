"""The compiled build (router._native): used by the tests, ignored when stale, and
deciding exactly as the interpreted modules do.

`make test` builds it (`make native`) before pytest runs, so these tests fail if
the suite would otherwise be testing only the pure-Python modules, or if the
compiled and interpreted routers ever disagree on a decision.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import router._native as native
import router.engine
import router.matching
import simulation.twin

ROOT = Path(__file__).resolve().parents[2]

# Two seeded simulations (multi-skill day with breaks and abandons; skills pooling)
# and one service-style router run (the write-through MemoryStore, rejects, RONA,
# transfers, wrap-up): every result and every event, as JSON.
DECISIONS = r"""
import hashlib, json, random, sys
from pathlib import Path
import router.engine
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue
from router.skills import parse
from router.store.memory import MemoryStore
from simulation.loader import load_scenario
from simulation.replication import run_replication

out = {"engine": router.engine.__file__}
for name in ("contact_centre_day", "skills_pooling"):
    scenario = load_scenario(Path("simulation/scenarios") / f"{name}.yaml")
    data = run_replication(scenario, scenario.staff, 0)
    out[name] = [data.queues, data.agents, data.contacts, data.events, data.unfinished]

store = MemoryStore()
queues = [
    Queue(name="sales", channel=Channel.VOICE, requirement=parse("sales>=2")),
    Queue(name="care", channel=Channel.VOICE, requirement=parse("care | sales")),
    Queue(name="chat", channel=Channel.CHAT, requirement=parse("*")),
]
r = Router(queues, rng=random.Random(5), store=store)
blend = capacity_from({"voice": 1, "chat": 3}, budget=3)
for i in range(12):
    skills = {"sales": 1 + i % 4} if i % 3 else {"care": 2, "sales": 1}
    r.add_agent(Agent(id=f"a{i}", name=f"A{i}", skills=skills, capacity=blend), 0.0)
    r.login(f"a{i}", 0.0, ready=True)
rng, now = random.Random(11), 0.0
for n in range(3000):
    now += rng.expovariate(1.0)
    r.tick(now)
    if rng.random() < 0.45:
        q = rng.choice(queues)
        tier = rng.choice([None, "gold", "silver"])
        c = Contact(id=f"c{n}", channel=q.channel, queue=q.name, created_at=now, tier=tier)
        r.contact_arrived(c, now)
    for res in r.reservations():
        roll = rng.random()
        if roll < 0.6:
            r.accept(res.agent_id, res.contact_id, now)
        elif roll < 0.7:
            r.reject(res.agent_id, res.contact_id, now)
    for c in r.live_contacts():
        if c.answered_at is not None and c.ended_at is None and rng.random() < 0.2:
            r.end(c.id, now)
    if rng.random() > 0.97:
        agent = f"a{rng.randrange(12)}"
        try:
            if rng.random() < 0.5:
                r.set_not_ready(agent, "break", now)
            else:
                r.set_ready(agent, now)
        except Exception as exc:
            out.setdefault("refused", []).append(type(exc).__name__)
events = [e.to_dict() for e in store.events.read(0, 10**9)]
digest = hashlib.sha256(json.dumps(events, sort_keys=True, default=str).encode()).hexdigest()
out["router"] = [len(events), digest]
json.dump(out, sys.stdout, sort_keys=True, default=str)
"""


def run_decisions(pure: bool) -> dict[str, object]:
    env = {**os.environ, native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", DECISIONS], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_test_run_uses_the_compiled_router() -> None:
    # `make test` runs `make native` first; a stale or missing build would leave
    # every other test checking only the interpreted modules.
    assert native.native_enabled(), "no usable build/native: run `make native`"
    for module in (router.engine, router.matching, simulation.twin):
        assert native.is_compiled(module), f"{module.__name__} loaded from {module.__file__}"


def test_compiled_and_interpreted_routers_decide_alike() -> None:
    compiled, pure = run_decisions(pure=False), run_decisions(pure=True)
    assert str(compiled.pop("engine")).endswith(".so")
    assert str(pure.pop("engine")).endswith(".py")
    events, _ = pure["router"]  # type: ignore[misc]
    assert events > 2500  # the run did route: offers, accepts, rejects, not-ready
    assert compiled == pure


def test_a_changed_source_makes_the_build_stale(tmp_path: Path) -> None:
    source = tmp_path / "router" / "engine.py"
    source.parent.mkdir()
    source.write_text("x = 1\n", encoding="utf-8")
    manifest = {
        "abi": native.abi_tag(),
        "sources": {"router/engine.py": native.source_digest(source)},
    }
    assert native.stale_reason(manifest, tmp_path) is None
    source.write_text("x = 2\n", encoding="utf-8")
    assert native.stale_reason(manifest, tmp_path) == "router/engine.py changed since the build"
    source.unlink()
    assert native.stale_reason(manifest, tmp_path) == "router/engine.py is gone"


def test_a_build_for_another_interpreter_is_not_used(tmp_path: Path) -> None:
    manifest = {"abi": "cpython-310-other", "sources": {"a.py": "0"}}
    reason = native.stale_reason(manifest, tmp_path)
    assert reason is not None and reason.startswith("built for cpython-310-other")
    assert native.stale_reason({"abi": native.abi_tag(), "sources": {}}, tmp_path) == (
        "the manifest lists no sources"
    )


def test_packages_resolve_from_any_working_directory(tmp_path: Path) -> None:
    # `ringway serve` runs from a data directory, not the checkout: the compiled
    # build must not turn build/native/ivr into a namespace package `ivr` there.
    probe = (
        "import router.engine, ivr.edge, ivr.sip.errors, simulation.twin, sys;"
        "print(ivr.__file__, ivr.edge.__file__, router.engine.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-1500:]
    package, edge, engine = done.stdout.split()
    assert package == str(ROOT / "ivr" / "__init__.py")
    assert edge.endswith(".so") and engine.endswith(".so")
