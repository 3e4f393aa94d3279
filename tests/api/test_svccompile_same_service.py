"""The routing service, its event bus and its metrics compiled (build/native) and
interpreted (``RINGWAY_PURE=1``) do the same: one scripted run through each, in a child
process, gives the same events (pop data included), the same contacts and the same
metrics exposition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from router import _native as native

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import asyncio, json, sys, tempfile
from pathlib import Path
sys.path.insert(0, "tests/api")
from conftest import config_in
from prometheus_client import generate_latest
from prometheus_client import metrics as prometheus_metrics
from crm.demo import seed
from crm.memory import MemoryCustomerStore
import ringway.bus, ringway.metrics, ringway.service
from ringway.service import NewContact, RoutingService
from router.model import Channel

prometheus_metrics._use_created = False  # wall-clock samples: not comparable
now = [1_800_000_000.0]


async def main(data: Path) -> dict:
    store = MemoryCustomerStore()
    await seed(store)
    service = RoutingService(config_in(data), store, clock=lambda: now[0])
    await service.start()
    seen = []
    service.listen(lambda event: seen.append(event.to_dict()))
    router = service.router
    service.execute("login", lambda at: router.login("alice", at, ready=True))
    made = []
    for number, origin in enumerate(["+442079460958", "+447700900456", "+15550001111", None]):
        now[0] += 1.5
        new = NewContact(channel=Channel.VOICE, queue="support", origin=origin,
                         id=f"c-{number}", attributes={"n": str(number)})
        made.append((await service.create_contact(new)).id)
    now[0] += 2.0
    service.execute("accept", lambda at: router.accept("alice", "c-0", at))
    now[0] += 30.0
    service.execute("end", lambda at: router.end("c-0", at))
    now[0] += 4.0
    await service.complete("alice", "c-0", disposition="resolved", notes="ok")
    service.execute("end", lambda at: router.end("c-3", at))  # hung up in the queue
    await asyncio.sleep(0)  # the listener's hand-over
    contacts = [router.contact(i).attributes for i in made]
    await service.stop()
    exposition = generate_latest(service.metrics.registry).decode().splitlines()
    reservations = {}  # the router draws their ids at random: numbered as they appear
    for event in seen:
        if event.get("reservation_id"):
            event["reservation_id"] = reservations.setdefault(
                event["reservation_id"], len(reservations))
    return {
        "modules": [m.__file__ for m in (ringway.bus, ringway.metrics, ringway.service)],
        "events": seen,
        "contacts": contacts,
        # decision times are measured: only their counts compare
        "metrics": [
            line for line in exposition
            if not line.startswith("ringway_routing_decision_seconds_")
            or "_count" in line
        ],
    }


with tempfile.TemporaryDirectory() as tmp:
    json.dump(asyncio.run(main(Path(tmp))), sys.stdout, default=str)
"""


def run(pure: bool) -> dict[str, object]:
    env = {**os.environ, native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(not native.native_enabled(), reason="no usable build/native")
def test_compiled_and_interpreted_service_agree() -> None:
    compiled, pure = run(pure=False), run(pure=True)
    assert all(str(f).endswith(".so") for f in compiled["modules"])  # type: ignore[attr-defined]
    assert all(str(f).endswith(".py") for f in pure["modules"])  # type: ignore[attr-defined]
    events = compiled["events"]
    assert isinstance(events, list)
    kinds = [event["kind"] for event in events]
    assert kinds.count("contact_queued") == 4 and "contact_completed" in kinds, kinds
    pops = [contact["pop"] for contact in compiled["contacts"]]  # type: ignore[attr-defined]
    assert pops[0]["status"] == "matched" and pops[2]["status"] == "unknown", pops
    assert any("ringway_events_total" in line for line in compiled["metrics"])  # type: ignore[attr-defined]
    for key in ("events", "contacts", "metrics"):
        assert compiled[key] == pure[key], key
