"""``/cdrs``: call detail records by start time, supervisor/admin only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ringway.api.deps import Supervisor
from ringway.api.recordings import Calls
from router.errors import RoutingError

router = APIRouter(prefix="/cdrs", tags=["cdrs"])


class BadRange(RoutingError):
    code = "invalid_range"
    status = 422


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


@router.get("")
async def list_cdrs(
    calls: Calls,
    _: Supervisor,
    from_: Annotated[datetime, Query(alias="from", description="ISO-8601; naive is UTC")],
    to: Annotated[datetime, Query(description="Exclusive end, ISO-8601")],
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict[str, Any]:
    """Calls that started in [from, to), oldest first."""
    start, end = _epoch(from_), _epoch(to)
    if end <= start:
        raise BadRange(f"'to' ({to.isoformat()}) must be after 'from' ({from_.isoformat()})")
    found = await calls.cdrs.store.between(start, end, limit)
    return {"cdrs": [cdr.to_dict() for cdr in found], "count": len(found)}
