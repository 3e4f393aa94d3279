"""Load and validate a Ringway configuration file.

Every problem is reported as ``file:line: key: problem`` — schema errors from
pydantic and domain errors (an unknown skill in a requirement, an overflow to a
queue that does not exist, an unknown strategy) alike — and `ringway config
check` prints exactly these messages.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ringway.schema import (
    AgentDoc,
    ConfigDoc,
    DesktopDoc,
    HoldDoc,
    MailDoc,
    QueueDoc,
    RecordingDoc,
    RoutingDoc,
    ServiceDoc,
    UserDoc,
)
from ringway.yamlmarks import YamlSyntaxError, line_of, load_with_marks
from router import policies
from router.agents import Agent
from router.capacity import Capacity, capacity_from
from router.errors import RoutingError
from router.hours import OpeningHours, opening_hours
from router.model import Channel
from router.queues import EMAIL_TIER_SLA, VOICE_TIER_SLA, Queue, RelaxationStep, ServiceLevel
from router.skills import SkillExpr, both, either, parse

KeyPath = tuple[Hashable, ...]
DEFAULT_CAPACITY = {"voice": 1, "callback": 1, "outbound": 1, "chat": 3, "email": 1, "task": 1}


class ConfigError(ValueError):
    """One configuration problem, located as precisely as the file allows."""

    def __init__(self, source: str, line: int | None, key: str, problem: str) -> None:
        self.source, self.line, self.key, self.problem = source, line, key, problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class UserDef:
    id: str
    role: str
    name: str
    password_hash: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class AgentDef:
    id: str
    name: str
    skills: dict[str, int]
    capacity: Capacity
    extension: str | None = None

    def to_agent(self) -> Agent:
        return Agent(
            id=self.id,
            name=self.name,
            skills=dict(self.skills),
            capacity=self.capacity,
            extension=self.extension,
        )


@dataclass(frozen=True, slots=True)
class RingwayConfig:
    source: str
    service: ServiceDoc
    routing: RoutingDoc
    skills: frozenset[str]
    queues: list[Queue]
    agents: list[AgentDef]
    users: list[UserDef] = field(default_factory=list)
    desktop: DesktopDoc = field(default_factory=DesktopDoc)
    mail: MailDoc = field(default_factory=MailDoc)
    recording: dict[str, RecordingDoc] = field(default_factory=dict)  # by queue name
    hold: dict[str, HoldDoc] = field(default_factory=dict)  # by queue name

    def hold_for(self, queue: str | None) -> HoldDoc:
        """What the queue's callers hear while they wait; music and announcements for a
        queue without settings (or no queue)."""
        return self.hold.get(queue or "", HoldDoc())

    def recording_for(self, queue: str | None) -> RecordingDoc:
        """The queue's recording settings; off for a queue without any (or no queue)."""
        return self.recording.get(queue or "", RecordingDoc())

    @property
    def data_dir(self) -> Path:
        return Path(self.service.data_dir)

    def path_setting(self, value: str) -> str:
        return value.replace("{data_dir}", self.service.data_dir)

    def queue_for(self, channel: str, entry_point: str | None) -> str | None:
        """The queue a contact goes to when the caller did not name one."""
        if entry_point is not None and entry_point in self.routing.entry_points:
            return self.routing.entry_points[entry_point]
        if channel in self.routing.default_queues:
            return self.routing.default_queues[channel]
        return next((q.name for q in self.queues if q.channel.value == channel), None)


def load_config(path: str | Path) -> RingwayConfig:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    return load_config_text(text, str(path))


def demo_config_path() -> Path:
    return Path(str(resources.files("ringway") / "demo.yaml"))


def load_config_text(text: str, source: str = "<config>") -> RingwayConfig:
    try:
        data, marks = load_with_marks(text)
    except YamlSyntaxError as exc:
        raise ConfigError(source, exc.line, "", exc.problem) from None
    if not isinstance(data, dict):
        raise ConfigError(source, 1, "", "the file must be a mapping (service, queues, agents…)")
    try:
        doc = ConfigDoc.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc, source, marks) from None
    return _Builder(doc, source, marks).build()


