"""E-mail contacts: what the router is given for a message, and when it is done with one."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from channels.mail.message import InboundMail
from channels.mail.threads import Case
from router import events as ev
from router.model import Channel

if TYPE_CHECKING:
    from ringway.service import NewContact

CONTACT_PREFIX = "c-mail-"


def email_contact(
    mail: InboundMail,
    case: Case,
    contact_id: str,
    mailboxes: Collection[str],
    preferred_agent: str | None,
    extra: dict[str, Any],
) -> NewContact:
    """``mail`` as an ``email`` contact of ``case``; ``extra`` joins ``attributes.email``
    (``received_at``, and after a restart ``requeued_at`` and ``requeues``)."""
    from ringway.service import NewContact  # at call time: ringway.service has an import cycle

    mailbox = next((r for r in mail.recipients if r in mailboxes), None)
    return NewContact(
        channel=Channel.EMAIL,
        entry_point=mailbox,
        origin=mail.sender,
        id=contact_id,
        preferred_agent=preferred_agent,
        attributes={"email": {**summary(mail, case, contact_id), **extra}},
    )


def finished_contact(event: ev.Event) -> str | None:
    """The e-mail contact the router is done with (a restart must not queue it again)."""
    if isinstance(event, ev.ContactOverflowed) and event.target is not None:
        return None  # moved to another queue: still waiting
    done = ev.ContactCompleted | ev.ContactCancelled | ev.ContactAbandoned | ev.ContactOverflowed
    if isinstance(event, done) and event.contact_id.startswith(CONTACT_PREFIX):
        return event.contact_id
    return None


def summary(mail: InboundMail, case: Case, contact_id: str) -> dict[str, Any]:
    earlier = [e for e in case.entries if e.contact_id != contact_id]
    return {
        "case_id": case.id,
        "message_id": mail.message_id,
        "subject": mail.subject,
        "from": mail.sender,
        "from_name": mail.sender_name,
        "to": list(mail.recipients),
        "date": mail.date,
        "attachments": list(mail.attachments),
        "follow_up": bool(earlier),
        "preferred_agent": case.handler,
    }
