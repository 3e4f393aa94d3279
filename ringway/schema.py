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


class RecordingDoc(Strict):
    """Call recording for a queue's calls (docs/recording.md); off unless enabled."""

    enabled: bool = False
    # A prompt name (ivr/media/prompts/<name>.wav) played to the caller before recording.
    announcement: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]{1,100}$")
    format: Literal["stereo", "mono"] = "stereo"  # stereo: caller left, agent right


class HoldDoc(Strict):
    """What a voice queue's callers hear from Ringway while they wait (README, Telephony).

    Both on by default. ``{music: false, announcements: false}``: nothing at all, for a
    centre whose trunk or PBX in front plays its own, or that wants callers to wait in
    silence. A queue that records still plays its recording notice (docs/recording.md).
    """

    music: bool = True  # music on hold
    announcements: bool = True  # position and expected wait, every 30 s


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
    recording: RecordingDoc = RecordingDoc()
    hold: HoldDoc = HoldDoc()


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


class ClusterDoc(Strict):
    """Scale-out settings, used only with ``service.redis_url`` (see ``ringway.cluster``)."""

    tenant: str = Field("default", pattern=r"^[A-Za-z0-9_.\-]+$")  # key prefix in Redis
    lease_ms: int = Field(3000, ge=200)  # leader lease: failover happens within about this
    command_ttl_ms: int = Field(5000, ge=100)  # a forwarded command not run by then is dropped
    keep_events: int = Field(1_000_000, ge=1000)  # events kept in the Redis stream
    keep_finished: int = Field(10_000, ge=0)  # finished contacts kept in Redis for the API


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
    # Unset: one node, state in memory. Set (redis://host:port/db): nodes share Redis,
    # one of them leads (routes) under a lease, the others forward to it.
    redis_url: str | None = None
    node_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+$")  # default: host-pid
    cluster: ClusterDoc = ClusterDoc()
    smtp_port: int | None = Field(None, ge=0, le=65535)  # the e-mail intake; None: off
    recordings_dir: str = "{data_dir}/recordings"  # call recordings (WAV)
    call_records: str = "{data_dir}/calls.sqlite3"  # CDRs and recording metadata (SQLite)
    mail_cases: str = "{data_dir}/mail.sqlite3"  # e-mail cases, written before SMTP 250


class RoutingDoc(Strict):
    offer_timeout_s: float = Field(15.0, gt=0)
    wrap_up_s: float = Field(30.0, ge=0)
    tier_priority: dict[str, int] = {"gold": 30, "silver": 20, "bronze": 0}
    entry_points: dict[str, str] = {}  # DNIS / widget id / mailbox -> queue
    default_queues: dict[str, str] = {}  # channel -> queue when nothing else says
    # Named calendars queues refer to in `hours`. The seeds give Bronze phone access in
    # office hours only; a queue opts in with `hours: {bronze: office}`.
    calendars: dict[str, CalendarDoc] = {"office": CalendarDoc()}


DEFAULT_DISPOSITIONS = ["resolved", "follow_up", "escalated", "callback_booked", "no_action"]


class ChatDoc(Strict):
    """The customer chat widget (``/ui/chat.html``) and its websocket."""

    entry_point: str = "web-chat"  # routing.entry_points picks the queue
    max_message_chars: int = Field(2000, ge=1, le=100_000)
    rate_per_s: float = Field(1.0, gt=0)  # sustained customer messages per second
    burst: int = Field(5, ge=1)  # messages a customer may send at once
    starts_per_minute: int = Field(20, ge=1)  # new chats per client address
    customer_grace_s: float = Field(60.0, gt=0)  # a vanished customer's chat ends after this
    retain_s: float = Field(600.0, gt=0)  # ended chats kept for their transcript


class DesktopDoc(Strict):
    """The agent desktop and wallboard websocket (docs/desktop-protocol.md)."""

    heartbeat_s: float = Field(10.0, gt=0)
    dead_after_s: float = Field(30.0, gt=0)  # silence after which a connection is dead
    # A dead agent connection keeps its offer this long (a reload, a network blip),
    # then the offer goes back to the queue (RONA "disconnected"). Capped at half the
    # offer's own timeout, so a contact never waits on a desktop nobody looks at.
    disconnect_grace_s: float = Field(3.0, ge=0)
    resume_window_s: float = Field(300.0, gt=0)  # a closed session can be resumed this long
    replay_frames: int = Field(2000, ge=10)  # numbered frames kept per session for resume
    supervisor_push_s: float = Field(1.0, gt=0, le=1.0)
    wrap_up_extend_s: float = Field(30.0, gt=0, le=3600)
    dispositions: list[str] = Field(default_factory=lambda: list(DEFAULT_DISPOSITIONS))
    history_items: int = Field(5, ge=0, le=100)  # interactions shown in the screen-pop
    chat: ChatDoc = ChatDoc()


class MailDoc(Strict):
    """E-mail in (the SMTP intake on ``service.smtp_port``) and out (a relay)."""

    # Accepted recipients; empty: the routing.entry_points that look like addresses.
    mailboxes: list[str] = []
    relay_host: str = "127.0.0.1"
    relay_port: int = Field(25, ge=1, le=65535)
    relay_timeout_s: float = Field(10.0, gt=0)
    from_address: str | None = None  # default: the mailbox the customer wrote to
    message_id_domain: str = "ringway.invalid"
    max_message_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    body_chars: int = Field(20_000, ge=100)  # text kept per message for the desktop
    # Cases kept in service.mail_cases: idle ones go after retention_days, and past the
    # newest retention_cases; a case with an unfinished e-mail is always kept.
    retention_days: float = Field(365.0, gt=0)
    retention_cases: int = Field(100_000, ge=1)


class ConfigDoc(Strict):
    service: ServiceDoc = ServiceDoc()
    routing: RoutingDoc = RoutingDoc()
    desktop: DesktopDoc = DesktopDoc()
    mail: MailDoc = MailDoc()
    skills: list[str] = []
    queues: list[QueueDoc] = Field(min_length=1)
    agents: list[AgentDoc] = []
    users: list[UserDoc] = []
