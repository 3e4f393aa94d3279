"""A dialled call's record: one per attempt whose INVITE left, answered or not.

The runner keeps a `DialFacts` per attempt from the dial to the outcome and
hands `cdr_of` to the telephony's call archive, which files inbound calls'
records too (`ringway.telephony_records.CallArchive`): the in-memory list
(`GET /api/v1/calls`), ``cdr.jsonl`` and the CDR store (`GET /api/v1/cdrs`),
with ``direction: outbound``. Times are loop seconds here (the archive makes
them epoch seconds, as for the B2BUA's records).

    cli         the caller ID we sent (From / P-Asserted-Identity)
    dialed      the number dialled (E.164)
    hangup_side customer (their BYE or final answer), agent (phone BYE or the
                desktop ending the contact), system (our CANCEL on ring timeout,
                the safe-harbour hang-up, a campaign stop)
    dialer      campaign, lead_id, attempt_id (the compliance proof is filed
                under it: ``proof_id``), ring_s, sip_status, rtp (packets
                relayed each way)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dialer.leads import Lead, Outcome
from ringway.dialer_live.bridge import AgentPhones
from ringway.dialer_live.line import DialLine
from ringway.service import RoutingService
from router.errors import RoutingError

log = logging.getLogger(__name__)

CANCELLED = 487  # Request Terminated: the INVITE's answer to our CANCEL (RFC 3261 §9.2)


@dataclass(slots=True)
class DialFacts:
    attempt_id: str
    campaign: str
    queue: str | None
    lead: Lead
    line: DialLine
    contact_id: str | None = None
    phones: AgentPhones | None = None
    recording_id: str | None = None


def file_cdr(
    service: RoutingService,
    on_dialled: Callable[[dict[str, Any]], None],
    facts: DialFacts,
    outcome: Outcome,
) -> None:
    """Hand the attempt's record to ``on_dialled`` (the call archive); never raises."""
    agent_id = None
    with contextlib.suppress(RoutingError):
        contact = service.router.contact(facts.contact_id or "")
        agent_id = contact.agent_id if contact.answered_at is not None else None
    try:
        record = cdr_of(facts, outcome, agent_id)
        if record is not None:
            on_dialled(record)
    except Exception:  # the call is over either way; its outcome is recorded
        log.exception("dialer %s: CDR of %s not filed", facts.campaign, facts.attempt_id)


def cdr_of(facts: DialFacts, outcome: Outcome, agent_id: str | None) -> dict[str, Any] | None:
    """The attempt's record, or None when no INVITE ever left (no port, no line)."""
    line, phones = facts.line, facts.phones
    if line.call is None or line.started_at is None:
        return None
    now = asyncio.get_running_loop().time()
    connected = phones.connected if phones is not None else None
    agent = agent_id or (connected.agent_id if connected is not None else None)
    rung_until = line.answered_at if line.answered_at is not None else now
    relayed = dict(phones.relayed) if phones is not None else {}
    record: dict[str, Any] = {
        "call_id": line.call_id,
        "direction": "outbound",
        "contact_id": facts.contact_id,
        "cli": line.caller_id,
        "dialed": facts.lead.phone,
        "started_at": line.started_at,
        "answered_at": line.answered_at,
        "bridged_at": phones.bridged_at if phones is not None else None,
        "ended_at": now,
        "agent_id": agent,
        "queue": facts.queue,
        "customer_id": facts.lead.customer_id,
        "outcome": outcome.value,
        "hangup_side": _hung_up_by(facts, outcome),
        "dialer": {
            "campaign": facts.campaign,
            "lead_id": facts.lead.id,
            "attempt_id": facts.attempt_id,
            "proof_id": facts.attempt_id,
            "ring_s": round(max(0.0, rung_until - line.started_at), 3),
            "sip_status": line.status,
            "rtp": {
                "caller_to_agent": relayed.get("caller_to_agent", 0),
                "agent_to_caller": relayed.get("agent_to_caller", 0),
            },
        },
    }
    if facts.recording_id is not None:
        record["recording_id"] = facts.recording_id
    return record


def _hung_up_by(facts: DialFacts, outcome: Outcome) -> str:
    line = facts.line
    if line.answered_at is None:  # the carrier's final answer, or our CANCEL (487)
        return "system" if line.timed_out or line.status == CANCELLED else "customer"
    if line.their_bye:
        return "customer"
    if outcome is Outcome.ANSWERED:  # the phone's BYE or the desktop ending the contact
        return "agent"
    return "system"  # safe harbour, machine, a campaign stop
