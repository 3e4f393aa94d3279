"""The dialer's persistent state behind one interface: DNC, registry, attempts, leads, proofs.

Two backends honour the same contract (tests/dialer/test_store_contract.py):
`MemoryDialerStore` for the simulator and tests, `SQLiteDialerStore`
(`dialer.store_sqlite`) for the service, where the DNC list and the attempt
history must survive a restart — a cap that resets when the process restarts
is no cap. Methods are synchronous: the compliance check runs them inline
(they are indexed point lookups), and an asyncio driver calls the check in a
worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Protocol

from dialer.leads import Lead, Outcome, is_due


@dataclass(frozen=True, kw_only=True, slots=True)
class DncEntry:
    number: str
    added_at: datetime
    source: str  # "cli", "agent:alice", "ivr", "api", ...
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RegistryVersion:
    """One imported copy of a national registry (FTC National DNC Registry, UK TPS)."""

    registry: str  # "us-national" / "uk-tps"
    version: int  # increases with every import
    as_of: date  # the date the registry data was downloaded
    imported_at: datetime
    source: str  # file name
    sha256: str
    numbers: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    id: str
    lead_id: str | None
    campaign: str
    number: str
    at: datetime
    guaranteed_agent: bool = False
    outcome: Outcome | None = None
    outcome_at: datetime | None = None


class DialerStore(Protocol):
    # --- internal do-not-call list: effective the moment it is written
    def add_dnc(self, entry: DncEntry) -> None: ...
    def dnc_entry(self, number: str) -> DncEntry | None: ...
    def dnc_size(self) -> int: ...

    # --- national registries: an import replaces the previous version whole
    def import_registry(self, version: RegistryVersion, numbers: Iterable[str]) -> None: ...
    def registry_version(self, registry: str) -> RegistryVersion | None: ...
    def in_registry(self, registry: str, number: str) -> bool: ...

    # --- attempts: what the caps count
    def add_attempt(self, attempt: Attempt) -> None: ...
    def record_attempt(self, attempt: Attempt, proof: dict[str, object], lead: Lead | None) -> None:
        """The attempt, its proof and the lead's new state, in one transaction."""
        ...

    def set_outcome(self, attempt_id: str, outcome: Outcome, at: datetime) -> Attempt: ...
    def lead_attempts(self, lead_id: str) -> int: ...
    def number_attempts(self, number: str, after: datetime, until: datetime) -> int: ...
    def first_attempt(self, number: str, after: datetime, until: datetime) -> datetime | None:
        """When the earliest attempt to ``number`` in ``(after, until]`` started."""
        ...

    def last_outcome(self, number: str, outcome: Outcome, until: datetime) -> datetime | None:
        """When the latest attempt to ``number`` started by ``until`` ended with ``outcome``."""
        ...

    def last_abandoned(self, number: str, until: datetime) -> datetime | None: ...

    # --- proofs: one per check that was acted on
    def add_proof(self, attempt_id: str | None, proof: dict[str, object]) -> int: ...
    def proofs(self, number: str) -> list[dict[str, object]]: ...

    # --- leads
    def put_lead(self, lead: Lead) -> None: ...
    def put_leads(self, leads: Iterable[Lead]) -> None:
        """Store many leads in one transaction (an import is all or nothing)."""
        ...

    def lead(self, lead_id: str) -> Lead | None: ...
    def leads(self, campaign: str) -> list[Lead]: ...
    def due_leads(self, campaign: str, at: datetime, limit: int) -> list[Lead]:
        """Ready leads whose next-attempt time has come, longest-waiting first."""
        ...

    def campaign_numbers(self, campaign: str) -> set[str]: ...

    def close(self) -> None: ...


