"""``/queues``: live state (waiting, ringing, oldest wait, agents) and rolling KPIs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ringway.api.deps import AnyUser, Service
from ringway.service import RoutingService

router = APIRouter(prefix="/queues", tags=["queues"])


def queue_view(service: RoutingService, name: str, now: float) -> dict[str, Any]:
    queue = service.router.queues[name]
    return {
        **service.router.queue_snapshot(name, now),
        "kpis": service.stats.queue_kpis(name, now).to_dict(),
        "service_level": queue.service_level.to_dict(),
        "sla_by_tier": {tier: sla.to_dict() for tier, sla in queue.sla_by_tier.items()},
        "strategy": queue.strategy,
        "requirement": str(queue.requirement),
    }


@router.get("")
async def list_queues(service: Service, _: AnyUser) -> dict[str, Any]:
    now = service.now()
    return {"queues": [queue_view(service, name, now) for name in service.router.queues]}


@router.get("/{name}")
async def get_queue(name: str, service: Service, _: AnyUser) -> dict[str, Any]:
    now = service.now()
    service.router.queue_snapshot(name, now)  # raises UnknownQueue (404) first
    view = queue_view(service, name, now)
    view["config"] = service.router.queues[name].to_dict()
    view["waiting_contacts"] = [
        {"id": c.id, "status": c.status.value, "tier": c.tier, "wait": c.wait(now)}
        for c in service.router.waiting(name)
    ]
    return view
