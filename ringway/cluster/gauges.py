"""Live queue and agent gauges, from the leader's router to every follower's /metrics.

Counters and rolling KPIs are computed by each node from the events it replays,
so they agree by construction. What is *now* (contacts waiting, agents per state)
lives only in the leader's router: the leader writes it to Redis with a batch at
most once a second, and followers read it while they watch the lease.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from ringway.metrics import QueueView, Snapshot
from router.engine import Router
from router.stats import StatsBook


def gauges_json(router: Router, now: float) -> bytes:
    queues = {}
    for name in router.queues:
        live = router.queue_snapshot(name, now)
        queues[name] = [live["waiting"], live["offered"], live["oldest_wait"]]
    agents = Counter(agent.state.value for agent in router.agents.values())
    return orjson.dumps({"at": now, "queues": queues, "agents": agents})


def follower_snapshot(doc: dict[str, Any], stats: StatsBook, now: float) -> Snapshot:
    """The leader's gauges (oldest waits aged to ``now``) with this node's own KPIs."""
    elapsed = max(0.0, now - float(doc["at"]))
    queues = [
        QueueView(
            name,
            waiting,
            ringing,
            oldest + elapsed if waiting + ringing else 0.0,
            stats.queue_kpis(name, now),
        )
        for name, (waiting, ringing, oldest) in doc["queues"].items()
    ]
    return Snapshot(queues, dict(doc["agents"]))