class MemoryDialerStore:
    def __init__(self) -> None:
        self._dnc: dict[str, DncEntry] = {}
        self._registries: dict[str, tuple[RegistryVersion, frozenset[str]]] = {}
        self._attempts: dict[str, Attempt] = {}
        self._by_number: dict[str, list[str]] = {}  # number -> attempt ids, in arrival order
        self._lead_counts: dict[str, int] = {}
        self._proofs: list[tuple[str | None, dict[str, object]]] = []
        self._leads: dict[str, Lead] = {}

    def add_dnc(self, entry: DncEntry) -> None:
        self._dnc.setdefault(entry.number, entry)

    def dnc_entry(self, number: str) -> DncEntry | None:
        return self._dnc.get(number)

    def dnc_size(self) -> int:
        return len(self._dnc)

    def import_registry(self, version: RegistryVersion, numbers: Iterable[str]) -> None:
        self._registries[version.registry] = (version, frozenset(numbers))

    def registry_version(self, registry: str) -> RegistryVersion | None:
        found = self._registries.get(registry)
        return found[0] if found else None

    def in_registry(self, registry: str, number: str) -> bool:
        found = self._registries.get(registry)
        return found is not None and number in found[1]

    def add_attempt(self, attempt: Attempt) -> None:
        if attempt.id in self._attempts:
            raise ValueError(f"attempt {attempt.id!r} already recorded")
        self._attempts[attempt.id] = attempt
        self._by_number.setdefault(attempt.number, []).append(attempt.id)
        if attempt.lead_id is not None:
            self._lead_counts[attempt.lead_id] = self._lead_counts.get(attempt.lead_id, 0) + 1

    def record_attempt(self, attempt: Attempt, proof: dict[str, object], lead: Lead | None) -> None:
        self.add_attempt(attempt)  # raises before anything changed
        self.add_proof(attempt.id, proof)
        if lead is not None:
            self.put_lead(lead)

    def set_outcome(self, attempt_id: str, outcome: Outcome, at: datetime) -> Attempt:
        if attempt_id not in self._attempts:
            raise KeyError(attempt_id)
        updated = replace(self._attempts[attempt_id], outcome=outcome, outcome_at=at)
        self._attempts[attempt_id] = updated
        return updated

    def lead_attempts(self, lead_id: str) -> int:
        return self._lead_counts.get(lead_id, 0)

    def _of_number(self, number: str) -> list[Attempt]:
        return [self._attempts[i] for i in self._by_number.get(number, ())]

    def number_attempts(self, number: str, after: datetime, until: datetime) -> int:
        return sum(1 for a in self._of_number(number) if after < a.at <= until)

    def first_attempt(self, number: str, after: datetime, until: datetime) -> datetime | None:
        return min((a.at for a in self._of_number(number) if after < a.at <= until), default=None)

    def last_outcome(self, number: str, outcome: Outcome, until: datetime) -> datetime | None:
        times = [
            a.outcome_at or a.at
            for a in self._of_number(number)
            if a.outcome is outcome and a.at <= until
        ]
        return max(times, default=None)

    def last_abandoned(self, number: str, until: datetime) -> datetime | None:
        return self.last_outcome(number, Outcome.ABANDONED, until)

    def add_proof(self, attempt_id: str | None, proof: dict[str, object]) -> int:
        self._proofs.append((attempt_id, proof))
        return len(self._proofs)

    def proofs(self, number: str) -> list[dict[str, object]]:
        return [{**p, "attempt_id": a} for a, p in self._proofs if p.get("number") == number]

    def put_lead(self, lead: Lead) -> None:
        self._leads[lead.id] = lead

    def put_leads(self, leads: Iterable[Lead]) -> None:
        self._leads.update((lead.id, lead) for lead in leads)

    def lead(self, lead_id: str) -> Lead | None:
        return self._leads.get(lead_id)

    def leads(self, campaign: str) -> list[Lead]:
        return sorted((x for x in self._leads.values() if x.campaign == campaign), key=_lead_key)

    def due_leads(self, campaign: str, at: datetime, limit: int) -> list[Lead]:
        due = [x for x in self._leads.values() if x.campaign == campaign and is_due(x, at)]
        return sorted(due, key=_due_key)[:limit]

    def campaign_numbers(self, campaign: str) -> set[str]:
        return {x.phone for x in self._leads.values() if x.campaign == campaign}

    def close(self) -> None:
        pass


def _lead_key(lead: Lead) -> tuple[int, str]:
    return (lead.source_line or 0, lead.id)


_NOT_SCHEDULED = datetime.min.replace(tzinfo=UTC)


def _due_key(lead: Lead) -> tuple[datetime, int, str]:
    return (lead.next_attempt_at or _NOT_SCHEDULED, lead.source_line or 0, lead.id)


def _conforms(store: MemoryDialerStore) -> DialerStore:
    return store  # never called: mypy proves the class satisfies the protocol
