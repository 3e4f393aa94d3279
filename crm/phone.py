"""Normalising caller ids and e-mail addresses into the keys the store indexes.

A SIP edge hands the CLI over in whatever shape the trunk used: a bare number, a
``tel:`` URI, a ``sip:`` URI with parameters, or a full From header with a
display name. Everything is reduced to E.164 so that one customer is found the
same way whichever trunk the call came in on. Anything that is not a usable
number (withheld, anonymous, garbage) becomes ``None`` rather than an error: an
unknown caller is a normal case for routing, not a failure.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from urllib.parse import unquote

import phonenumbers

# What carriers and PBXs put in the From user part when the caller hides the number.
_WITHHELD = frozenset(
    {
        "anonymous",
        "withheld",
        "unknown",
        "restricted",
        "private",
        "unavailable",
        "blocked",
        "none",
    }
)
_URI_SCHEME = re.compile(r"^(sips?|tel):", re.IGNORECASE)
# Longest input worth handing to phonenumbers; longer strings are never CLIs.
_MAX_CLI_LENGTH = 200


def _strip_uri(raw: str) -> str:
    """Reduce a From header / SIP or tel URI to the user part that carries the number."""
    text = raw.strip()
    # A display name form: '"Alice" <sip:+1555...@host>' -- only the bracketed URI counts.
    if "<" in text and ">" in text:
        text = text[text.index("<") + 1 : text.index(">")].strip()
    match = _URI_SCHEME.match(text)
    if match is None:
        return text
    scheme = match.group(1).lower()
    text = text[match.end() :]
    if scheme != "tel":
        text = text.split("@", 1)[0]
    # URI parameters (';user=phone', ';npdi', ';ext=') are not part of the number.
    text = text.split(";", 1)[0]
    return unquote(text).strip()


def _is_withheld(text: str) -> bool:
    letters = re.sub(r"[^a-z]", "", text.lower())
    return letters in _WITHHELD or not any(ch.isdigit() for ch in text)


# normalize_phone is pure and phonenumbers' parse is its cost (~40 µs); a call looks
# its caller's number up several times (IVR attribute, CRM lookup, store query), and
# repeat callers come back. Bounded so hostile CLIs cannot grow it without limit.
_CACHE_SIZE = 4096


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_phone(raw: str | None, default_region: str = "US") -> str | None:
    """Return ``raw`` as an E.164 number, or ``None`` if it is withheld or unusable.

    ``default_region`` (ISO 3166 alpha-2) says how to read national numbers such
    as ``020 7946 0958``; pass ``"ZZ"`` to accept only numbers that carry their
    own country code.
    """
    if raw is None:
        return None
    text = _strip_uri(raw)
    if not text or len(text) > _MAX_CLI_LENGTH or _is_withheld(text):
        return None
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    # is_possible (length check) rather than is_valid: fictional and newly
    # allocated ranges fail is_valid yet are real callers we must still find.
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    """Return the bare, lower-cased address in ``raw`` (``Name <a@b.c>`` too), or ``None``."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    _, address = parseaddr(text)
    address = address.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in address):
        return None
    return address
