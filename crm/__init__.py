"""Ringway's customer store: who is calling, what tier they are, who looks after them.

Import from here; the submodules are an implementation detail except for the
backends (`crm.sqlite`, `crm.memory`) an application chooses between.
"""

from crm.errors import (
    CrmError,
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateInteraction,
    InvalidCustomer,
    InvalidInteraction,
    StoreClosed,
)
from crm.lookup import CustomerLookup, LookupResult, LookupStatus
from crm.memory import MemoryCustomerStore
from crm.model import Consent, Customer, Interaction, Tier
from crm.phone import normalize_email, normalize_phone
from crm.sqlite import SQLiteCustomerStore
from crm.store import CustomerStore

__all__ = [
    "Consent",
    "CrmError",
    "Customer",
    "CustomerLookup",
    "CustomerNotFound",
    "CustomerStore",
    "DuplicateCustomer",
    "DuplicateInteraction",
    "Interaction",
    "InvalidCustomer",
    "InvalidInteraction",
    "LookupResult",
    "LookupStatus",
    "MemoryCustomerStore",
    "SQLiteCustomerStore",
    "StoreClosed",
    "Tier",
    "normalize_email",
    "normalize_phone",
]
