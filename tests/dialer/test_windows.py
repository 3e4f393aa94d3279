"""Calling windows in the callee's local time, every answer computed by hand.

US federal window 08:00-21:00 (47 CFR 64.1200(c)(1)); Canadian numbers also
within the CRTC Telemarketing Rules' 09:00-21:30 weekdays, 10:00-18:00 weekends;
Florida, Oklahoma and Maryland 08:00-20:00 (Fla. Stat. 501.059(8)(a); Okla. Stat. tit. 15 §775C.4;
Md. Com. Law §14-4502). US and Canadian daylight time in 2026 starts Sunday
8 March 02:00 local and ends Sunday 1 November; Saskatchewan (Regina) and
Arizona (Phoenix) keep standard time all year; the Navajo Nation (in area
code 928, America/Denver) does not. The offsets in the comments are
the hand computation; the test never asks zoneinfo for the expected answer.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers
import pytest

from dialer.campaign import default_campaign
from dialer.compliance import Compliance, Result
from dialer.compliance.zones import locate
from dialer.store import MemoryDialerStore

US = default_campaign("US")

# (number, instant UTC, allowed?, why — the hand computation)
CASES = [
    # --- New York (EST -5 / EDT -4): the DST change moves the same UTC instant
    ("+12125550100", "2026-03-07T12:30:00Z", False, "Sat 07:30 EST, before 08:00"),
    ("+12125550100", "2026-03-07T13:30:00Z", True, "Sat 08:30 EST"),
    ("+12125550100", "2026-03-09T12:30:00Z", True, "Mon 08:30 EDT: same UTC hour now allowed"),
    ("+12125550100", "2026-03-07T01:30:00Z", True, "Fri 20:30 EST"),
    ("+12125550100", "2026-03-10T01:30:00Z", False, "Mon 21:30 EDT, after 21:00"),
    ("+12125550100", "2026-01-15T13:00:00Z", True, "08:00:00 EST: the start is inclusive"),
    ("+12125550100", "2026-01-16T01:59:59Z", True, "20:59:59 EST"),
    ("+12125550100", "2026-01-16T02:00:00Z", False, "21:00:00 EST: the end is exclusive"),
    ("+12125550100", "2026-10-31T12:30:00Z", True, "Sat 08:30 EDT (before fall-back)"),
    ("+12125550100", "2026-11-02T12:30:00Z", False, "Mon 07:30 EST (after fall-back)"),
    # --- Canada: the US pack adds the CRTC Telemarketing Rules' hours, by the
    #     number's country: 09:00-21:30 Monday-Friday, 10:00-18:00 at weekends.
    # Toronto (EST/EDT like New York)
    ("+14165550123", "2026-03-07T13:30:00Z", False, "Sat 08:30 EST: CRTC weekends from 10:00"),
    ("+14165550123", "2026-03-07T15:30:00Z", True, "Sat 10:30 EST"),
    ("+14165550123", "2026-03-07T23:30:00Z", False, "Sat 18:30 EST: CRTC weekends end 18:00"),
    ("+14165550123", "2026-03-09T12:30:00Z", False, "Mon 08:30 EDT: US yes, CRTC from 09:00"),
    ("+14165550123", "2026-03-09T13:30:00Z", True, "Mon 09:30 EDT"),
    ("+14165550123", "2026-03-10T01:30:00Z", False, "Mon 21:30 EDT"),
    # Vancouver (PST -8 / PDT -7)
    ("+16045550123", "2026-03-07T13:30:00Z", False, "Sat 05:30 PST"),
    ("+16045550123", "2026-03-07T01:30:00Z", True, "Fri 17:30 PST"),
    ("+16045550123", "2026-03-10T01:30:00Z", True, "Mon 18:30 PDT"),
    ("+16045550123", "2026-03-09T16:30:00Z", True, "Mon 09:30 PDT"),
    ("+16045550123", "2026-03-06T16:30:00Z", False, "Fri 08:30 PST: same UTC, before DST"),
    # Regina (CST -6 all year, no DST)
    ("+13065550123", "2026-03-09T15:30:00Z", True, "Mon 09:30 CST"),
    ("+13065550123", "2026-03-09T14:30:00Z", False, "Mon 08:30 CST: no DST in Saskatchewan"),
    # --- Phoenix (MST -7 all year, no DST)
    ("+16025550123", "2026-03-09T14:30:00Z", False, "07:30 MST: Arizona keeps standard time"),
    ("+16025550123", "2026-03-09T15:30:00Z", True, "08:30 MST"),
    ("+16025550123", "2026-03-10T03:30:00Z", True, "20:30 MST"),
    # --- 928-455: exchange unknown; 928 also covers the Navajo Nation, which keeps
    #     daylight time (America/Denver): Phoenix 20:30 MST but Denver 21:30 MDT.
    ("+19284550123", "2026-03-10T03:30:00Z", False, "Phoenix 20:30, Navajo Nation 21:30"),
    ("+19284550123", "2026-01-16T03:30:00Z", True, "January: Phoenix and Denver both 20:30"),
    # --- Pensacola, Florida (CST -6 / CDT -5): Florida's 20:00 end
    ("+18504340000", "2026-01-15T01:30:00Z", True, "19:30 CST"),
    ("+18504340000", "2026-01-15T02:30:00Z", False, "20:30 CST: federal yes, Florida no"),
    ("+18504340000", "2026-07-15T02:30:00Z", False, "21:30 CDT"),
    ("+18504340000", "2026-03-07T01:30:00Z", True, "19:30 CST"),
    ("+18504340000", "2026-03-10T01:30:00Z", False, "20:30 CDT: DST pushed it past 20:00"),
    # --- Oklahoma (America/Chicago) and Maryland (America/New_York): 20:00 end
    ("+14055550123", "2026-03-07T01:30:00Z", True, "19:30 CST"),
    ("+14055550123", "2026-03-10T01:30:00Z", False, "20:30 CDT, Oklahoma ends at 20:00"),
    ("+14105550123", "2026-03-07T00:30:00Z", True, "19:30 EST"),
    ("+14105550123", "2026-03-07T01:30:00Z", False, "20:30 EST, Maryland ends at 20:00"),
    # --- 208-555: Boise (MST -7 / MDT -6) and Los Angeles (PST -8 / PDT -7): overlap only
    ("+12085550123", "2026-01-15T15:30:00Z", False, "Boise 08:30 but Los Angeles 07:30"),
    ("+12085550123", "2026-01-15T16:30:00Z", True, "Boise 09:30, Los Angeles 08:30"),
    ("+12085550123", "2026-01-16T03:30:00Z", True, "Boise 20:30, Los Angeles 19:30"),
    ("+12085550123", "2026-01-16T04:30:00Z", False, "Boise 21:30"),
    ("+12085550123", "2026-03-09T15:30:00Z", True, "after DST: Boise 09:30, Los Angeles 08:30"),
    # --- 270-555: exchange unknown, area code spans Chicago and New York: overlap
    ("+12705550123", "2026-01-15T13:30:00Z", False, "New York 08:30 but Chicago 07:30"),
    ("+12705550123", "2026-01-15T14:30:00Z", True, "Chicago 08:30, New York 09:30"),
    ("+12705550123", "2026-01-16T02:30:00Z", False, "Chicago 20:30 but New York 21:30"),
    # --- 270-442 (Paducah): the exchange is known to be Chicago only
    ("+12704420000", "2026-01-16T02:30:00Z", True, "Chicago 20:30, Kentucky has no 20:00 rule"),
    # --- 907-555: exchange unknown; 907 spans Adak (-10), Anchorage and Juneau (-9) and,
    #     per phonenumbers, Honolulu (-10, no DST)
    ("+19075550123", "2026-01-15T17:30:00Z", False, "Anchorage 08:30 but Adak 07:30"),
    ("+19075550123", "2026-01-15T18:30:00Z", True, "Adak and Honolulu 08:30, Anchorage 09:30"),
    # --- 709: Halifax (AST -4) and St John's (NST -3:30), CRTC hours too
    ("+17095550123", "2026-03-06T13:30:00Z", True, "Fri: Halifax 09:30, St John's 10:00"),
    ("+17095550123", "2026-03-06T12:45:00Z", False, "Fri: Halifax 08:45, St John's 09:15"),
    ("+17095550123", "2026-03-07T01:00:00Z", False, "Fri: Halifax 21:00, St John's 21:30"),
    ("+17095550123", "2026-03-07T00:29:00Z", True, "Fri: Halifax 20:29, St John's 20:59"),
    ("+17095550123", "2026-03-07T21:15:00Z", True, "Sat: Halifax 17:15, St John's 17:45"),
    ("+17095550123", "2026-03-07T21:45:00Z", False, "Sat: St John's 18:15, after 18:00"),
    # --- no usable zone: never called
    ("+15555550123", "2026-01-15T18:00:00Z", False, "555 is not a real area code: zone unknown"),
    ("+18005550123", "2026-01-15T18:00:00Z", False, "toll-free: non-geographic"),
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("number", "at", "allowed", "why"), CASES)
def test_window_answer_matches_hand_computation(
    number: str, at: str, allowed: bool, why: str
) -> None:
    gate = Compliance(MemoryDialerStore())
    verdict = gate.check(number, _at(at), US)
    window = next(r for r in verdict.reasons if r.check == "window")
    assert (window.result is Result.PASS) is allowed, f"{number} at {at}: {why}: {window.detail}"
    assert verdict.allowed is allowed  # nothing else blocks: empty DNC, no attempts


def test_two_zone_area_code_exists_and_is_resolved_to_both() -> None:
    zones = phonenumbers.timezone.time_zones_for_number(phonenumbers.parse("+12085550123"))
    assert zones == ("America/Boise", "America/Los_Angeles")
    where = locate(phonenumbers.parse("+12085550123"))
    assert where.zones == ("America/Boise", "America/Los_Angeles") and where.region == "ID"


def test_area_code_fallback_to_one_zone_is_widened_to_the_area_codes_zones() -> None:
    # phonenumbers alone says New York for 270-555, although 270 also covers Central time.
    alone = phonenumbers.timezone.time_zones_for_number(phonenumbers.parse("+12705550123"))
    assert alone == ("America/New_York",)
    where = locate(phonenumbers.parse("+12705550123"))
    assert where.zones == ("America/Chicago", "America/New_York")
    assert where.basis == "area_code_spans_zones"


def test_proof_records_each_zones_local_time() -> None:
    verdict = Compliance(MemoryDialerStore()).check("+12085550123", _at("2026-01-15T15:30:00Z"), US)
    window = next(r for r in verdict.reasons if r.check == "window")
    assert window.data["local_times"] == {
        "America/Boise": "2026-01-15T08:30:00-07:00",
        "America/Los_Angeles": "2026-01-15T07:30:00-08:00",
    }
    assert "America/Los_Angeles" in window.detail


def test_explicit_zone_on_the_lead_wins_over_the_number() -> None:
    from dialer.leads import Lead

    lead = Lead(id="l1", campaign=US.name, phone="+18005550123", timezone="America/Denver")
    at = _at("2026-01-15T15:30:00Z")  # 08:30 MST
    verdict = Compliance(MemoryDialerStore()).check("+18005550123", at, US, lead)
    assert verdict.allowed


def test_holiday_blocks_the_whole_local_day() -> None:
    from dialer.campaign import load_campaign_text

    campaign = load_campaign_text(
        'name: xmas\ncaller_id: "+12125550100"\nwindows:\n  holidays: [2026-12-25]\n'
    )
    gate = Compliance(MemoryDialerStore())
    # 2026-12-25T15:00Z is 10:00 EST on Christmas Day in New York ...
    assert not gate.check("+12125550100", _at("2026-12-25T15:00:00Z"), campaign).allowed
    # ... and 2026-12-26T02:30Z is 18:30 PST, still the 25th, in Vancouver.
    assert not gate.check("+16045550123", _at("2026-12-26T02:30:00Z"), campaign).allowed
    # 2026-12-26T15:00Z is 10:00 on the 26th in New York: allowed again.
    assert gate.check("+12125550100", _at("2026-12-26T15:00:00Z"), campaign).allowed


def test_campaign_window_by_weekday() -> None:
    from dialer.campaign import load_campaign_text

    campaign = load_campaign_text(
        'name: weekdays\ncaller_id: "+12125550100"\nwindows:\n'
        '  default: [{start: "09:00", end: "20:00", days: mon-fri}]\n'
    )
    gate = Compliance(MemoryDialerStore())
    assert gate.check("+12125550100", _at("2026-03-09T13:30:00Z"), campaign).allowed  # Mon 09:30
    assert not gate.check("+12125550100", _at("2026-03-07T14:30:00Z"), campaign).allowed  # Sat
    assert not gate.check("+12125550100", _at("2026-03-09T12:30:00Z"), campaign).allowed  # 08:30


@pytest.mark.parametrize(
    ("number", "at", "opens", "why"),
    [
        ("+18504340000", "2026-01-15T02:30:00Z", "2026-01-15T14:00:00+00:00", "08:00 CST next day"),
        ("+12085550123", "2026-01-15T15:30:00Z", "2026-01-15T16:00:00+00:00", "08:00 PST in LA"),
        ("+14165550123", "2026-03-07T13:30:00Z", "2026-03-07T15:00:00+00:00", "Sat 10:00 EST"),
        ("+14165550123", "2026-03-07T23:30:00Z", "2026-03-08T14:00:00+00:00", "Sun 10:00 EDT"),
        ("+12125550100", "2026-03-08T06:00:00Z", "2026-03-08T12:00:00+00:00", "08:00 EDT"),
        ("+17095550123", "2026-03-06T12:45:00Z", "2026-03-06T13:00:00+00:00", "Halifax 09:00"),
    ],
)
def test_refusal_names_when_the_window_opens(number: str, at: str, opens: str, why: str) -> None:
    verdict = Compliance(MemoryDialerStore()).check(number, _at(at), US)
    window = next(r for r in verdict.reasons if r.check == "window")
    assert window.result is Result.FAIL
    assert window.data["next_open"] == opens, why


def test_next_open_skips_a_holiday() -> None:
    from dialer.campaign import load_campaign_text

    campaign = load_campaign_text(
        'name: xmas\ncaller_id: "+12125550100"\nwindows:\n  holidays: [2026-12-25]\n'
    )
    verdict = Compliance(MemoryDialerStore()).check(
        "+12125550100", _at("2026-12-25T15:00:00Z"), campaign
    )
    window = next(r for r in verdict.reasons if r.check == "window")
    assert window.data["next_open"] == "2026-12-26T13:00:00+00:00"  # 08:00 EST on the 26th


def test_uk_campaign_window_in_london_time() -> None:
    from dialer.campaign import load_campaign_text

    uk = load_campaign_text(
        'name: uk\njurisdiction: UK\ncaller_id: "020 7946 0000"\nwindows:\n  default:\n'
        '    - {start: "09:00", end: "21:30", days: mon-sat}\n'
    )
    gate = Compliance(MemoryDialerStore())
    london = "+442079460958"
    # January: GMT = UTC. July: BST = UTC+1.
    assert gate.check(london, _at("2026-01-15T21:15:00Z"), uk).allowed  # Thu 21:15 GMT
    assert not gate.check(london, _at("2026-01-15T21:30:00Z"), uk).allowed  # 21:30 GMT
    assert not gate.check(london, _at("2026-07-16T20:45:00Z"), uk).allowed  # Thu 21:45 BST
    assert gate.check(london, _at("2026-07-16T08:00:00Z"), uk).allowed  # 09:00 BST
    assert not gate.check(london, _at("2026-01-18T12:00:00Z"), uk).allowed  # Sunday
