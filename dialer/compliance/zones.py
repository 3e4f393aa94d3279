"""Where is the callee? Time zones and state/province from the number (or the lead).

`phonenumbers` maps a number to IANA zones by its longest known prefix, up to
NANP area code + exchange (NPA-NXX). Two traps (research: anchors-performance
§E.4): an exchange without its own entry falls back to the area code's default,
which in a split area code (270, 850, 208, ...) may be a single *wrong* zone;
and non-geographic numbers (toll-free, personal, VoIP) map to every zone of the
country. So: an explicit zone on the lead wins; a NANP number resolved only to
an area code that spans zones gets *all* of that area code's zones (the caller
then uses the overlap of their windows); a non-geographic number or an unknown
zone cannot be placed in time and is not called without an explicit zone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType, geocoder
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

NON_GEOGRAPHIC = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UAN,
        PhoneNumberType.PAGER,
        PhoneNumberType.VOICEMAIL,
        PhoneNumberType.VOIP,
    }
)
_AREA_CODE_KEY_LENGTH = 4  # "1" + NPA in phonenumbers' prefix table


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """The callee's candidate zones and region, and how we know them."""

    zones: tuple[str, ...]  # empty: unknown, do not call
    basis: str  # "lead", "exchange", "area_code", "area_code_spans_zones", "unknown", ...
    region: str | None  # "FL", "ON", ... (NANP); None elsewhere or unknown
    region_basis: str  # "lead", "geocoder", "none"
    country: str | None = None  # ISO 3166 code of the number: "US", "CA", "GB", ...


def locate(number: PhoneNumber, zone: str | None = None, region: str | None = None) -> Location:
    zones, basis = _zones(number, zone)
    found_region, region_basis = _region(number, region)
    return Location(
        zones=zones,
        basis=basis,
        region=found_region,
        region_basis=region_basis,
        country=phonenumbers.region_code_for_number(number),
    )


@functools.lru_cache(maxsize=1 << 16)
def locate_e164(e164: str, zone: str | None = None, region: str | None = None) -> Location:
    """`locate` for an E.164 string, cached: a lead list is checked again at every retry,
    and the answer depends on the number and the phonenumbers data only."""
    return locate(phonenumbers.parse(e164), zone, region)


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zones(number: PhoneNumber, explicit: str | None) -> tuple[tuple[str, ...], str]:
    if explicit is not None:
        return ((explicit,), "lead") if valid_zone(explicit) else ((), "unknown")
    if phonenumbers.number_type(number) in NON_GEOGRAPHIC:
        return (), "non_geographic"
    found = tuple(z for z in pn_timezone.time_zones_for_number(number) if valid_zone(z))
    if not found:
        return (), "unknown"
    if number.country_code != 1:
        return found, "prefix"
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    if _matched_prefix_length(digits) > _AREA_CODE_KEY_LENGTH:
        return found, "exchange"
    area_zones = _area_code_zones(digits[:_AREA_CODE_KEY_LENGTH])
    if set(area_zones) - set(found):
        return tuple(sorted(set(area_zones) | set(found))), "area_code_spans_zones"
    return found, "area_code"


def _matched_prefix_length(digits: str) -> int:
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        if digits[:length] in TIMEZONE_DATA:
            return length
    return 0


@functools.cache
def _area_code_zones(prefix: str) -> tuple[str, ...]:
    """Every zone any exchange of this NANP area code maps to."""
    zones = {z for key, value in TIMEZONE_DATA.items() if key.startswith(prefix) for z in value}
    return tuple(sorted(z for z in zones if valid_zone(z)))


def _region(number: PhoneNumber, explicit: str | None) -> tuple[str | None, str]:
    if explicit:
        return explicit.upper(), "lead"
    if number.country_code != 1:
        return None, "none"
    text = geocoder.description_for_number(number, "en")
    if ", " in text:  # "Pensacola, FL"
        suffix = text.rsplit(", ", 1)[1].strip()
        return (suffix, "geocoder") if len(suffix) == 2 else (None, "none")
    code = NANP_REGIONS.get(text)
    return (code, "geocoder") if code else (None, "none")


# geocoder's area-code level answers ("Florida") -> postal codes.
NANP_REGIONS = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington": "WA", "Washington D.C.": "DC", "Washington, D.C.": "DC",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
    "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
    "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
}  # fmt: skip
