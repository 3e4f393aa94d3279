"""Supervisor monitoring over SIP: the `ringway.monitoring.CallControl` of the B2BUA.

``POST /api/v1/contacts/{id}/monitor`` → `Monitoring.monitor`: INVITE the
supervisor's registered phone (a third UAC leg with its own RTP port), and
once it answers mix it into the bridged call (`ivr.media.conference`) in
listen, whisper or barge mode; again with another mode switches the mode.
`stop_monitor`, the supervisor hanging up, a transfer or the end of the call
stop the conference (the plain bridge comes back) and release the phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.calls.b2bua import B2bua
from ivr.calls.driver import CallDriver
from ivr.calls.media import MediaLeg
from ivr.calls.outbound import OutboundCall
from ivr.calls.session import Phase
from ivr.media.conference import Conference
from ivr.media.mixer import MixMode
from ivr.sip.offer_answer import Negotiated
from ringway.monitoring import ExtensionUnavailable, MonitorSession, NotBridged, NotMonitored

if TYPE_CHECKING:
    from ringway.telephony import RouterCentre

RING_TIMEOUT_S = 20.0  # the supervisor's phone must answer within this


class SupervisorLeg:
    """The observer of the INVITE to the supervisor's phone."""

    def __init__(self, monitoring: Monitoring, contact_id: str) -> None:
        self.monitoring = monitoring
        self.contact_id = contact_id
        self.answered: asyncio.Future[Negotiated] = asyncio.get_running_loop().create_future()

    def on_ringing(self) -> None:
        pass

    def on_answered(self, media: Negotiated) -> None:
        if not self.answered.done():
            self.answered.set_result(media)

    def on_failed(self, status: int) -> None:
        if not self.answered.done():
            self.answered.set_exception(
                ExtensionUnavailable(f"the supervisor's phone answered {status}")
            )

    def on_ended(self) -> None:  # the supervisor hung up: the call goes on unmonitored
        self.monitoring.release(self.contact_id, hang_up=False)

    def on_refer(self, refer_to: str) -> int:
        return 405


@dataclass(slots=True)
class Monitor:
    session: MonitorSession
    leg: MediaLeg
    call: OutboundCall
    conference: Conference


class Monitoring:
    def __init__(self, centre: RouterCentre, b2bua: B2bua) -> None:
        self.centre = centre
        self.b2bua = b2bua
        self.monitors: dict[str, Monitor] = {}

    def _driver(self, contact_id: str) -> CallDriver | None:
        driver = self.centre.by_contact.get(contact_id)
        return driver if driver is not None and driver.phase is Phase.BRIDGED else None

    def is_bridged(self, contact_id: str) -> bool:
        return self._driver(contact_id) is not None

    async def monitor(
        self, contact_id: str, supervisor_extension: str, mode: MixMode
    ) -> MonitorSession:
        running = self.monitors.get(contact_id)
        if running is not None:
            running.conference.set_mode(mode)
            running.session = MonitorSession(
                contact_id=contact_id,
                supervisor_extension=running.session.supervisor_extension,
                mode=mode,
                started_at=running.session.started_at,
            )
            return running.session
        driver = self._driver(contact_id)
        edge = self.b2bua.edge
        if driver is None or edge is None:
            raise NotBridged(f"contact {contact_id} has no bridged call on this node")
        contacts = self.centre.registrar.contacts_for(supervisor_extension, edge.now())
        if not contacts:
            raise ExtensionUnavailable(f"extension {supervisor_extension} has no registered phone")
        leg = MediaLeg(edge.host, self.b2bua.rng)
        await leg.open()
        observer = SupervisorLeg(self, contact_id)
        call = OutboundCall(
            edge,
            target=contacts[0],
            caller=f"<sip:monitor@{edge.host}>",
            local=leg.matching(driver.media.caller),
            observer=observer,
            rng=self.b2bua.rng,
            headers=(("X-Ringway-Contact", contact_id),),
        )
        call.start()
        try:
            media = await asyncio.wait_for(observer.answered, RING_TIMEOUT_S)
        except (TimeoutError, ExtensionUnavailable) as exc:
            call.cancel()
            leg.close()
            if isinstance(exc, ExtensionUnavailable):
                raise
            raise ExtensionUnavailable(
                f"extension {supervisor_extension} did not answer in {RING_TIMEOUT_S:.0f} s"
            ) from None
        if self._driver(contact_id) is not driver:  # the call ended while it rang
            call.hang_up()
            leg.close()
            raise NotBridged(f"contact {contact_id}'s call ended")
        leg.connect(media)
        conference = Conference(
            caller=driver.media.caller.endpoint,
            agent=driver.media.agent.endpoint,
            supervisor=leg.endpoint,
            mode=mode,
            rng=self.b2bua.rng,
        )
        conference.start()
        session = MonitorSession(
            contact_id=contact_id,
            supervisor_extension=supervisor_extension,
            mode=mode,
            started_at=time.time(),
        )
        self.monitors[contact_id] = Monitor(session, leg, call, conference)
        driver.before_unbridge.append(lambda: self.release(contact_id, hang_up=True))
        return session

    async def stop_monitor(self, contact_id: str) -> None:
        if contact_id not in self.monitors:
            raise NotMonitored(f"nobody monitors contact {contact_id}")
        self.release(contact_id, hang_up=True)

    def release(self, contact_id: str, *, hang_up: bool) -> None:
        """Stop the conference (the plain bridge is back), then let the phone go."""
        monitor = self.monitors.pop(contact_id, None)
        if monitor is None:
            return
        monitor.conference.stop()
        if hang_up:
            monitor.call.hang_up()
        with contextlib.suppress(Exception):
            monitor.leg.close()
