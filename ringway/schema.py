"""The configuration file's schema (YAML), as pydantic models.

The service and the simulator read the same schema, so a planner's scenario
declares queues and agents exactly as production does. Field names are the
YAML keys; `ringway.config` turns a validated document into router objects.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceLevelDoc(Strict):
    target: float = Field(0.8, gt=0, le=1)
    threshold_s: float = Field(20.0, gt=0)


class RelaxationDoc(Strict):
    """From ``after_s`` of wait: ``or`` widens, ``and`` adds a requirement, ``replace`` swaps."""

    after_s: float = Field(gt=0)
    or_: str | None = Field(None, alias="or")
    and_: str | None = Field(None, alias="and")
    replace: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def one_mode(self) -> RelaxationDoc:
        given = [m for m in (self.or_, self.and_, self.replace) if m is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'or', 'and', 'replace'")
        return self


class CalendarDoc(Strict):
    """Opening hours, e.g. ``{timezone: Europe/London, days: mon-fri, opens: "08:00"}``."""

    timezone: str = "UTC"
    days: str = "mon-fri"
    opens: str = "08:00"
    closes: str = "18:00"
    holidays: list[str] = []


class QueueDoc(Strict):
    name: str = Field(min_length=1)
    channel: Literal["voice", "chat", "email", "callback", "outbound", "task"] = "voice"
    requires: str = "*"
    service_level: ServiceLevelDoc | None = None
    sla_by_tier: dict[str, ServiceLevelDoc] | None = None
    strategy: str = "longest-idle"
    priority: int = 0
    tier_priority: dict[str, int] | None = None
    ageing_per_s: float = Field(0.0, ge=0)
    sl_weight: float = Field(10.0, ge=0)
    starvation_s: float | None = Field(None, gt=0)
    max_wait_s: float | None = Field(None, gt=0)
    max_size: int | None = Field(None, ge=1)
    overflow: str | None = None
    relaxation: list[RelaxationDoc] = []
    offer_timeout_s: float | None = Field(None, gt=0)
    wrap_up_s: float | None = Field(None, ge=0)
    # tier ("*" for every tier) -> a calendar name from routing.calendars, or inline hours
    hours: dict[str, str | CalendarDoc] = {}
    after_hours: str | None = None


class CapacityDoc(Strict):
    maximum: dict[str, int]
    weight: dict[str, float] = {}
    budget: float | None = Field(None, gt=0)
    exclusive: list[str] | None = None


class AgentDoc(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str | None = None
    extension: str | None = None
    skills: dict[str, int] = {}
    # Either a plain per-channel maximum ({voice: 1, chat: 3}) or the full form.
    capacity: dict[str, int] | CapacityDoc | None = None
    password_hash: str | None = None
    password_env: str | None = None


class UserDoc(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    role: Literal["agent", "supervisor", "admin"]
    name: str | None = None
    password_hash: str | None = None
    password_env: str | None = None


class ServiceDoc(Strict):
    host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    data_dir: str = "var"
    customer_store: str = "sqlite:///{data_dir}/customers.sqlite3"
    event_log: str = "{data_dir}/events.sqlite3"
    metrics_public: bool = True
    lookup_timeout_ms: int = Field(250, ge=1)
    default_region: str = "US"
    token_ttl_s: int = Field(12 * 3600, ge=60)
    token_secret_env: str = "RINGWAY_TOKEN_SECRET"
    admin_token_env: str = "RINGWAY_ADMIN_TOKEN"
    explain_detail_limit: int = Field(50, ge=0)
    stats_window_s: float = Field(1800.0, gt=0)
    seed_demo_customers: bool = False


class RoutingDoc(Strict):
    offer_timeout_s: float = Field(15.0, gt=0)
    wrap_up_s: float = Field(30.0, ge=0)
    tier_priority: dict[str, int] = {"gold": 30, "silver": 20, "bronze": 0}
    entry_points: dict[str, str] = {}  # DNIS / widget id / mailbox -> queue
    default_queues: dict[str, str] = {}  # channel -> queue when nothing else says
    # Named calendars queues refer to in `hours`. The seeds give Bronze phone access in
    # office hours only; a queue opts in with `hours: {bronze: office}`.
    calendars: dict[str, CalendarDoc] = {"office": CalendarDoc()}


class ConfigDoc(Strict):
    service: ServiceDoc = ServiceDoc()
    routing: RoutingDoc = RoutingDoc()
    skills: list[str] = []
    queues: list[QueueDoc] = Field(min_length=1)
    agents: list[AgentDoc] = []
    users: list[UserDoc] = []
