"""Caller-id and e-mail normalisation: the shapes a SIP edge and a mail gateway hand over."""

from __future__ import annotations

import pytest

from crm.phone import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("00 44 20 7946 0958", "GB", "+442079460958"),
        ("sip:+15551234567@trunk.example;user=phone", "US", "+15551234567"),
        ("sips:+15551234567@trunk.example:5061", "US", "+15551234567"),
        ("tel:+1-555-123-4567", "US", "+15551234567"),
        ("tel:+1-555-123-4567;ext=12", "US", "+15551234567"),
        ("sip:+15551234567;npdi;rn=+15550000000@trunk.example", "US", "+15551234567"),
        ('"Alice Smith" <sip:+15551234567@pbx.example>;tag=8f2a', "US", "+15551234567"),
        ("<sip:07700900123@pbx.local>", "GB", "+447700900123"),
        ("sip:%2B15551234567@trunk.example", "US", "+15551234567"),
        ("(555) 123-4567", "US", "+15551234567"),
        ("  +1 202 555 0147  ", "GB", "+12025550147"),
    ],
)
def test_normalize_phone_accepts_edge_forms(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        (None, "US"),
        ("", "US"),
        ("   ", "US"),
        ("anonymous", "US"),
        ("Anonymous", "US"),
        ("sip:anonymous@anonymous.invalid", "US"),
        ('"Withheld" <sip:withheld@trunk.example>', "GB"),
        ("unknown", "US"),
        ("RESTRICTED", "US"),
        ("private", "US"),
        ("sip:alice@example.com", "US"),
        ("12", "US"),  # too short to be possible anywhere
        ("+1555123456789012", "US"),  # too long
        ("555 123 4567", "ZZ"),  # national form with no region to read it by
        ("+999 1234567", "US"),  # no such country code
        ("1" * 300, "US"),
    ],
)
def test_normalize_phone_rejects_withheld_and_invalid(raw: str | None, region: str) -> None:
    assert normalize_phone(raw, region) is None


def test_normalize_phone_is_idempotent_on_e164() -> None:
    e164 = "+447700900456"
    assert normalize_phone(e164, "ZZ") == e164
    assert normalize_phone(normalize_phone("07700 900456", "GB"), "ZZ") == e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("Alice Smith <Alice.Smith@Example.com>", "alice.smith@example.com"),
        ('"Smith, Alice" <alice@example.com>', "alice@example.com"),
        ("mailto:Bob@Example.org", "bob@example.org"),
    ],
)
def test_normalize_email_extracts_and_lowercases(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "not-an-address", "@example.com", "alice@", "a@@example.com", "a b@c.d"],
)
def test_normalize_email_rejects_non_addresses(raw: str | None) -> None:
    assert normalize_email(raw) is None
