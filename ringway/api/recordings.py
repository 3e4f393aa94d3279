"""Recordings and supervisor monitoring, supervisor/admin only.

``GET /contacts/{id}/recordings`` and ``GET /customers/{id}/recordings`` list
metadata; ``GET /recordings/{rid}`` downloads the WAV and ``DELETE`` erases it
(admin only). ``POST`` / ``DELETE /contacts/{id}/monitor`` start (or switch)
and end silent listen, whisper or barge through the telephony driver's
`CallControl`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import Field

from ivr.media.mixer import MixMode
from ringway.api.deps import Body, Service, Supervisor
from ringway.auth import Principal, Role, require
from ringway.calls import CallRecords
from ringway.monitoring import CallControl, NotBridged, TelephonyUnavailable
from ringway.service import RoutingService
from router.errors import NotFound
from router.model import Channel, ContactStatus

router = APIRouter(tags=["recordings"])


class UnknownRecording(NotFound):
    code = "unknown_recording"


class RecordingFileMissing(NotFound):
    """The row is there, the file is not (deleted or moved by hand): 410 Gone."""

    code = "recording_file_missing"
    status = 410


async def get_calls(request: Request) -> CallRecords:
    calls: CallRecords = request.app.state.calls
    return calls


Calls = Annotated[CallRecords, Depends(get_calls)]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("/contacts/{contact_id}/recordings")
async def contact_recordings(
    contact_id: str, service: Service, calls: Calls, _: Supervisor
) -> dict[str, Any]:
    found = await calls.recordings.store.for_contact(contact_id)
    if not found:
        service.router.contact(contact_id)  # an unknown contact is a 404, not an empty list
    return {"contact_id": contact_id, "recordings": [m.to_dict() for m in found]}


@router.get("/customers/{customer_id}/recordings")
async def customer_recordings(
    customer_id: str, service: Service, calls: Calls, _: Supervisor
) -> dict[str, Any]:
    found = await calls.recordings.store.for_customer(customer_id)
    if not found and await service.customers.get(customer_id) is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    return {"customer_id": customer_id, "recordings": [m.to_dict() for m in found]}


@router.get(
    "/recordings/{recording_id}",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "The WAV file"}},
)
async def download_recording(recording_id: str, calls: Calls, _: Supervisor) -> FileResponse:
    store = calls.recordings.store
    meta = await store.get(recording_id)
    if meta is None:
        raise UnknownRecording(f"unknown recording {recording_id!r}")
    path = store.file_of(meta)
    if not path.is_file():
        raise RecordingFileMissing(f"recording {recording_id} is listed but its file is gone")
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"{recording_id}.wav",
        headers={"X-Content-SHA256": meta.sha256},
    )


@router.delete("/recordings/{recording_id}", status_code=204)
async def delete_recording(recording_id: str, calls: Calls, _: Admin) -> None:
    """Erase a recording (a customer's erasure request, retention): admin only."""
    if await calls.recordings.store.delete(recording_id) is None:
        raise UnknownRecording(f"unknown recording {recording_id!r}")


class MonitorIn(Body):
    mode: MixMode = MixMode.LISTEN
    extension: str = Field(pattern=r"^[A-Za-z0-9_.+\-]{1,64}$", description="Supervisor's phone")


def _bridged_call(contact_id: str, service: RoutingService, calls: CallRecords) -> CallControl:
    """The driver holding the contact's bridged call; 404/409/503 otherwise."""
    contact = service.router.contact(contact_id)
    if contact.channel is not Channel.VOICE or contact.status is not ContactStatus.CONNECTED:
        raise NotBridged(
            f"contact {contact_id} is a {contact.channel.value} contact in status "
            f"{contact.status.value}; only a connected voice call can be monitored"
        )
    control = calls.call_control
    if control is None:
        raise TelephonyUnavailable("telephony is not running (start with --sip-port)")
    if not control.is_bridged(contact_id):
        raise NotBridged(f"contact {contact_id} has no bridged call on this node")
    return control


@router.post("/contacts/{contact_id}/monitor")
async def start_monitor(
    contact_id: str, body: MonitorIn, service: Service, calls: Calls, _: Supervisor
) -> dict[str, Any]:
    control = _bridged_call(contact_id, service, calls)
    session = await control.monitor(contact_id, body.extension, body.mode)
    return {"monitor": session.to_dict()}


@router.delete("/contacts/{contact_id}/monitor", status_code=204)
async def stop_monitor(contact_id: str, service: Service, calls: Calls, _: Supervisor) -> None:
    service.router.contact(contact_id)
    control = calls.call_control
    if control is None:
        raise TelephonyUnavailable("telephony is not running (start with --sip-port)")
    await control.stop_monitor(contact_id)
