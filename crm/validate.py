"""Checks every store runs before it writes, so all implementations accept the same records.

Validation also canonicalises: phones are re-normalised to E.164 and e-mails
lower-cased, both de-duplicated in order. That makes the phone/e-mail indexes
exact-match lookups, whoever built the record.
"""

from __future__ import annotations

from dataclasses import replace

from crm.errors import InvalidCustomer, InvalidInteraction
from crm.model import Customer, Interaction, Tier, parse_instant
from crm.phone import normalize_email, normalize_phone

CHANNELS = frozenset({"voice", "chat", "email", "callback", "outbound", "task"})
DIRECTIONS = frozenset({"inbound", "outbound"})
# Stored numbers must carry their own country code: a store has no region to guess with.
_NO_REGION = "ZZ"


def validate_customer(customer: Customer) -> Customer:
    """Return ``customer`` in canonical form, or raise `InvalidCustomer` naming the field."""
    if not isinstance(customer.id, str) or not customer.id.strip():
        raise InvalidCustomer("id", customer.id, "must be a non-empty string")
    if not isinstance(customer.name, str):
        raise InvalidCustomer("name", customer.name, "must be a string")
    if customer.tier is not None and not isinstance(customer.tier, Tier):
        raise InvalidCustomer("tier", customer.tier, "must be a Tier or None")
    _check_preferences(customer.preferences)
    _check_consents(customer)
    return replace(
        customer,
        phones=_canonical_phones(customer.phones),
        emails=_canonical_emails(customer.emails),
        preferences=dict(customer.preferences),
    )


def _canonical_phones(phones: tuple[str, ...]) -> tuple[str, ...]:
    result: list[str] = []
    for raw in phones:
        e164 = normalize_phone(raw, _NO_REGION) if isinstance(raw, str) else None
        if e164 is None:
            raise InvalidCustomer("phones", raw, "not an E.164 number (+<country><number>)")
        if e164 not in result:
            result.append(e164)
    return tuple(result)


def _canonical_emails(emails: tuple[str, ...]) -> tuple[str, ...]:
    result: list[str] = []
    for raw in emails:
        address = normalize_email(raw) if isinstance(raw, str) else None
        if address is None:
            raise InvalidCustomer("emails", raw, "not an e-mail address")
        if address not in result:
            result.append(address)
    return tuple(result)


def _check_preferences(preferences: dict[str, str]) -> None:
    for key, value in preferences.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidCustomer("preferences", {key: value}, "keys and values must be strings")


def _check_consents(customer: Customer) -> None:
    for consent in customer.consents:
        if not consent.purpose:
            raise InvalidCustomer("consents.purpose", consent.purpose, "must be non-empty")
        if not isinstance(consent.granted, bool):
            raise InvalidCustomer("consents.granted", consent.granted, "must be a bool")
        try:
            parse_instant(consent.at)
        except (TypeError, ValueError):
            raise InvalidCustomer("consents.at", consent.at, "not an ISO-8601 time") from None


def validate_interaction(interaction: Interaction) -> Interaction:
    """Return ``interaction`` unchanged if storable, else raise `InvalidInteraction`."""
    for name in ("id", "customer_id"):
        value = getattr(interaction, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInteraction(name, value, "must be a non-empty string")
    if interaction.channel not in CHANNELS:
        choices = ", ".join(sorted(CHANNELS))
        raise InvalidInteraction("channel", interaction.channel, f"must be one of {choices}")
    if interaction.direction not in DIRECTIONS:
        raise InvalidInteraction("direction", interaction.direction, "must be inbound or outbound")
    try:
        parse_instant(interaction.at)
    except (TypeError, ValueError):
        raise InvalidInteraction("at", interaction.at, "not an ISO-8601 time") from None
    return interaction
