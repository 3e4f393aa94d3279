"""Customer records as the contact centre sees them.

These are plain immutable values: the store hands out fresh copies and takes
whole records back, so a router holding a `Customer` never sees it change under
it. ``to_dict``/``from_dict`` are the JSON shape used by the REST API and the
agent screen-pop; ``from_dict`` checks shapes and raises `InvalidCustomer` so a
bad request body is reported, not stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from mypy_extensions import mypyc_attr

from crm.errors import InvalidCustomer

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


class Tier(StrEnum):
    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


def parse_instant(at: str) -> datetime:
    """Parse an ISO-8601 timestamp; a naive one is taken as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(at)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def instant_key(at: str) -> int:
    """Microseconds since the epoch: an exact, offset-independent sort key for ``at``.

    ISO strings with different UTC offsets do not sort as text, so histories
    are ordered by this instead.
    """
    return (parse_instant(at) - _EPOCH) // timedelta(microseconds=1)


# compiled (scripts/build_native.py), a plain dataclass: `router.record.slot_constructor`
# builds it through its slots, and the API, the stores and the tests take it apart
@mypyc_attr(native_class=False)
@dataclass(frozen=True, kw_only=True, slots=True)
class Consent:
    """One recorded answer to "may we contact you for ``purpose``?"."""

    purpose: str  # "marketing_calls", "service_calls", "sms", "email", ...
    granted: bool
    at: str  # ISO-8601
    source: str = ""  # where it was captured: "ivr", "web", "agent:alice", ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "granted": self.granted,
            "at": self.at,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Consent:
        return cls(
            purpose=_required_str(data, "purpose", "consents.purpose"),
            granted=_bool(data.get("granted"), "consents.granted"),
            at=_required_str(data, "at", "consents.at"),
            source=_optional_str(data.get("source"), "consents.source") or "",
        )


def _consent_dicts(consents: tuple[Consent, ...]) -> list[dict[str, Any]]:
    """``[c.to_dict() for c in consents]``; for none (most customers) without the
    comprehension, whose frame is most of the cost then: `Customer.to_dict` runs twice
    per routed call (the IVR's record of the caller, the agent's screen-pop)."""
    if not consents:
        return []
    return [c.to_dict() for c in consents]


def _consent_order(indexed: tuple[int, Consent]) -> tuple[int, int]:
    # Never raise while answering a consent question: an unparseable time sorts first.
    position, consent = indexed
    try:
        return instant_key(consent.at), position
    except ValueError:
        return -(2**62), position


# compiled (scripts/build_native.py), a plain dataclass: `router.record.slot_constructor`
# builds it through its slots, and the API, the stores and the tests take it apart
@mypyc_attr(native_class=False)
@dataclass(frozen=True, kw_only=True, slots=True)
class Customer:
    id: str
    name: str
    phones: tuple[str, ...] = ()  # E.164
    emails: tuple[str, ...] = ()  # lower-cased
    tier: Tier | None = None
    account_manager: str | None = None  # agent id
    backup_agent: str | None = None  # agent id
    language: str | None = None  # BCP 47, e.g. "en-GB"
    preferences: dict[str, str] = field(default_factory=dict)
    consents: tuple[Consent, ...] = ()
    segment: str | None = None

    def consent_for(self, purpose: str) -> bool | None:
        """The most recent answer for ``purpose``; ``None`` if the customer was never asked.

        Consents are a history, not a set: a later withdrawal overrides an
        earlier grant whatever order the records were appended in.
        """
        answers = [(i, c) for i, c in enumerate(self.consents) if c.purpose == purpose]
        if not answers:
            return None
        return max(answers, key=_consent_order)[1].granted

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "phones": list(self.phones),
            "emails": list(self.emails),
            # str() of a StrEnum is its value, cheaper than the enum's `value` property
            "tier": str(self.tier) if self.tier is not None else None,
            "account_manager": self.account_manager,
            "backup_agent": self.backup_agent,
            "language": self.language,
            "preferences": dict(self.preferences),
            "consents": _consent_dicts(self.consents),
            "segment": self.segment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Customer:
        """Build a customer from its JSON shape; raises `InvalidCustomer` on bad shapes."""
        consents = data.get("consents") or []
        if not isinstance(consents, list) or not all(isinstance(c, Mapping) for c in consents):
            raise InvalidCustomer("consents", consents, "expected a list of objects")
        return cls(
            id=_required_str(data, "id", "id"),
            name=_optional_str(data.get("name"), "name") or "",
            phones=_str_tuple(data.get("phones"), "phones"),
            emails=_str_tuple(data.get("emails"), "emails"),
            tier=_tier(data.get("tier")),
            account_manager=_optional_str(data.get("account_manager"), "account_manager"),
            backup_agent=_optional_str(data.get("backup_agent"), "backup_agent"),
            language=_optional_str(data.get("language"), "language"),
            preferences=_str_dict(data.get("preferences"), "preferences"),
            consents=tuple(Consent.from_dict(c) for c in consents),
            segment=_optional_str(data.get("segment"), "segment"),
        )


# compiled (scripts/build_native.py), a plain dataclass: `router.record.slot_constructor`
# builds it through its slots, and the API, the stores and the tests take it apart
@mypyc_attr(native_class=False)
@dataclass(frozen=True, kw_only=True, slots=True)
class Interaction:
    """One touch with a customer: a call, a chat, an e-mail, a callback, a task."""

    id: str
    customer_id: str
    at: str  # ISO-8601
    channel: str  # voice / chat / email / callback / outbound / task
    direction: str  # "inbound" / "outbound"
    contact_id: str | None = None  # the router's contact, when there was one
    agent_id: str | None = None
    queue: str | None = None
    disposition: str | None = None
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "at": self.at,
            "channel": self.channel,
            "direction": self.direction,
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "disposition": self.disposition,
            "notes": self.notes,
        }


def _required_str(data: Mapping[str, Any], key: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise InvalidCustomer(name, value, "expected a string")
    return value


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidCustomer(name, value, "expected a string or null")


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise InvalidCustomer(name, value, "expected true or false")


def _str_tuple(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidCustomer(name, value, "expected a list of strings")


def _str_dict(value: object, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise InvalidCustomer(name, value, "expected an object of string values")


def _tier(value: object) -> Tier | None:
    if value is None:
        return None
    if isinstance(value, str) and value in {t.value for t in Tier}:
        return Tier(value)
    choices = ", ".join(t.value for t in Tier)
    raise InvalidCustomer("tier", value, f"expected one of {choices} or null")
