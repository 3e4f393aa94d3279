"""Supervisor monitoring of a bridged call: the command, its checks, and the
interface the telephony driver implements.

``POST /api/v1/contacts/{id}/monitor`` with ``{"mode": "listen" | "whisper" |
"barge", "extension": "2001"}`` asks the driver to call the supervisor's phone
(``extension``, registered with the SIP registrar) and, once it answers, to
mix it into the call (`ivr.media.conference.Conference`). Posting again with
another mode switches mode; ``DELETE`` ends monitoring.

The API checks what it can see before asking the driver: the contact exists
(404), is a voice call bridged to an agent — status ``connected`` and the
driver holds its bridge (409 ``not_bridged``) — and telephony is running
(503 ``telephony_unavailable``). The driver raises the errors below for what
only it can see (the supervisor's phone is not registered or does not answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ivr.media.mixer import MixMode
from router.errors import RoutingError


class MonitorError(RoutingError):
    code = "monitor_failed"
    status = 409


class NotBridged(MonitorError):
    code = "not_bridged"


class ExtensionUnavailable(MonitorError):
    """The supervisor's extension has no registered phone, or it did not answer."""

    code = "extension_unavailable"


class NotMonitored(MonitorError):
    code = "not_monitored"
    status = 404


class TelephonyUnavailable(MonitorError):
    code = "telephony_unavailable"
    status = 503


@dataclass(frozen=True, kw_only=True, slots=True)
class MonitorSession:
    contact_id: str
    supervisor_extension: str
    mode: MixMode
    started_at: float  # epoch seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "extension": self.supervisor_extension,
            "mode": self.mode.value,
            "started_at": self.started_at,
        }


class CallControl(Protocol):
    """What the telephony driver offers for monitoring (wired by the SIP side)."""

    def is_bridged(self, contact_id: str) -> bool:
        """True while the contact's caller leg is bridged to an agent's phone."""
        ...

    async def monitor(
        self, contact_id: str, supervisor_extension: str, mode: MixMode
    ) -> MonitorSession:
        """Start monitoring (ring the extension, then mix it in) or switch the mode of
        a running session. Raises `NotBridged` or `ExtensionUnavailable`."""
        ...

    async def stop_monitor(self, contact_id: str) -> None:
        """Hang up the supervisor's leg and restore the plain bridge; `NotMonitored`
        if nobody monitors the contact."""
        ...
