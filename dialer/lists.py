"""Lead lists from CSV, validated row by row: every row is either a lead or a reported rejection.

Columns: ``phone`` (required), and optionally ``id``, ``name``, ``customer_id``,
``timezone`` (IANA, e.g. from the postal code), ``region`` (state/province).
Each row is checked for a phone number readable as E.164 (with the campaign's
default region for national forms), a known time zone if one is given, the
campaign's required fields, and duplicates — within the file and against the
leads the campaign already holds. The report names the physical line of every
rejected row and why, so nothing is ever silently dropped: ``accepted +
rejected == rows``. (A blank line holds no row; the csv module skips it.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dialer.campaign import Campaign
from dialer.compliance.numbers import to_e164
from dialer.compliance.zones import valid_zone
from dialer.errors import DialerError, InvalidNumber
from dialer.leads import Lead
from dialer.store import DialerStore

KNOWN_COLUMNS = ("id", "phone", "name", "customer_id", "timezone", "region")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rejected:
    line: int  # physical line in the file where the row starts (header is line 1)
    reason: str
    row: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "row": self.row}


@dataclass(kw_only=True, slots=True)
class ImportReport:
    source: str
    campaign: str
    rows: int = 0
    accepted: list[Lead] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "campaign": self.campaign,
            "rows": self.rows,
            "accepted": len(self.accepted),
            "rejected": [r.to_dict() for r in self.rejected],
        }


def read_leads(
    text: str,
    *,
    campaign: str,
    source: str = "<csv>",
    default_region: str = "US",
    required: tuple[str, ...] = (),
    existing: set[str] | None = None,
    id_taken: Callable[[str], bool] = lambda _id: False,
) -> ImportReport:
    """Validate every row of ``text`` (CSV with a header) into a lead or a rejection.

    Raises `DialerError` only when the file as a whole is unusable (no phone column).
    ``id_taken`` says whether a lead id is already stored (ids are unique store-wide).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""), restkey=_EXTRA)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "phone" not in header:
        raise DialerError(
            f"{source}:1: the header has no 'phone' column (got: {', '.join(header)})"
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise DialerError(f"{source}:1: required column(s) missing: {', '.join(missing)}")
    reader.fieldnames = header
    report = ImportReport(source=source, campaign=campaign)
    seen: dict[str, int] = {}  # E.164 -> first line that had it
    ids: dict[str, int] = {}
    known = existing or set()
    line = reader.line_num + 1
    for raw in reader:
        report.rows += 1
        row = {k: (v or "").strip() for k, v in raw.items() if k != _EXTRA and isinstance(v, str)}
        try:
            number = _valid_number(raw, row, required, default_region)
            _not_duplicate(number, seen, known)
            lead = _lead(row, number, campaign, line)
            _new_id(lead.id, ids, id_taken)
        except _Reject as exc:
            report.rejected.append(Rejected(line=line, reason=str(exc), row=row))
        else:
            seen[number], ids[lead.id] = line, line
            report.accepted.append(lead)
        line = reader.line_num + 1
    return report


_EXTRA = "\0extra"


class _Reject(Exception):
    """Why one row is not a lead (caught per row, reported with its line)."""


def _valid_number(
    raw: dict[str, Any], row: dict[str, str], required: tuple[str, ...], region: str
) -> str:
    if _EXTRA in raw:
        raise _Reject(f"{len(raw[_EXTRA])} more field(s) than the header")
    if any(v is None for v in raw.values()):
        raise _Reject("fewer fields than the header")
    if not row.get("phone"):
        raise _Reject("missing phone")
    empty = [c for c in required if not row.get(c)]
    if empty:
        raise _Reject(f"missing {', '.join(empty)}")
    if row.get("timezone") and not valid_zone(row["timezone"]):
        raise _Reject(f"unknown time zone {row['timezone']!r}")
    try:
        return to_e164(row["phone"], region)
    except InvalidNumber as exc:
        raise _Reject(str(exc)) from None


def _not_duplicate(number: str, seen: dict[str, int], known: set[str]) -> None:
    if number in seen:
        raise _Reject(f"duplicate of line {seen[number]} ({number})")
    if number in known:
        raise _Reject(f"{number} is already in the campaign")


def _new_id(lead_id: str, ids: dict[str, int], id_taken: Callable[[str], bool]) -> None:
    if lead_id in ids:
        raise _Reject(f"id {lead_id!r} already used on line {ids[lead_id]}")
    if id_taken(lead_id):
        raise _Reject(f"id {lead_id!r} is already a stored lead")


def import_leads(text: str, *, source: str, campaign: Campaign, store: DialerStore) -> ImportReport:
    """Validate ``text`` against ``campaign`` and the store, and store the accepted leads."""
    report = read_leads(
        text,
        campaign=campaign.name,
        source=source,
        default_region=campaign.default_region,
        required=campaign.required_fields,
        existing=store.campaign_numbers(campaign.name),
        id_taken=lambda lead_id: store.lead(lead_id) is not None,
    )
    store.put_leads(report.accepted)
    return report


def _lead(row: dict[str, str], number: str, campaign: str, line: int) -> Lead:
    return Lead(
        id=row.get("id") or f"{campaign}-{line}",
        campaign=campaign,
        phone=number,
        name=row.get("name", ""),
        customer_id=row.get("customer_id") or None,
        timezone=row.get("timezone") or None,
        region=(row.get("region") or "").upper() or None,
        source_line=line,
    )
