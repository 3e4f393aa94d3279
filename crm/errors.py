"""The customer store's exception tree.

Every error a caller can cause is a `CrmError` subclass carrying a `code` and an
HTTP-ish `status`, mirroring `router.errors`, so the REST edge can map either
tree the same way. Stores validate before they write, so an error always leaves
the stored data as it was.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every error the customer store raises."""

    code = "crm_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CustomerNotFound(CrmError):
    code = "customer_not_found"
    status = 404

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"no customer with id {customer_id!r}")
        self.customer_id = customer_id


class DuplicateCustomer(CrmError):
    code = "duplicate_customer"
    status = 409

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"a customer with id {customer_id!r} already exists")
        self.customer_id = customer_id


class InvalidCustomer(CrmError):
    """A customer record that cannot be stored; names the offending field and value."""

    code = "invalid_customer"
    status = 422

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"invalid customer {field} {value!r}: {reason}")
        self.field = field
        self.value = value


class InvalidInteraction(CrmError):
    code = "invalid_interaction"
    status = 422

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"invalid interaction {field} {value!r}: {reason}")
        self.field = field
        self.value = value


class DuplicateInteraction(CrmError):
    code = "duplicate_interaction"
    status = 409

    def __init__(self, interaction_id: str) -> None:
        super().__init__(f"an interaction with id {interaction_id!r} already exists")
        self.interaction_id = interaction_id


class StoreClosed(CrmError):
    """The store was closed; a caller holding it past shutdown gets this, not a crash."""

    code = "store_closed"
    status = 503

    def __init__(self) -> None:
        super().__init__("the customer store is closed")
