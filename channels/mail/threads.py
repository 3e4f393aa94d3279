"""Cases: the messages of one e-mail conversation, and who handled it.

A message joins the case of any earlier message it names in ``In-Reply-To`` or
``References`` — ours included, since each reply's ``Message-ID`` is filed under
its case — so a customer answering our answer lands in the same case, and the
case remembers the agent who took it last. Subjects are never used to thread:
two customers writing "Invoice" are two cases.

Memory is bounded: past ``max_cases`` the least recently active case is
forgotten here; the case store (`channels.mail.store`) keeps it on disk, and the
desk reads it back when a later message names it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from channels.mail.message import InboundMail


@dataclass(frozen=True, slots=True, kw_only=True)
class MailEntry:
    direction: str  # inbound | outbound
    message_id: str
    at: float
    sender: str
    to: str
    subject: str
    text: str
    contact_id: str | None = None
    agent_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "message_id": self.message_id,
            "at": self.at,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
        }


@dataclass(slots=True, kw_only=True)
class Case:
    id: str
    subject: str
    customer: str  # the address we answer
    handler: str | None = None  # the agent who took the case's last message
    entries: list[MailEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.id,
            "subject": self.subject,
            "customer": self.customer,
            "handler": self.handler,
            "messages": [e.to_dict() for e in self.entries],
        }


def inbound_entry(mail: InboundMail, contact_id: str, at: float) -> MailEntry:
    return MailEntry(
        direction="inbound",
        message_id=mail.message_id,
        at=at,
        sender=mail.sender,
        to=", ".join(mail.recipients),
        subject=mail.subject,
        text=mail.text,
        contact_id=contact_id,
    )


class ThreadBook:
    def __init__(self, max_cases: int = 50_000) -> None:
        self.max_cases = max_cases
        self._cases: OrderedDict[str, Case] = OrderedDict()
        self._by_message: dict[str, str] = {}  # message id -> case id
        self._by_contact: dict[str, tuple[str, InboundMail]] = {}  # contact -> (case, mail)

    def __len__(self) -> int:
        return len(self._cases)

    def case_for(self, mail: InboundMail) -> Case | None:
        """The case an earlier message of this thread opened, if any."""
        for message_id in mail.thread_ids():
            case = self._cases.get(self._by_message.get(message_id, ""))
            if case is not None:
                return case
        return None

    def prepare(self, mail: InboundMail) -> Case:
        """The case ``mail`` belongs to: an earlier one, or a new one not filed yet."""
        existing = self.case_for(mail)
        if existing is not None:
            return existing
        return Case(id=f"case-{os.urandom(6).hex()}", subject=mail.subject, customer=mail.answer_to)

    def file_inbound(self, case: Case, mail: InboundMail, contact_id: str, at: float) -> None:
        """File ``mail`` (and the contact it became) under ``case``."""
        if case.id not in self._cases:
            self._cases[case.id] = case
            while len(self._cases) > self.max_cases:
                _, old = self._cases.popitem(last=False)
                self._forget(old)
        self._file(case, inbound_entry(mail, contact_id, at))
        self._by_contact[contact_id] = (case.id, mail)

    def file_outbound(self, case: Case, entry: MailEntry) -> None:
        self._file(case, entry)

    def restore(self, case: Case, mails: dict[str, InboundMail]) -> Case:
        """Put a case read from the case store back (``mails``: contact id -> its message);
        returns the case the book now holds (one already cached is kept)."""
        held = self._cases.get(case.id)
        if held is not None:
            return held
        self._cases[case.id] = case
        for entry in case.entries:
            self._by_message[entry.message_id] = case.id
        for contact_id, mail in mails.items():
            self._by_contact[contact_id] = (case.id, mail)
        while len(self._cases) > self.max_cases:
            _, old = self._cases.popitem(last=False)
            self._forget(old)
        return case

    def of_contact(self, contact_id: str) -> tuple[Case, InboundMail] | None:
        found = self._by_contact.get(contact_id)
        if found is None:
            return None
        case = self._cases.get(found[0])
        return None if case is None else (case, found[1])

    def _file(self, case: Case, entry: MailEntry) -> None:
        case.entries.append(entry)
        self._by_message[entry.message_id] = case.id
        self._cases.move_to_end(case.id)

    def _forget(self, case: Case) -> None:
        for entry in case.entries:
            self._by_message.pop(entry.message_id, None)
            if entry.contact_id is not None:
                self._by_contact.pop(entry.contact_id, None)
