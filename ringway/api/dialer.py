"""``/dialer``: outbound campaigns (supervisors) and the internal do-not-call list.

Campaigns are posted as their YAML file (``Content-Type: application/yaml`` or
text), lists as CSV: the answer is the import's row-by-row report, so nothing
is silently dropped. Bad input answers 422 with the located problem
(``spring.yaml:3: mode: ...``) and changes nothing. A DNC entry (any signed-in
user: the agent who hears "do not call me" records it) is effective at once:
the next dial of that number is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from dialer.errors import DialerError
from ringway.api.deps import AnyUser, Body, Supervisor
from ringway.dialer_live.service import DialerService, UnknownCampaign
from router.errors import RoutingError

router = APIRouter(prefix="/dialer", tags=["dialer"])
MAX_UPLOAD = 20 * 1024 * 1024  # a list of a few hundred thousand rows


class DialerDisabled(RoutingError):
    code = "dialer_disabled"
    status = 503


class DialerInvalid(RoutingError):
    code = "invalid_dialer_input"
    status = 422


class CampaignNotFound(RoutingError):
    code = "unknown_campaign"
    status = 404


async def get_dialer(request: Request) -> DialerService:
    dialer: DialerService | None = getattr(request.app.state, "dialer", None)
    if dialer is None:
        raise DialerDisabled("the dialer is not enabled (no SIP edge or no trunk configured)")
    return dialer


Dialer = Annotated[DialerService, Depends(get_dialer)]


class DncIn(Body):
    number: str = Field(min_length=3, max_length=40)
    reason: str = Field(default="", max_length=200)


def _refusal(exc: DialerError) -> RoutingError:
    if isinstance(exc, UnknownCampaign):
        return CampaignNotFound(str(exc))
    return DialerInvalid(str(exc))


async def _text(request: Request) -> str:
    raw = await request.body()
    if len(raw) > MAX_UPLOAD:
        raise DialerInvalid(f"body larger than {MAX_UPLOAD} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DialerInvalid(f"body is not UTF-8 (byte {exc.start})") from None


@router.get("/campaigns")
async def campaigns(dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    return {"campaigns": [dialer.status(name) for name in sorted(dialer.campaigns)]}


@router.post("/campaigns")
async def load_campaign(request: Request, dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    """Create or replace a campaign from its YAML (not while it runs)."""
    try:
        campaign = dialer.add_campaign_text(await _text(request), "<request body>")
    except DialerError as exc:
        raise _refusal(exc) from None
    return dialer.status(campaign.name)


@router.get("/campaigns/{name}")
async def campaign_status(name: str, dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    try:
        return dialer.status(name)
    except DialerError as exc:
        raise _refusal(exc) from None


@router.post("/campaigns/{name}/lists")
async def import_list(name: str, request: Request, dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    source = request.query_params.get("source", "<request body>")
    try:
        report = dialer.import_list(name, await _text(request), source)
    except DialerError as exc:
        raise _refusal(exc) from None
    return report.to_dict()


@router.post("/campaigns/{name}/start")
async def start(name: str, dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    try:
        dialer.start_campaign(name)
        return dialer.status(name)
    except DialerError as exc:
        raise _refusal(exc) from None


@router.post("/campaigns/{name}/stop")
async def stop(name: str, dialer: Dialer, _: Supervisor) -> dict[str, Any]:
    try:
        await dialer.stop_campaign(name)
        return dialer.status(name)
    except DialerError as exc:
        raise _refusal(exc) from None


@router.post("/dnc")
async def add_dnc(body: DncIn, dialer: Dialer, principal: AnyUser) -> dict[str, Any]:
    source = f"{principal.role.label}:{principal.id}"
    try:
        number = dialer.add_dnc(body.number, source, body.reason)
    except DialerError as exc:
        raise _refusal(exc) from None
    return {"number": number, "source": source, "effective": "immediately"}
