"""``/calls``: SIP calls in progress, recent call detail records, registered phones.

Supervisors only. Mounted by the app when the SIP edge runs (``ringway serve``
with SIP on); the contact of a call is under ``/contacts/{id}`` as usual (its
``attributes.sip_call_id`` links the two).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ringway.api.deps import Supervisor
from ringway.telephony import Telephony
from router.errors import NotFound

router = APIRouter(prefix="/calls", tags=["calls"])


async def get_telephony(request: Request) -> Telephony:
    telephony: Telephony | None = request.app.state.telephony
    if telephony is None:  # the app was built without SIP
        raise NotFound("SIP is not enabled on this node")
    return telephony


Calls = Annotated[Telephony, Depends(get_telephony)]


@router.get("")
async def list_calls(
    telephony: Calls, _: Supervisor, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    """Calls in progress (phase, contact, agent) and the latest call detail records."""
    active = [driver.summary() for driver in telephony.b2bua.drivers.values()]
    recent = list(telephony.centre.cdrs)[-limit:][::-1]
    return {"active": active, "recent": recent}


@router.get("/phones")
async def phones(telephony: Calls, _: Supervisor) -> dict[str, Any]:
    """Registered contacts per extension (RFC 3261 §10.3 bindings still live)."""
    now = telephony.edge.now()
    registrar = telephony.registrar
    return {
        "phones": {ext: registrar.contacts_for(ext, now) for ext in sorted(registrar.credentials)}
    }


@router.get("/{call_id}")
async def get_call(call_id: str, telephony: Calls, _: Supervisor) -> dict[str, Any]:
    driver = telephony.b2bua.drivers.get(call_id)
    if driver is not None:
        return driver.summary()
    for record in reversed(telephony.centre.cdrs):
        if record.get("call_id") == call_id:
            return dict(record)
    raise NotFound(f"no call {call_id!r}")
