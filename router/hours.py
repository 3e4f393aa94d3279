"""Opening hours: when a queue takes contacts of a tier.

The CRM seeds give Bronze customers phone access in office hours only (Unit 5
§5.7 tier table: Gold and Silver 24 h, Bronze office hours). A queue can carry
hours per tier; a contact arriving while its tier is closed goes to the queue's
``after_hours`` target, or ends as ``overflowed`` with reason ``closed`` so the
edge can play the closed message or offer a callback. Hours are evaluated in the
calendar's IANA time zone, so daylight-saving changes move them correctly.
``now`` stays a parameter: this reads no clock.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from router.errors import InvalidConfig
from router.record import record

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@record
class OpeningHours:
    name: str
    timezone: str
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()

    def is_open(self, at: float) -> bool:
        local = datetime.fromtimestamp(at, ZoneInfo(self.timezone))
        if local.weekday() not in self.days or local.date() in self.holidays:
            return False
        return self.opens <= local.time() < self.closes

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.opens:%H:%M}-{self.closes:%H:%M} {self.timezone}"


def opening_hours(
    name: str,
    *,
    timezone: str,
    days: str,
    opens: str,
    closes: str,
    holidays: list[str] | None = None,
) -> OpeningHours:
    """Build hours from config words: ``days="mon-fri"``, ``opens="08:00"``."""
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):
        raise InvalidConfig(f"unknown time zone {timezone!r}") from None
    start, end = _clock(opens), _clock(closes)
    if end <= start:
        raise InvalidConfig(f"hours {name}: closes {closes} is not after opens {opens}")
    try:
        off_days = frozenset(date.fromisoformat(d) for d in holidays or [])
    except ValueError as exc:
        raise InvalidConfig(f"hours {name}: holiday {exc}") from None
    return OpeningHours(
        name=name,
        timezone=str(zone),
        days=_days(days),
        opens=start,
        closes=end,
        holidays=off_days,
    )


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidConfig(f"{text!r} is not a time of day (HH:MM)") from None


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise InvalidConfig(f"days {text!r}: use mon..sun, ranges like mon-fri, commas")
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(days)
