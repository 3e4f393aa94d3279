"""Channel drivers: how a customer's contact reaches the service, one class per channel.

A driver plays the *customer* side of one contact at a time (`arrive`) and tells
the agents' side how to recognise its contacts in an offer (`key_of`). The
agents are channel-neutral: they accept, talk, end and complete whatever they
are offered. Adding a channel is one subclass registered under the channel's
name (``voice``: SIP callers, `simulation.loadtest.voice`).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ringway.config import RingwayConfig
from simulation.loadtest.errors import ErrorLog
from simulation.loadtest.ledger import Ledger
from simulation.loadtest.plan import QueuePlan


@dataclass(frozen=True, slots=True)
class Arrival:
    """One contact to make: its queue and what the scenario drew for it (wall seconds)."""

    number: int
    queue: QueuePlan
    patience_s: float  # math.inf: never gives up


@dataclass(frozen=True, slots=True)
class Target:
    """Where the service listens, as the load test's options give it."""

    http_url: str  # http(s)://host:port
    smtp: tuple[str, int] | None = None
    run_id: str = "run"
    sip: tuple[str, int] | None = None  # the SIP edge (UDP)
    ivr: Path | None = None  # the IVR flow file the target answers calls with (None: demo)

    @property
    def ws_url(self) -> str:
        return "ws" + self.http_url.removeprefix("http")


class ChannelDriver(ABC):
    channel: ClassVar[str]

    def __init__(self, target: Target, ledger: Ledger, errors: ErrorLog) -> None:
        self.target, self.ledger, self.errors = target, ledger, errors

    @staticmethod
    @abstractmethod
    def address_of(config: RingwayConfig, queue: str) -> str | None:
        """The entry point reaching ``queue`` (None: the channel's default does);
        raises `LoadTestError` when nothing routes there."""

    @staticmethod
    @abstractmethod
    def key_of(contact: Mapping[str, Any]) -> str | None:
        """The ledger key of an offered contact (the offer's ``contact``), if it is ours."""

    def prepare(self, queues: list[QueuePlan]) -> None:
        """Learn the queues this driver will play (before `check`)."""
        return None  # most channels need nothing beyond each arrival's queue plan

    def check(self) -> None:
        """Check the options this channel needs, before any network (raise `LoadTestError`)."""
        return None  # most channels need nothing beyond --target

    async def preflight(self) -> None:
        """Check the channel's endpoint answers before the run (raise `LoadTestError`)."""
        return None  # most channels have nothing to check beyond the target's health

    @abstractmethod
    async def arrive(self, arrival: Arrival) -> None:
        """Play one customer from arrival to the end of their contact."""

    async def stop(self) -> None:
        """The run is over: customers still waiting leave (they count as unfinished)."""
        return None  # a driver whose customers never wait (e-mail) has nothing to do

    async def close(self) -> None:
        """Every customer has left: release the driver's sockets."""
        return None

    @staticmethod
    def now() -> float:
        return time.monotonic()


def registry() -> dict[str, type[ChannelDriver]]:
    """Drivers by channel name."""
    from simulation.loadtest.chat import ChatDriver
    from simulation.loadtest.mail import EmailDriver
    from simulation.loadtest.voice import VoiceDriver

    return {driver.channel: driver for driver in (ChatDriver, EmailDriver, VoiceDriver)}
