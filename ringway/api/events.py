"""``/events``: the router's numbered event stream, paged from the in-memory log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ringway.api.deps import Service, Supervisor

router = APIRouter(prefix="/events", tags=["events"])


@router.get("")
async def list_events(
    service: Service,
    _: Supervisor,
    after: int = Query(0, ge=0, description="Return events with seq > after"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    log = service.router.store.events
    found = log.read(after, limit)
    return {"events": [e.to_dict() for e in found], "last_seq": log.last_seq}
