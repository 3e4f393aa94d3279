"""Do-not-call: the internal list and national registry files.

* Internal list: a number is blocked the moment it is written (a callee's
  request must be honoured at once — 47 CFR 64.1200(d)(3) gives at most 10
  business days; we take zero), including for campaigns already running,
  because every attempt reads the store, never a copy loaded at start.
* National registries (FTC National Do Not Call Registry; UK TPS under PECR
  reg. 21): imported from a file as one version with its download date. The
  Telemarketing Sales Rule's safe harbour requires data no older than 31 days
  (16 CFR 310.4(b)(3)(iv); 47 CFR 64.1200(c)(2)(i)(D)): an older copy makes the
  check *warn* (or fail, if the campaign says ``stale_registry: block``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dialer.compliance.numbers import to_e164
from dialer.compliance.proof import CheckResult, Result
from dialer.errors import InvalidNumber
from dialer.store import DialerStore, DncEntry, RegistryVersion

REGISTRY_MAX_AGE_DAYS = 31
# Registry name -> the region its national-format numbers are read in.
REGISTRIES = {"us-national": "US", "uk-tps": "GB", "ca-dncl": "CA"}


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryRule:
    registry: str  # "us-national" / "uk-tps"
    max_age_days: int = REGISTRY_MAX_AGE_DAYS
    block_when_stale: bool = False


def check_internal(number: str, store: DialerStore) -> CheckResult:
    entry = store.dnc_entry(number)
    data = {"list": "internal", "entries": store.dnc_size()}
    if entry is None:
        return CheckResult(
            check="dnc.internal",
            result=Result.PASS,
            detail="not on the internal DNC list",
            data=data,
        )
    data |= {"added_at": entry.added_at.isoformat(), "source": entry.source, "reason": entry.reason}
    detail = f"on the internal DNC list since {entry.added_at.isoformat()} ({entry.source})"
    return CheckResult(
        check="dnc.internal", result=Result.FAIL, detail=detail, data=data, final=True
    )


def check_registry(
    number: str, at: datetime, rule: RegistryRule, store: DialerStore
) -> CheckResult:
    name = f"dnc.registry.{rule.registry}"
    version = store.registry_version(rule.registry)
    if version is None:
        detail = f"no {rule.registry} registry imported: the number was not scrubbed"
        data: dict[str, object] = {"registry": rule.registry, "version": None}
        result = Result.FAIL if rule.block_when_stale else Result.WARN
        return CheckResult(check=name, result=result, detail=detail, data=data)
    age = (at.date() - version.as_of).days
    data = {  # the exact copy checked against, so the proof outlives the next import
        "registry": rule.registry,
        "version": version.version,
        "as_of": version.as_of.isoformat(),
        "age_days": age,
        "sha256": version.sha256,
        "source": version.source,
    }
    if store.in_registry(rule.registry, number):
        detail = f"on the {rule.registry} registry (version {version.version}, {version.as_of})"
        return CheckResult(check=name, result=Result.FAIL, detail=detail, data=data, final=True)
    if age > rule.max_age_days:
        detail = (
            f"not on the {rule.registry} registry, but its copy is {age} days old"
            f" (> {rule.max_age_days})"
        )
        result = Result.FAIL if rule.block_when_stale else Result.WARN
        return CheckResult(check=name, result=result, detail=detail, data=data)
    detail = f"not on the {rule.registry} registry (version {version.version}, {age} days old)"
    return CheckResult(check=name, result=Result.PASS, detail=detail, data=data)


def add_internal(
    store: DialerStore, number: str, at: datetime, source: str, reason: str = ""
) -> DncEntry:
    entry = DncEntry(number=number, added_at=at, source=source, reason=reason)
    store.add_dnc(entry)
    return store.dnc_entry(number) or entry


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryImport:
    version: RegistryVersion
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)
    warnings: list[str] = field(default_factory=list)


def import_registry_file(
    path: Path,
    *,
    registry: str,
    as_of: date,
    at: datetime,
    store: DialerStore,
    default_region: str = "US",
) -> RegistryImport:
    """Replace ``registry`` with the numbers in ``path``; every unreadable line is reported.

    One number per line; ``NPA,NUMBER`` (the FTC download's two columns) is
    joined; blank lines and ``#`` comments are skipped.
    """
    raw = path.read_bytes()
    numbers: set[str] = set()
    rejected: list[tuple[int, str, str]] = []
    for line_no, line in enumerate(raw.decode("utf-8-sig").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        candidate = "".join(text.split(",")) if text.count(",") == 1 else text
        try:
            numbers.add(to_e164(candidate, default_region))
        except InvalidNumber as exc:
            rejected.append((line_no, text, str(exc)))
    previous = store.registry_version(registry)
    version = RegistryVersion(
        registry=registry,
        version=(previous.version + 1) if previous else 1,
        as_of=as_of,
        imported_at=at,
        source=path.name,
        sha256=hashlib.sha256(raw).hexdigest(),
        numbers=len(numbers),
    )
    store.import_registry(version, sorted(numbers))
    warnings = []
    if (at.date() - as_of).days > REGISTRY_MAX_AGE_DAYS:
        warnings.append(
            f"registry data dated {as_of} is {(at.date() - as_of).days} days old "
            f"(> {REGISTRY_MAX_AGE_DAYS}: 16 CFR 310.4(b)(3)(iv))"
        )
    return RegistryImport(version=version, rejected=rejected, warnings=warnings)
