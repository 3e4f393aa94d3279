"""Reading dialable numbers: strict E.164, with a default region for national forms."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumber

from dialer.errors import InvalidNumber

_MAX_LENGTH = 64


def parse_number(text: str, default_region: str = "US") -> PhoneNumber:
    """Parse ``text``; raise `InvalidNumber` (one line) unless it is a possible number.

    ``is_possible_number`` (length) rather than ``is_valid_number``: a number in
    a range phonenumbers does not know is still a number somebody may own, and
    the window check refuses it anyway when no zone can be found.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > _MAX_LENGTH:
        raise InvalidNumber(f"{text!r} is not a phone number")
    try:
        number = phonenumbers.parse(cleaned, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"{text!r} is not a phone number ({_reason(exc)})") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber(f"{text!r} has the wrong length for a {_region(number)} number")
    return number


def to_e164(text: str, default_region: str = "US") -> str:
    return e164(parse_number(text, default_region))


def e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _region(number: PhoneNumber) -> str:
    code = number.country_code or 0
    return phonenumbers.region_code_for_country_code(code) or f"+{code}"


def _reason(exc: phonenumbers.NumberParseException) -> str:
    # str() is "(1) The string supplied ..."; drop the numeric error type.
    text = str(exc)
    return text.split(") ", 1)[1] if text.startswith("(") and ") " in text else text
