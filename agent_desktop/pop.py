"""The screen-pop: who is this, what did they say in the IVR, what happened before, why me.

Built when an offer reaches the desktop: the customer record (or the candidates
when several customers share the number), the tier, the IVR inputs and other
integration data, the customer's recent interactions, and the routing reason.
History comes from the customer store under a time box: a slow CRM delays a
pop by at most ``timeout_s`` and the pop then says ``history_status: timeout``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from crm.errors import CrmError
from crm.store import CustomerStore
from router.model import Contact

log = logging.getLogger(__name__)

History = tuple[list[dict[str, Any]], str]  # interactions, status


async def fetch_history(
    customers: CustomerStore, customer_id: str | None, limit: int, timeout_s: float
) -> History:
    if customer_id is None or limit <= 0:
        return [], "none"
    try:
        found = await asyncio.wait_for(customers.history(customer_id, limit), timeout_s)
    except TimeoutError:
        return [], "timeout"
    except CrmError as exc:
        log.warning("history of %s not read: %s", customer_id, exc.message)
        return [], "error"
    return [interaction.to_dict() for interaction in found], "ok"


def screen_pop(contact: Contact, history: History, reason: dict[str, Any] | None) -> dict[str, Any]:
    lookup: dict[str, Any] = contact.attributes.get("pop") or {}
    candidates: list[dict[str, Any]] = lookup.get("candidates") or []
    matched = lookup.get("status") == "matched" and len(candidates) == 1
    return {
        "label": lookup.get("label"),
        "lookup": lookup.get("status"),
        "normalized": lookup.get("normalized"),
        "customer": candidates[0] if matched else None,
        "candidates": [] if matched else candidates,
        "tier": contact.tier,
        "history": history[0],
        "history_status": history[1],
        "reason": reason,
    }
