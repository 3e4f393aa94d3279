"""Calling windows in the callee's local time.

US federal rule: no telephone solicitation "before the hour of 8 a.m. or after
9 p.m. (local time at the called party's location)" — 47 CFR 64.1200(c)(1).
Several states are stricter; the US rule pack ships Florida (Fla. Stat.
501.059(8)(a)), Oklahoma (Okla. Stat. tit. 15 §775C.4) and Maryland (Md. Code,
Com. Law §14-4502, Stop the Spam Calls Act 2023) at 08:00-20:00, and a
campaign can add rules for any region. The UK has no statutory calling hours;
the UK pack's 08:00-21:00 is an operator default, configurable per campaign.
Rules also attach to the number's country: a Canadian number called under the
US pack must also be inside the CRTC Telemarketing Rules' hours (09:00-21:30
on weekdays, 10:00-18:00 at weekends).

A window is ``start <= local time < end``: the end is exclusive, so a call
starting at 21:00:00 is refused (the conservative reading of "after 9 p.m.").
Region windows only tighten: the base window and every rule of the region
(the pack's and the campaign's) must all allow.
When a number maps to several zones, every zone must be inside its window —
the call is placed only in the overlap (research §E.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dialer.compliance.proof import CheckResult, Result
from dialer.compliance.zones import Location

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True, kw_only=True, slots=True)
class DailyWindow:
    start: time
    end: time
    days: frozenset[int] = EVERY_DAY  # 0 = Monday

    def allows(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def describe(self) -> str:
        days = (
            "every day"
            if self.days == EVERY_DAY
            else ",".join(DAY_NAMES[d] for d in sorted(self.days))
        )
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowRule:
    """Any of ``windows`` allows a local time; ``source`` cites where the rule comes from."""

    windows: tuple[DailyWindow, ...]
    source: str

    def allows(self, local: datetime) -> bool:
        return any(w.allows(local) for w in self.windows)

    def describe(self) -> str:
        return " or ".join(w.describe() for w in self.windows)


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowPolicy:
    base: WindowRule
    regions: dict[str, tuple[WindowRule, ...]]  # all of a region's rules must allow
    countries: dict[str, tuple[WindowRule, ...]] = field(default_factory=dict)  # by the number's
    holidays: frozenset[date] = frozenset()  # local dates with no calls at all


def daily(start: str, end: str, days: Iterable[int] = EVERY_DAY) -> DailyWindow:
    return DailyWindow(
        start=time.fromisoformat(start), end=time.fromisoformat(end), days=frozenset(days)
    )


FEDERAL_US = WindowRule(windows=(daily("08:00", "21:00"),), source="47 CFR 64.1200(c)(1)")
US_STATE_WINDOWS = {
    "FL": WindowRule(windows=(daily("08:00", "20:00"),), source="Fla. Stat. 501.059(8)(a)"),
    "OK": WindowRule(windows=(daily("08:00", "20:00"),), source="Okla. Stat. tit. 15 §775C.4"),
    "MD": WindowRule(windows=(daily("08:00", "20:00"),), source="Md. Code, Com. Law §14-4502"),
}
WEEKDAYS, WEEKEND = range(5), (5, 6)
# A US campaign calling Canadian numbers also follows Canada's rules.
CANADA = WindowRule(
    windows=(daily("09:00", "21:30", WEEKDAYS), daily("10:00", "18:00", WEEKEND)),
    source="CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules)",
)
UK_DEFAULT = WindowRule(
    windows=(daily("08:00", "21:00"),),
    source="operator policy (no statutory UK calling hours; configurable)",
)


def check_window(at: datetime, where: Location, policy: WindowPolicy) -> CheckResult:
    """Pass only if every candidate zone's local time is inside every applicable window."""
    if not where.zones:
        return CheckResult(
            check="window",
            result=Result.FAIL,
            detail=f"callee's time zone unknown ({where.basis}): needs an explicit zone",
            data={"zones": [], "zone_basis": where.basis},
            final=True,  # waiting will not tell us the zone: the lead needs one
        )
    rules = rules_for(where, policy)
    locals_ = {z: at.astimezone(ZoneInfo(z)) for z in where.zones}
    refused = [z for z, local in locals_.items() if not _open(local, rules, policy.holidays)]
    data: dict[str, object] = {
        "zones": list(where.zones),
        "zone_basis": where.basis,
        "country": where.country,
        "region": where.region,
        "region_basis": where.region_basis,
        "local_times": {z: local.isoformat() for z, local in locals_.items()},
        "rules": [{"window": r.describe(), "source": r.source} for r in rules],
    }
    if refused:
        opens = next_open(at, where, policy)
        data["next_open"] = opens.isoformat() if opens else None
        detail = f"outside the calling window in {', '.join(refused)} ({_summary(rules)})"
        return CheckResult(
            check="window", result=Result.FAIL, detail=detail, data=data, retry_at=opens
        )
    detail = f"inside the calling window in {', '.join(where.zones)} ({_summary(rules)})"
    return CheckResult(check="window", result=Result.PASS, detail=detail, data=data)


def rules_for(where: Location, policy: WindowPolicy) -> list[WindowRule]:
    return [
        policy.base,
        *policy.countries.get(where.country or "", ()),
        *policy.regions.get(where.region or "", ()),
    ]


def is_open(at: datetime, where: Location, policy: WindowPolicy) -> bool:
    rules = rules_for(where, policy)
    return bool(where.zones) and all(
        _open(at.astimezone(ZoneInfo(z)), rules, policy.holidays) for z in where.zones
    )


def next_open(
    at: datetime, where: Location, policy: WindowPolicy, horizon: timedelta = timedelta(days=8)
) -> datetime | None:
    """The first instant from ``at`` on when the number may be called, within ``horizon``.

    The allowed set is an intersection of unions of local intervals, so its
    earliest point after ``at`` is ``at`` itself or the start of some interval
    — a window's start, or a local midnight ending a holiday — in some zone:
    only those candidates are tried. For retry scheduling; ``None`` if none.
    """
    if is_open(at, where, policy):
        return at
    starts = {w.start for rule in rules_for(where, policy) for w in rule.windows} | {time(0)}
    candidates = sorted(
        c for c in _local_starts(at, where.zones, starts, horizon.days) if at < c <= at + horizon
    )
    return next((c for c in candidates if is_open(c, where, policy)), None)


def _local_starts(
    at: datetime, zones: tuple[str, ...], starts: set[time], days: int
) -> Iterator[datetime]:
    """Every ``start`` local time, in every zone, on the days around ``at``, as UTC."""
    first_day = (at - timedelta(days=1)).date()
    for offset in range(days + 2):
        day = first_day + timedelta(days=offset)
        for zone in zones:
            for start in starts:
                yield datetime.combine(day, start, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _open(local: datetime, rules: list[WindowRule], holidays: frozenset[date]) -> bool:
    return local.date() not in holidays and all(r.allows(local) for r in rules)


def _summary(rules: list[WindowRule]) -> str:
    return "; ".join(f"{r.describe()} per {r.source}" for r in rules)
