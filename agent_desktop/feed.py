"""Router events to desktop frames: who is told what, as it happens.

* The agent an event concerns gets it on their own session: state changes,
  offers (with the screen-pop), the offer withdrawn, a contact started, its
  wrap-up (and extensions), completion, a transfer away.
* Every supervisor session gets each agent state change at once (one body,
  serialised once, with each session's own seq spliced in); queue figures come
  once a second from the hub's ticker.

An offer's pop needs the customer's history (I/O), so it is sent from a task;
the task sends nothing if the offer ended meanwhile, and a withdrawal is only
announced for an offer whose frame went out. So a desktop never shows an offer
that is gone, nor a withdrawal of one it never saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_desktop.outbox import body
from agent_desktop.pop import History, fetch_history, screen_pop
from agent_desktop.session import Session
from agent_desktop.views import agent_row, contact_view, routing_reason
from ringway.dialer_live.preview import PREVIEW_KEY
from router import events as ev
from router.errors import RoutingError
from router.model import Contact, Reservation

if TYPE_CHECKING:
    from agent_desktop.hub import Hub

log = logging.getLogger(__name__)


class Feed:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[type[ev.Event], Callable[[Any], None]] = {
            ev.AgentStateChanged: self._agent_state,
            ev.ContactOffered: self._offered,
            ev.OfferRejected: self._withdrawn,
            ev.OfferRescinded: self._withdrawn,
            ev.OfferAccepted: self._accepted,
            ev.ContactEnded: self._wrap_up,
            ev.WrapUpExtended: self._wrap_up,
            ev.ContactCompleted: self._completed,
            ev.ContactTransferred: self._transferred,
        }

    def dispatch(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ----------------------------------------------------------------- agents

    def agent_record(self, agent_id: str, at: float) -> None:
        """Send the agent their own record (state, reason, pending change, contacts)."""
        agent = self.hub.service.reads.agents.get(agent_id)
        if agent is not None:
            self.agent_frame(agent.to_dict(self.hub.service.now()), at)

    def agent_frame(self, agent: dict[str, Any], at: float) -> None:
        """``agent`` (an `Agent.to_dict`) to that agent's own desktop."""
        session = self.hub.agent_session(agent["id"])
        if session is not None:
            session.push({"type": "agent_state", "at": at, "agent": agent})

    def _agent_state(self, event: ev.AgentStateChanged) -> None:
        self.agent_record(event.agent_id, event.at)
        supervisors = self.hub.supervisor_sessions()
        agent = self.hub.service.reads.agents.get(event.agent_id)
        if supervisors and agent is not None:
            text = body({"type": "agent_state", "at": event.at, "agent": agent_row(agent)})
            for session in supervisors:
                session.push_body(text)

    # ------------------------------------------------------------------ offers

    def _offered(self, event: ev.ContactOffered) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is None:
            return
        task = asyncio.get_running_loop().create_task(self._send_offer(session, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_offer(self, session: Session, event: ev.ContactOffered) -> None:
        try:
            contact = self.hub.service.reads.contact(event.contact_id)
            history = await self.history(contact.customer_id)
            router = self.hub.service.reads  # after the await: this node may lead by now
            agent = router.agent(event.agent_id)
        except RoutingError:
            return
        reservation = router.store.get_reservation(event.reservation_id)
        live = agent.reservation == event.reservation_id and reservation is not None
        if not live or reservation is None or event.reservation_id in session.sent_offers:
            return  # accepted, withdrawn or already shown (a snapshot) meanwhile
        if self.hub.agent_session(event.agent_id) is session:
            session.push(self.offer_frame(session, reservation, contact, history))

    def offer_frame(
        self, session: Session, reservation: Reservation, contact: Contact, history: History
    ) -> dict[str, Any]:
        """The offer as sent (and as a snapshot carries it); marks it shown."""
        session.sent_offers.add(reservation.id)
        decision = contact.decisions[-1] if contact.decisions else None
        pop = screen_pop(contact, history, routing_reason(decision))
        frame: dict[str, Any] = {
            "type": "offer",
            "contact_id": contact.id,
            "reservation_id": reservation.id,
            "queue": reservation.queue,
            "channel": contact.channel.value,
            "deadline": reservation.deadline,
            "expires_in": max(0.0, reservation.deadline - self.hub.service.now()),
            "pop": pop,
            "contact": contact_view(contact, self.hub.channel_views),
        }
        lead = contact.attributes.get(PREVIEW_KEY)
        if isinstance(lead, dict):  # the dialer's preview: a lead to read before the dial
            frame["type"] = "preview"
            frame["lead"] = lead
            frame["customer"] = pop["customer"]
            frame["deadline"] = lead["deadline"]
            frame["expires_in"] = max(0.0, lead["deadline"] - self.hub.service.now())
        return frame

    async def history(self, customer_id: str | None) -> History:
        hub = self.hub
        timeout_s = hub.config.service.lookup_timeout_ms / 1000
        return await fetch_history(
            hub.service.customers, customer_id, hub.config.desktop.history_items, timeout_s
        )

    def _withdrawn(self, event: ev.OfferRejected | ev.OfferRescinded) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is None or event.reservation_id not in session.sent_offers:
            return
        session.sent_offers.discard(event.reservation_id)
        session.push(
            {
                "type": "offer_withdrawn",
                "contact_id": event.contact_id,
                "reservation_id": event.reservation_id,
                "reason": event.reason,
            }
        )

    # ---------------------------------------------------------------- contacts

    def _accepted(self, event: ev.OfferAccepted) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is None:
            return
        session.sent_offers.discard(event.reservation_id)
        self._contact_frame(session, "contact_started", event.contact_id)

    def _contact_frame(self, session: Session, kind: str, contact_id: str) -> None:
        try:
            contact = self.hub.service.reads.contact(contact_id)
        except RoutingError:
            return
        session.push({"type": kind, "contact": contact_view(contact, self.hub.channel_views)})

    def _wrap_up(self, event: ev.ContactEnded | ev.WrapUpExtended) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is not None:
            session.push(
                {"type": "wrap_up", "contact_id": event.contact_id, "wrap_until": event.wrap_until}
            )

    def _completed(self, event: ev.ContactCompleted) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is not None:
            session.push(
                {
                    "type": "contact_completed",
                    "contact_id": event.contact_id,
                    "disposition": event.disposition,
                    "auto": event.auto,
                }
            )

    def _transferred(self, event: ev.ContactTransferred) -> None:
        session = self.hub.agent_session(event.agent_id)
        if session is not None:
            session.push(
                {
                    "type": "contact_removed",
                    "contact_id": event.contact_id,
                    "reason": "transferred",
                    "target": event.target,
                }
            )