def _schema_error(exc: ValidationError, source: str, marks: dict[KeyPath, int]) -> ConfigError:
    first = exc.errors()[0]
    path = tuple(p for p in first["loc"] if not (isinstance(p, str) and p[:1].isupper()))
    path = tuple(p for p in path if p not in ("function-after", "dict[str,int]"))
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return ConfigError(source, line_of(marks, path), _dotted(path), first["msg"] + more)


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    """Turns a schema-valid document into router objects, checking cross-references."""

    def __init__(self, doc: ConfigDoc, source: str, marks: dict[KeyPath, int]) -> None:
        self.doc, self.source, self.marks = doc, source, marks
        self.skills = frozenset(doc.skills) | {s for a in doc.agents for s in a.skills}

    def fail(self, path: KeyPath, problem: str) -> ConfigError:
        return ConfigError(self.source, line_of(self.marks, path), _dotted(path), problem)

    def build(self) -> RingwayConfig:
        queues = [self.queue(i, q) for i, q in enumerate(self.doc.queues)]
        self.check_queue_refs(queues)
        agents = [self.agent(i, a) for i, a in enumerate(self.doc.agents)]
        users = self.users()
        return RingwayConfig(
            source=self.source,
            service=self.doc.service,
            routing=self.doc.routing,
            skills=self.skills,
            queues=queues,
            agents=agents,
            users=users,
            desktop=self.doc.desktop,
            mail=self.doc.mail,
            recording={q.name: q.recording for q in self.doc.queues},
            hold={q.name: q.hold for q in self.doc.queues},
        )

    def expr(self, path: KeyPath, text: str) -> SkillExpr:
        try:
            return parse(text, set(self.skills))
        except RoutingError as exc:
            raise self.fail(path, exc.message) from None

    def queue(self, index: int, doc: QueueDoc) -> Queue:
        at: KeyPath = ("queues", index)
        base = self.expr((*at, "requires"), doc.requires)
        if doc.strategy not in policies.names():
            raise self.fail(
                (*at, "strategy"),
                f"unknown strategy {doc.strategy!r} (known: {', '.join(policies.names())})",
            )
        channel = Channel(doc.channel)
        if "hold" in doc.model_fields_set and channel is not Channel.VOICE:
            raise self.fail(
                (*at, "hold"), f"only a voice queue has callers on hold, not {channel.value}"
            )
        routing = self.doc.routing
        return Queue(
            name=doc.name,
            channel=channel,
            requirement=base,
            service_level=self.service_level(doc, channel),
            sla_by_tier=self.sla_by_tier(doc, channel),
            strategy=doc.strategy,
            priority=doc.priority,
            tier_priority=dict(doc.tier_priority or routing.tier_priority),
            ageing_per_s=doc.ageing_per_s,
            sl_weight=doc.sl_weight,
            starvation_s=doc.starvation_s,
            max_wait_s=doc.max_wait_s,
            max_size=doc.max_size,
            overflow=doc.overflow,
            relaxation=self.relaxation(at, doc, base),
            hours=self.hours(at, doc),
            after_hours=doc.after_hours,
            offer_timeout_s=doc.offer_timeout_s or routing.offer_timeout_s,
            wrap_up_s=routing.wrap_up_s if doc.wrap_up_s is None else doc.wrap_up_s,
        )

    @staticmethod
    def service_level(doc: QueueDoc, channel: Channel) -> ServiceLevel:
        if doc.service_level is not None:
            return ServiceLevel(
                target=doc.service_level.target, threshold_s=doc.service_level.threshold_s
            )
        if channel is Channel.EMAIL:
            return ServiceLevel(target=0.9, threshold_s=24 * 3600)
        return ServiceLevel()

    @staticmethod
    def sla_by_tier(doc: QueueDoc, channel: Channel) -> dict[str, ServiceLevel]:
        if doc.sla_by_tier is not None:
            return {
                tier: ServiceLevel(target=s.target, threshold_s=s.threshold_s)
                for tier, s in doc.sla_by_tier.items()
            }
        # The seeds' defaults (Unit 5 §5.7): per-tier answer targets.
        return dict(EMAIL_TIER_SLA if channel is Channel.EMAIL else VOICE_TIER_SLA)

    def relaxation(self, at: KeyPath, doc: QueueDoc, base: SkillExpr) -> tuple[RelaxationStep, ...]:
        steps: list[RelaxationStep] = []
        current, previous_after = base, 0.0
        for index, step in enumerate(doc.relaxation):
            path = (*at, "relaxation", index)
            if step.after_s <= previous_after:
                raise self.fail((*path, "after_s"), "steps must start after increasing waits")
            previous_after = step.after_s
            if step.replace is not None:
                mode, text = "replace", step.replace
                current = self.expr((*path, "replace"), text)
            elif step.or_ is not None:
                mode, text = "or", step.or_
                current = either(current, self.expr((*path, "or"), text))
            else:
                mode, text = "and", step.and_ or ""
                current = both(current, self.expr((*path, "and"), text))
            steps.append(
                RelaxationStep(after_s=step.after_s, requirement=current, mode=mode, source=text)
            )
        return tuple(steps)

    def hours(self, at: KeyPath, doc: QueueDoc) -> dict[str, OpeningHours]:
        calendars = self.doc.routing.calendars
        out: dict[str, OpeningHours] = {}
        for tier, spec in doc.hours.items():
            path = (*at, "hours", tier)
            if isinstance(spec, str):
                if spec not in calendars:
                    known = ", ".join(sorted(calendars)) or "none"
                    raise self.fail(path, f"unknown calendar {spec!r} (routing.calendars: {known})")
                name, cal = spec, calendars[spec]
            else:
                name, cal = f"{doc.name}.{tier}", spec
            try:
                out[tier] = opening_hours(
                    name,
                    timezone=cal.timezone,
                    days=cal.days,
                    opens=cal.opens,
                    closes=cal.closes,
                    holidays=list(cal.holidays),
                )
            except RoutingError as exc:
                raise self.fail(path, exc.message) from None
        return out

    def check_queue_refs(self, queues: list[Queue]) -> None:
        names: dict[str, int] = {}
        for index, queue in enumerate(queues):
            if queue.name in names:
                raise self.fail(("queues", index, "name"), f"queue {queue.name!r} defined twice")
            names[queue.name] = index
        for index, queue in enumerate(queues):
            if queue.after_hours is not None and queue.after_hours not in names:
                raise self.fail(
                    ("queues", index, "after_hours"), f"unknown queue {queue.after_hours!r}"
                )
            if queue.overflow is not None and queue.overflow not in names:
                raise self.fail(
                    ("queues", index, "overflow"),
                    f"overflow target {queue.overflow!r} is not a queue "
                    f"(queues: {', '.join(names)})",
                )
            if queue.overflow == queue.name:
                raise self.fail(
                    ("queues", index, "overflow"), "a queue cannot overflow into itself"
                )
        routing = self.doc.routing
        for key, target in {**routing.entry_points, **routing.default_queues}.items():
            if target not in names:
                section = "entry_points" if key in routing.entry_points else "default_queues"
                raise self.fail(("routing", section, key), f"unknown queue {target!r}")

    def agent(self, index: int, doc: AgentDoc) -> AgentDef:
        at: KeyPath = ("agents", index)
        for skill, level in doc.skills.items():
            if not 1 <= level <= 10:
                raise self.fail((*at, "skills", skill), f"proficiency {level} outside 1-10")
        if self.doc.skills and not set(doc.skills) <= set(self.doc.skills):
            unknown = ", ".join(sorted(set(doc.skills) - set(self.doc.skills)))
            raise self.fail((*at, "skills"), f"undeclared skill {unknown}")
        return AgentDef(
            id=doc.id,
            name=doc.name or doc.id,
            skills=dict(doc.skills),
            capacity=self.capacity((*at, "capacity"), doc.capacity),
            extension=doc.extension,
        )

    def capacity(self, path: KeyPath, doc: Any) -> Capacity:
        try:
            if doc is None:
                return capacity_from(DEFAULT_CAPACITY)
            if isinstance(doc, dict):
                return capacity_from(doc)
            return capacity_from(doc.maximum, doc.weight, doc.budget, doc.exclusive)
        except RoutingError as exc:
            raise self.fail(path, exc.message) from None

    def users(self) -> list[UserDef]:
        users: dict[str, UserDef] = {}
        for doc in self.doc.agents:
            users[doc.id] = UserDef(
                doc.id, "agent", doc.name or doc.id, doc.password_hash, doc.password_env
            )
        for index, user in enumerate(self.doc.users):
            users[user.id] = self.user(index, user, users)
        return list(users.values())

    def user(self, index: int, doc: UserDoc, seen: dict[str, UserDef]) -> UserDef:
        if doc.id in seen and seen[doc.id].role != doc.role:
            raise self.fail(("users", index, "id"), f"{doc.id!r} is already an {seen[doc.id].role}")
        return UserDef(doc.id, doc.role, doc.name or doc.id, doc.password_hash, doc.password_env)
