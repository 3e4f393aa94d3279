"""The shapes around `ringway.service.RoutingService`: what integrations hand it
(`NewContact`), what websockets read through it (`RoutingReads`), and what a
cluster node must provide to host its router (`RouterHost`).

Kept apart so the service module holds only the driver; `ringway.service`
re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from router import events as ev
from router.agents import Agent
from router.errors import RoutingError
from router.model import Channel, Contact, Reservation
from router.queues import Queue
from router.store.base import EventLog

if TYPE_CHECKING:
    from crm.lookup import LookupResult
    from ringway.metrics import Snapshot
    from ringway.service import RoutingService


class ChannelMismatch(RoutingError):
    code = "channel_mismatch"
    status = 422


@dataclass(frozen=True, slots=True, kw_only=True)
class NewContact:
    """A contact as an integration (IVR, chat widget, mail intake, REST) announces it."""

    channel: Channel
    queue: str | None = None
    entry_point: str | None = None
    origin: str | None = None  # CLI or sender address
    language: str | None = None
    priority: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    preferred_agent: str | None = None  # e.g. who handled the e-mail thread before
    exclusive_agent: bool = False  # True: only preferred_agent is ever offered it
    # The customer lookup on `origin` the integration already made (the B2BUA does, at
    # INVITE): used instead of a second one. Local only; never sent to another node.
    lookup: LookupResult | None = field(default=None, compare=False, repr=False)


class ReservationReader(Protocol):
    def get_reservation(self, reservation_id: str) -> Reservation | None: ...


class RoutingReads(Protocol):
    """What websockets read to build frames: the `Router` itself where it runs, else a
    cluster follower's replica of its records (`ringway.cluster.replica`)."""

    @property
    def agents(self) -> Mapping[str, Agent]: ...
    @property
    def queues(self) -> Mapping[str, Queue]: ...
    @property
    def store(self) -> ReservationReader: ...
    def agent(self, agent_id: str) -> Agent: ...
    def contact(self, contact_id: str) -> Contact: ...
    def queue_snapshot(self, name: str, now: float) -> dict[str, Any]: ...


class RouterHost(Protocol):
    """Where the router lives when it is not simply this process's (``ringway.cluster``)."""

    @property
    def events(self) -> EventLog:
        """The committed events this node has published (subscribers' backlog)."""

    async def start(self, service: RoutingService, first_seq: int) -> None: ...
    async def stop(self) -> None: ...
    def before_command(self, name: str) -> None:
        """Raise a `RoutingError` (503) when a command cannot be committed here now."""

    def after_command(self, events: list[ev.Event]) -> None:
        """The router changed: commit it, then call `publish_committed`."""

    def not_leader(self) -> RoutingError: ...
    def snapshot(self) -> Snapshot | None: ...

    @property
    def reads(self) -> RoutingReads:
        """The records this node's websockets read while it does not route."""

    async def call(self, name: str, **args: Any) -> dict[str, Any]:
        """Run a named routing command wherever the router is (`ringway.cluster.rpc.CALLS`)."""

    async def create_contact(self, new: NewContact) -> Contact:
        """Queue a contact through the node that routes."""
