"""Telephony wired to the routing service: the SIP edge, the B2BUA and the router.

    telephony = Telephony(service, TelephonySettings(host="127.0.0.1", port=5060), credentials)
    await telephony.start();  ...;  await telephony.stop()

`RouterCentre` is the B2BUA's `ContactCentre`: customer lookup through the
service's `CustomerLookup` (time-boxed), `RoutingService.create_contact` for a
routed call (a voice contact with the CLI as origin, the IVR's attributes and
the SIP Call-ID in `sip_call_id`; the pop travels with it), router commands
for offers (accept, reject → RONA), hang-ups (end) and transfers. It follows
the router's events for the calls it carries: an offer of a call's contact
rings the agent's registered phone; an offer the router takes back (RONA
timeout, rescind) cancels the ringing leg; a desktop transfer requeues it.

On a cluster every node's edge takes calls: the router is reached only through
the node-agnostic paths (`RoutingService.create_contact`, `.call`, `.reads`,
the replayed events), so a follower carries calls the leader routes, and a
phone registered on any node is rung by the node carrying the call
(`ringway.cluster.phones`).

Recordings and call detail records are kept by `ringway.telephony_records`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.lookup import LookupResult
from ivr.calls import events as ce
from ivr.calls.b2bua import B2bua
from ivr.calls.driver import CallDriver
from ivr.calls.errors import RoutingRefused
from ivr.calls.flow import FlowRunLike
from ivr.calls.session import Phase, QueueHold
from ivr.edge import SipEdge
from ivr.flows import DEMO_FLOWS, FlowRun, FlowSet, load_flows
from ivr.media.audio import announcement
from ivr.media.recorder import Recorder
from ivr.registrar import Registrar
from ringway.bus import Listener
from ringway.caller_lookups import CallerLookups
from ringway.calls import CallRecords
from ringway.cluster import ClusterNode
from ringway.cluster.phones import SharedPhones
from ringway.config import RingwayConfig
from ringway.service import (
    NewContact,
    RoutingService,
    create_contact_now,
    end_contact,
    local_router,
    new_contact_id,
    routes_here,
)
from ringway.telephony_forward import LOCAL_COMMANDS, CommandForwarder
from ringway.telephony_monitor import Monitoring
from ringway.telephony_records import CallArchive, caller_number
from router import events as ev
from router.engine import Router
from router.errors import RoutingError
from router.model import Channel, Contact, ContactStatus
from router.record import slot_constructor

log = logging.getLogger(__name__)

SIP_PASSWORD_ENV = "RINGWAY_SIP_PASSWORD_{extension}"
DEFAULT_AHT_S = 180.0  # expected-wait estimate before a queue has handled any call
AGENT_TARGET = "agent:"  # the router's ContactTransferred target for a direct transfer
_ENDED_BY_ROUTER = (ev.ContactCancelled, ev.ContactEnded, ev.ContactAbandoned)
# The kinds of router event `RouterCentre.on_event` acts on. The feed is handed only
# these: a batch of others (a contact queued, an agent's state) schedules no hand-over.
CALL_EVENT_KINDS = frozenset(
    kind.kind
    for kind in (
        ev.ContactOffered,
        ev.OfferRejected,
        ev.OfferRescinded,
        *_ENDED_BY_ROUTER,
        ev.ContactOverflowed,
        ev.ContactTransferred,
    )
)
# A routed call's `NewContact`, every field positionally (`slot_constructor`): the
# keyword constructor of the frozen record cost ~3 times as much, per call.
_make_new_contact = slot_constructor(NewContact)


@dataclass(frozen=True, slots=True, kw_only=True)
class TelephonySettings:
    host: str = "127.0.0.1"
    port: int = 5060
    flows: Path | None = None  # IVR flow file; default: the demo flows
    announce_every_s: float | None = 30.0  # position / expected-wait announcements
    hold_prompt: str = "music_on_hold"
    realm: str = "ringway"
    cdr_keep: int = 1000


def sip_credentials(
    config: RingwayConfig, env: Mapping[str, str] = os.environ
) -> tuple[dict[str, str], dict[str, str]]:
    """Digest passwords per agent extension: ``RINGWAY_SIP_PASSWORD_<ext>`` from the
    environment, else a random one generated now (returned second, for the banner).
    Any other ``RINGWAY_SIP_PASSWORD_<ext>`` adds a phone (a supervisor's)."""
    credentials: dict[str, str] = {}
    generated: dict[str, str] = {}
    for agent in config.agents:
        extension = agent.extension
        if not extension:
            continue
        password = env.get(SIP_PASSWORD_ENV.format(extension=extension))
        if password is None:
            password = generated[extension] = secrets.token_urlsafe(12)
        credentials[extension] = password
    prefix = SIP_PASSWORD_ENV.format(extension="")
    for name, password in env.items():  # other phones, e.g. supervisors' for monitoring
        if name.startswith(prefix) and len(name) > len(prefix):
            credentials.setdefault(name.removeprefix(prefix), password)
    return credentials, generated


class RouterCentre:
    """The router side of the B2BUA, on a `RoutingService`."""

    def __init__(
        self,
        service: RoutingService,
        flows: FlowSet,
        registrar: Registrar,
        settings: TelephonySettings,
        rng: random.Random,
        calls: CallRecords | None = None,
    ) -> None:
        self.service = service
        self.flows = flows
        self.registrar = registrar
        self.settings = settings
        self.rng = rng
        self.by_contact: dict[str, CallDriver] = {}
        self.archive = CallArchive(service, calls, settings.cdr_keep)
        self.b2bua: B2bua | None = None
        self.forwarder = CommandForwarder(service, self.by_contact.get)
        self.shared_phones: SharedPhones | None = None  # a cluster's phones on other nodes
        self.lookups = CallerLookups()  # the B2BUA's lookups, for the calls' contacts
        self._holds: dict[str, QueueHold] = {}  # queue_hold's answers, by queue

    # -- set-up --------------------------------------------------------------------------

    async def customer_for(self, cli: str | None, call_id: str) -> dict[str, Any] | None:
        result = await self.service.lookup.lookup_cli(cli)
        return self._customer(result, cli, call_id)

    def customer_now(self, cli: str | None, call_id: str) -> tuple[bool, dict[str, Any] | None]:
        """`customer_for` without waiting, when the lookup needs no I/O: (True, record);
        (False, None) when it would wait (then the B2BUA awaits `customer_for`)."""
        result = self.service.lookup.lookup_cli_now(cli)
        if result is None:
            return False, None
        return True, self._customer(result, cli, call_id)

    def _customer(
        self, result: LookupResult, cli: str | None, call_id: str
    ) -> dict[str, Any] | None:
        self.lookups.keep(call_id, cli, result)  # for the contact, if the IVR queues soon
        # the record the IVR greets (its FlowRun copies it) and the set-up reads the id of:
        # a repeat caller's is built once per record version (`LookupResult.customer_dict`)
        return result.customer_dict()

    def new_flow(
        self, dialed: str, customer: dict[str, Any] | None, cli: str | None
    ) -> FlowRunLike:
        """The IVR for the dialed user; attribute ``cli`` (E.164) is the callback number."""
        name = self.flows.entry_for(dialed)
        number = caller_number(cli, self.service.config.service.default_region)
        attributes = {} if number is None else {"cli": number}
        # positionally (flows, flow_name, customer, attributes, rng): once per call
        return FlowRun(self.flows, name, customer, attributes, self.rng)

    async def create_contact(
        self,
        *,
        call_id: str,
        cli: str | None,
        queue: str,
        attributes: dict[str, str],
        priority: int,
    ) -> str:
        contact_id = new_contact_id()
        new = _make_new_contact(
            Channel.VOICE,  # channel
            queue,
            None,  # entry_point
            cli,  # origin
            None,  # language
            priority,
            self._attributes(attributes, call_id),
            contact_id,  # id
            None,  # preferred_agent
            False,  # exclusive_agent
            self.lookups.claim(call_id, cli),  # lookup
        )
        driver = self._driver_for_call(call_id)
        if driver is not None:
            # before it exists: on a cluster follower, the leader's offer can be replayed
            # here before the forwarded create_contact answers
            self.by_contact[contact_id] = driver
        try:
            contact = await self.service.create_contact(new)
        except RoutingError as exc:
            self.by_contact.pop(contact_id, None)
            refused = RoutingRefused(exc.message)
            refused.__cause__ = exc  # compiled, mypyc drops `raise ... from`
            raise refused  # noqa: B904 (the cause is set above)
        return self._queued(contact)

    def create_contact_now(
        self, call_id: str, cli: str | None, queue: str, attributes: dict[str, str], priority: int
    ) -> str | None:
        """`create_contact` without waiting, where nothing needs it: this node routes and
        the B2BUA's lookup of the caller is still fresh (`CallerLookups`). The contact id;
        None when it would wait (the driver then awaits `create_contact`, which looks the
        caller up again or forwards to the leader). Raises `RoutingRefused`."""
        service = self.service
        if not routes_here(service):
            return None  # a cluster follower: the leader creates it (a round trip)
        lookup = self.lookups.claim(call_id, cli)
        if lookup is None:
            return None  # looked up again, in the awaited path (I/O)
        contact_id = new_contact_id()
        driver = self._driver_for_call(call_id)
        if driver is not None:
            self.by_contact[contact_id] = driver  # as in create_contact
        try:
            contact = create_contact_now(  # `service.create_contact_now`, compiled
                service,
                contact_id,
                Channel.VOICE,
                queue,
                cli,  # origin
                priority,
                self._attributes(attributes, call_id),
                lookup,
            )
        except RoutingError as exc:
            self.by_contact.pop(contact_id, None)
            refused = RoutingRefused(exc.message)
            refused.__cause__ = exc  # compiled, mypyc drops `raise ... from`
            raise refused  # noqa: B904 (the cause is set above)
        if contact is None:  # cannot happen: it routes here (checked above)
            self.by_contact.pop(contact_id, None)
            return None
        return self._queued(contact)

    def _queued(self, contact: Contact) -> str:
        """The id of a contact the router took (queued, or offered at once); refused
        otherwise (e.g. ended on arrival)."""
        status = contact.status
        if status is not ContactStatus.QUEUED and status is not ContactStatus.OFFERED:
            self.by_contact.pop(contact.id, None)
            raise RoutingRefused(f"contact {contact.id} is {contact.status.value}")
        return contact.id

    def _attributes(self, attributes: dict[str, str], call_id: str) -> dict[str, Any]:
        """The IVR's attributes, the SIP Call-ID and, on a cluster, the node whose SIP
        edge carries the call (`cluster.phones`)."""
        carried = {**attributes, "sip_call_id": call_id}
        host = self.service.host
        if isinstance(host, ClusterNode):
            carried["sip_node"] = host.node_id
        return carried

    async def create_callback(self, *, call_id: str, queue: str, number: str) -> None:
        channel = self.service.reads.queues[queue].channel
        new = NewContact(
            channel=channel,
            queue=queue,
            origin=number,
            attributes={"callback_number": number, "sip_call_id": call_id},
        )
        await self.service.create_contact(new)

    def _driver_for_call(self, call_id: str) -> CallDriver | None:
        return self.b2bua.drivers.get(call_id) if self.b2bua is not None else None

    # -- the agent leg -------------------------------------------------------------------

    def phone_of(self, agent_id: str) -> str | None:
        """The agent's phone: registered here, else (a cluster) on another node."""
        try:
            extension = self.service.reads.agent(agent_id).extension
        except RoutingError:
            return None
        if not extension:
            return None
        local = self.local_phone(extension)
        if local is None and self.shared_phones is not None:
            return self.shared_phones.contact_for(extension)
        return local

    def local_phone(self, extension: str) -> str | None:
        contacts = self.registrar.contacts_for(extension, asyncio.get_running_loop().time())
        return contacts[0] if contacts else None

    def accept(self, agent_id: str, contact_id: str) -> None:
        self._command("accept", contact_id, agent_id=agent_id, contact_id=contact_id)

    def reject(self, agent_id: str, contact_id: str, status: int) -> None:
        """RONA as the core defines it: `reject` (agent not-ready, contact back in place);
        a phone that is not registered at all counts as the agent's line disconnected."""
        if status == 480:
            self._command("agent_disconnected", contact_id, agent_id=agent_id)
        else:
            self._command("reject", contact_id, agent_id=agent_id, contact_id=contact_id)

    def end(self, contact_id: str) -> None:
        """`_command` ``end``, without its argument dict or `LOCAL_COMMANDS`' interpreted
        lambda: every routed call ends its contact (the caller hung up, or the agent)."""
        service = self.service
        router = local_router(service)  # `service.reads` where it routes, without the property
        if router is None:
            reads = service.reads  # (raises where the service is not started)
            if not isinstance(reads, Router):
                self.forwarder.send("end", contact_id, {"contact_id": contact_id})
                return
            router = reads
        try:
            end_contact(service, router, contact_id)
        except RoutingError as exc:
            log.info("telephony: %s refused: %s", "end", exc)

    def transfer(self, agent_id: str, contact_id: str, target: str) -> str | None:
        if target.startswith(AGENT_TARGET):
            other = target.removeprefix(AGENT_TARGET)
            return self._command(
                "transfer_to_agent",
                contact_id,
                agent_id=agent_id,
                contact_id=contact_id,
                target=other,
            )
        return self._command(
            "transfer", contact_id, agent_id=agent_id, contact_id=contact_id, queue=target
        )

    def transfer_target(self, user: str) -> str | None:
        reads = self.service.reads
        queue = reads.queues.get(user)
        if queue is not None and queue.channel is Channel.VOICE:
            return user
        for agent in reads.agents.values():
            if user and agent.extension == user:
                return f"{AGENT_TARGET}{agent.id}"
        return None

    def _command(self, name: str, about: str, **args: str) -> str | None:
        """Run a routing command (`ringway.cluster.rpc.CALLS` names and arguments); its
        refusal as text (e.g. the offer was already withdrawn, the queue is full), or None.

        Where this node routes, at once, as it always did; on a cluster follower it is
        forwarded to the leader (`RoutingService.call`) in the background, in order per
        contact, and None means only "sent" (see `ringway.telephony_forward`)."""
        router = self.service.reads  # where this node routes, its `Router` itself
        if not isinstance(router, Router):
            self.forwarder.send(name, about, args)  # `about`: the contact, for ordering
            return None
        run = LOCAL_COMMANDS[name]
        try:
            self.service.execute(name, lambda now: run(router, args, now))
        except RoutingError as exc:
            log.info("telephony: %s refused: %s", name, exc)
            return exc.message
        return None

    # -- announcements and records -------------------------------------------------------

    def announcement(self, contact_id: str) -> Sequence[str]:
        reads = self.service.reads
        try:
            contact = reads.contact(contact_id)
            snapshot = reads.queue_snapshot(contact.queue, self.service.now())
            if isinstance(reads, Router):
                ids = [c.id for c in reads.waiting(contact.queue)]
                position = ids.index(contact_id) + 1 if contact_id in ids else 1
            else:  # a follower's replica keeps no queue order: the count behind us at worst
                position = max(1, int(snapshot["waiting"]))
        except RoutingError:
            return []
        kpis = self.service.stats.queue_kpis(contact.queue, self.service.now())
        aht = kpis.aht or DEFAULT_AHT_S
        staffed = max(1, sum(n for s, n in snapshot["agents"].items() if s != "offline"))
        minutes = math.ceil(position * aht / staffed / 60)
        return announcement(position, minutes)

    def queue_hold(self, queue: str) -> QueueHold:
        """The queue's ``hold`` settings: music on hold, announcements (both by default)."""
        hold = self._holds.get(queue)
        if hold is None:
            # once per queue: the service's configuration is fixed for its lifetime, and
            # hold_for builds a default settings model on every call
            doc = self.service.config.hold_for(queue)
            hold = self._holds[queue] = QueueHold(music=doc.music, announcements=doc.announcements)
        return hold

    # -- recording and call detail records (`ringway.telephony_records`) ----------------

    def recording_announcement(self, contact_id: str) -> str | None:
        return self.archive.recording_announcement(contact_id)

    def start_recording(self, contact_id: str, call_id: str) -> Recorder | None:
        return self.archive.start_recording(contact_id, call_id)

    def stop_recording(self, call_id: str) -> None:
        self.archive.stop_recording(call_id)

    def record(self, cdr: dict[str, Any]) -> None:
        contact_id = cdr.get("contact_id")
        if contact_id is not None:
            self.by_contact.pop(contact_id, None)
        self.archive.record(cdr)

    @property
    def cdrs(self) -> deque[dict[str, Any]]:
        return self.archive.cdrs

    async def close(self) -> None:
        """Wait for forwarded commands, recordings and CDRs still being written."""
        await self.forwarder.close()
        await self.archive.close()

    def call_started(self, driver: CallDriver) -> None:
        pass

    def call_finished(self, driver: CallDriver) -> None:
        self.lookups.forget(driver.call.call_id)
        contact_id = driver.contact_id
        if contact_id is not None:
            self.by_contact.pop(contact_id, None)

    # -- router events -------------------------------------------------------------------

    def on_event(self, event: ev.Event) -> None:
        contact_id = getattr(event, "contact_id", None)
        driver = self.by_contact.get(contact_id) if contact_id else None
        if driver is None:
            return
        if isinstance(event, ev.ContactOffered):
            driver.handle(ce.AgentOffered(agent_id=event.agent_id))
        elif isinstance(event, ev.OfferRejected | ev.OfferRescinded):
            driver.handle(ce.OfferWithdrawn(agent_id=event.agent_id, reason=event.reason))
        elif isinstance(event, _ENDED_BY_ROUTER) or (
            isinstance(event, ev.ContactOverflowed) and event.target is None
        ):
            # someone else ended the contact (a supervisor's cancel, the desktop's
            # end, maximum wait): hang the call up; our own router.end arrives here
            # too, after the session has ended, and is ignored there
            driver.handle(ce.CallEnded(side="router", reason=event.kind))
        elif isinstance(event, ev.ContactTransferred) and driver.phase is Phase.BRIDGED:
            # a REFER, the desktop or REST moved the contact: release the agent's phone
            driver.handle(ce.Transferred(agent_id=event.agent_id, target=event.target))


class Telephony:
    """The SIP edge with its B2BUA, started and stopped with the service."""

    def __init__(
        self,
        service: RoutingService,
        settings: TelephonySettings,
        credentials: Mapping[str, str],
        *,
        flows: FlowSet | None = None,
        rng: random.Random | None = None,
        calls: CallRecords | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.rng = rng if rng is not None else random.Random(os.urandom(16))
        self.registrar = Registrar(
            credentials=credentials, realm=settings.realm, secret=os.urandom(32), rng=self.rng
        )
        self.flows = flows if flows is not None else load_flows(settings.flows or DEMO_FLOWS)
        self.centre = RouterCentre(
            service, self.flows, self.registrar, settings, self.rng, calls=calls
        )
        self.b2bua = B2bua(
            self.centre,
            host=settings.host,
            rng=self.rng,
            announce_every=settings.announce_every_s,
            hold_prompt=settings.hold_prompt,
        )
        self.centre.b2bua = self.b2bua
        self.edge = SipEdge(
            settings.host,
            settings.port,
            credentials,
            handler=self.b2bua,
            rng=self.rng,
            registrar=self.registrar,
        )
        self.b2bua.attach(self.edge)
        service.add_transcript_source(self.centre.archive.history_note)  # calls in the history
        self.monitoring = Monitoring(self.centre, self.b2bua)
        if calls is not None:
            calls.call_control = self.monitoring  # POST /contacts/{id}/monitor reaches us
        self.credentials = credentials
        self._feed: Listener | None = None
        self._phones: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return self.edge.port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.centre.archive.loop_offset = time.time() - loop.time()
        await self.edge.start()
        # the router events of calls, handed over on the loop without a task of its own
        self._feed = self.service.listen(self._on_event, CALL_EVENT_KINDS)
        host = self.service.host
        if isinstance(host, ClusterNode):  # phones registered on any node ring from here
            extensions = sorted(self.credentials)
            local = self.centre.local_phone
            shared = SharedPhones(host.redis, host.keys, host.node_id, extensions, local)
            self.centre.shared_phones = shared
            running = shared.run(self.service, lambda: host.is_leader)
            self._phones = loop.create_task(running, name="telephony-phones")

    async def stop(self) -> None:
        await self.b2bua.stop()
        await self.centre.close()
        if self._phones is not None:
            self._phones.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._phones
        if self._feed is not None:
            self._feed.stop()
            self.service.unsubscribe(self._feed)
            self._feed = None
        await self.edge.stop()

    def _on_event(self, event: ev.Event) -> None:
        try:
            self.centre.on_event(event)
        except Exception:  # one call's trouble must not stop every other call
            log.exception("telephony: event %s failed", event.seq)
