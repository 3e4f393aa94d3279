"""Which agents a campaign may dial for now: its queue's agents, minus inbound's share.

An agent counts for the campaign when logged in and qualified for its
outbound queue (the queue's requirement, plus the campaign's own ``skills``
expression and ``agents`` list when it names them). A *ready* one is free for
a new line only if `dialer.blending.Blender` agrees that every inbound voice
queue the agent also serves keeps its service level without them (Erlang C on
the queue's arrival rate and handle time over the stats window, nobody
waiting). Inbound keeps priority anyway: the agent stays ready in the router,
so an inbound call arriving meanwhile is offered to them first.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.blending import Blender, QueueLoad
from dialer.campaign import Campaign
from ringway.service import RoutingService
from router.agents import AgentState
from router.model import Channel
from router.queues import Queue
from router.skills import parse

DEFAULT_AHT_S = 180.0  # before a queue has handled a call
INBOUND = (Channel.VOICE, Channel.CALLBACK)


@dataclass(frozen=True, slots=True)
class Pool:
    logged_in: int
    free: int  # ready and spared by inbound
    held_for_inbound: int  # ready, but inbound needs them
    reasons: tuple[str, ...] = ()
    free_ids: tuple[str, ...] = ()  # the free ones, longest idle first (preview picks)


def campaign_pool(service: RoutingService, campaign: Campaign, blender: Blender) -> Pool:
    router = service.router
    queue = router.queues.get(campaign.queue or "")
    if queue is None:
        return Pool(0, 0, 0, (f"queue {campaign.queue!r} is not configured",))
    extra = parse(campaign.skills) if campaign.skills else None
    agents = [
        a
        for a in router.agents.values()
        if a.state is not AgentState.OFFLINE
        and queue.requirement_at(0).matches(a.skills)
        and (extra is None or extra.matches(a.skills))
        and (not campaign.agents or a.id in campaign.agents)
    ]
    inbound = [q for q in router.queues.values() if q.channel in INBOUND]
    loads: dict[str, QueueLoad] = {}
    free = held = 0
    reasons: list[str] = []
    free_ids: list[str] = []
    for agent in sorted(agents, key=lambda a: a.idle_since):
        if agent.state is not AgentState.READY:
            continue
        serves = [q for q in inbound if q.requirement_at(0).matches(agent.skills)]
        for q in serves:
            if q.name not in loads:
                loads[q.name] = _load(service, q)
        decision = blender.may_go_outbound([q.name for q in serves], loads)
        if decision.allowed:
            free += 1
            free_ids.append(agent.id)
        else:
            held += 1
            reasons.extend(f"{agent.id} stays inbound: {r}" for r in decision.reasons)
    return Pool(len(agents), free, held, tuple(reasons), tuple(free_ids))


def _load(service: RoutingService, queue: Queue) -> QueueLoad:
    now = service.now()
    kpis = service.stats.queue_kpis(queue.name, now)
    snapshot = service.router.queue_snapshot(queue.name, now)
    staffed = sum(n for state, n in snapshot["agents"].items() if state != "offline")
    return QueueLoad(
        name=queue.name,
        arrival_rate=kpis.offered / kpis.window_s,
        aht_s=kpis.aht or DEFAULT_AHT_S,
        inbound_agents=staffed,
        waiting=snapshot["waiting"],
        sl_target=queue.service_level.target,
        sl_threshold_s=queue.service_level.threshold_s,
    )
