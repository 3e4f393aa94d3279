"""Ringway's customer store: who is calling, what tier they are, who looks after them.

Import from here; the submodules are an implementation detail except for the
backends (`crm.sqlite`, `crm.memory`) an application chooses between.
"""

from router._native import use_native

use_native(__path__, __name__)  # the model and the lookup may load compiled (docs/native-build.md)

from crm.errors import (  # noqa: E402 (after use_native)
    CrmError,
    CustomerNotFound,
    DuplicateCustomer,
    DuplicateInteraction,
    InvalidCustomer,
    InvalidInteraction,
    StoreClosed,
)
from crm.lookup import CustomerLookup, LookupResult, LookupStatus  # noqa: E402
from crm.memory import MemoryCustomerStore  # noqa: E402
from crm.model import Consent, Customer, Interaction, Tier  # noqa: E402
from crm.phone import normalize_email, normalize_phone  # noqa: E402
from crm.sqlite import SQLiteCustomerStore  # noqa: E402
from crm.store import CustomerStore  # noqa: E402

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
