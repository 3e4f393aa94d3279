"""``GET /healthz``: public liveness for load balancers and ``make run``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ringway.api.deps import Service

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(service: Service) -> dict[str, Any]:
    router_ = service.router
    return {
        "status": "ok",
        "queues": len(router_.queues),
        "agents": len(router_.agents),
        "last_seq": router_.store.events.last_seq,
    }
