"""The e-mail desk: inbound messages become contacts, agents' replies go out threaded.

* Intake: a message addressed to a mailbox becomes an ``email`` contact with the
  sender as origin (so the customer lookup finds them by address and the tier
  sets the SLA band, which drives priority), filed under its case.
* Threading: a message of a known case is routed with the case's last handler
  as ``preferred_agent``: offered to them when they are free, else to whoever
  the queue picks.
* Replies: built under the message they answer (``In-Reply-To``,
  ``References``, "Re:"), sent through the relay, filed under the case so the
  customer's answer threads back.
* History: the messages of a contact and its replies become the notes of the
  customer's interaction (a transcript source of the `RoutingService`).
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from channels.mail.message import (
    InboundMail,
    MailError,
    build_reply,
    new_message_id,
)
from channels.mail.relay import MailRelay
from channels.mail.threads import Case, MailEntry, ThreadBook, inbound_entry
from ringway.schema import MailDoc
from router import events as ev
from router.model import Channel

if TYPE_CHECKING:
    from ringway.service import RoutingService

KEEP_REMOTE = 10_000  # other nodes' cases seen, for agents' desktops and history notes


class MailRelayLink(Protocol):
    """Cases whose agent is on another cluster node (`ringway.cluster.chatlink`)."""

    def share(self, note: dict[str, Any]) -> None: ...
    async def request(self, note: dict[str, Any]) -> dict[str, Any]: ...


class MailDesk:
    def __init__(
        self,
        service: RoutingService,
        config: MailDoc,
        entry_points: Mapping[str, str],
        relay: MailRelay | None = None,
    ) -> None:
        self._service = service
        self.config = config
        configured = config.mailboxes or [k for k in entry_points if "@" in k]
        self.mailboxes = frozenset(m.lower() for m in configured)
        self.threads = ThreadBook()
        self.relay = relay or MailRelay(
            config.relay_host, config.relay_port, config.relay_timeout_s
        )
        service.add_transcript_source(self.transcript)
        # On a cluster node: cases whose agent is on another node (`ringway.cluster.chatlink`).
        self.relay_link: MailRelayLink | None = None
        self._remote: OrderedDict[str, dict[str, Any]] = OrderedDict()  # contact id -> note
        self._remote_handlers: OrderedDict[str, str] = OrderedDict()  # message id -> agent

    def accepts(self, address: str) -> bool:
        return address.lower() in self.mailboxes

    # ------------------------------------------------------------------ inbound

    async def receive(self, mail: InboundMail) -> str:
        """Queue ``mail`` as a contact (returns its id); raises RoutingError if it cannot."""
        case = self.threads.prepare(mail)
        mailbox = next((r for r in mail.recipients if r in self.mailboxes), None)
        contact_id = f"c-mail-{os.urandom(8).hex()}"
        from ringway.service import NewContact  # at call time: ringway.service has an import cycle

        new = NewContact(
            channel=Channel.EMAIL,
            entry_point=mailbox,
            origin=mail.sender,
            id=contact_id,
            preferred_agent=case.handler or self._remote_handler(mail),
            attributes={"email": _summary(mail, case)},
        )
        self._preview(case, mail, contact_id)
        contact = await self._service.create_contact(new)
        # A message of the same new thread may have opened the case during the lookup.
        case = self.threads.case_for(mail) or case
        # Filed before anything else runs on the loop: the offer's pop already finds it.
        self.threads.file_inbound(case, mail, contact.id, contact.created_at)
        self._share(contact.id)
        return contact.id

    def observe(self, event: ev.Event) -> None:
        """Whoever accepts a message of a case becomes its handler."""
        if isinstance(event, ev.OfferAccepted) and event.channel == Channel.EMAIL:
            found = self.threads.of_contact(event.contact_id)
            if found is not None:
                found[0].handler = event.agent_id
            remote = self._remote.get(event.contact_id)
            if remote is not None:  # a case another node's intake holds
                self._learn_thread(remote.get("case") or {}, event.agent_id)

    # ------------------------------------------------------------------ replies

    async def reply(self, agent_id: str, contact_id: str, body: str) -> MailEntry:
        """Send the agent's answer to the contact's message (the caller checked ownership)."""
        found = self.threads.of_contact(contact_id)
        if found is None:
            raise MailError(f"contact {contact_id} is not an e-mail of this desk", "not_email")
        case, parent = found
        message_id = new_message_id(self.config.message_id_domain)
        sender = self._from_address(parent)
        now = self._service.now()
        reply = build_reply(parent, body=body, from_address=sender, message_id=message_id, now=now)
        await self.relay.send(reply)
        entry = MailEntry(
            direction="outbound",
            message_id=message_id,
            at=now,
            sender=sender,
            to=parent.answer_to,
            subject=str(reply["Subject"]),
            text=body,
            contact_id=contact_id,
            agent_id=agent_id,
        )
        self.threads.file_outbound(case, entry)
        case.handler = agent_id
        self._share(contact_id)
        return entry

    async def reply_anywhere(self, agent_id: str, contact_id: str, body: str) -> dict[str, Any]:
        """`reply` on the node whose intake took the message (this one, or via the link)."""
        link = self.relay_link
        if link is None or self.threads.of_contact(contact_id) is not None:
            return (await self.reply(agent_id, contact_id, body)).to_dict()
        if contact_id not in self._remote:
            raise MailError(f"contact {contact_id} is not an e-mail of this desk", "not_email")
        note = {"channel": "email", "op": "reply", "contact_id": contact_id}
        try:
            answer = await link.request({**note, "agent_id": agent_id, "body": body})
        except Exception as exc:  # the home node is gone or silent: nothing was sent
            raise MailError(str(exc), "mail_unavailable") from None
        if not answer.get("ok"):
            raise MailError(str(answer.get("error")), str(answer.get("code")))
        entry: dict[str, Any] = answer["message"]
        return entry

    # ------------------------------------------------------------ other nodes

    def on_note(self, note: dict[str, Any]) -> None:
        """Another node's case changed: keep its view and transcript for desktops here."""
        if note.get("channel") == "email" and note.get("kind") == "state":
            contact_id = str(note["contact_id"])
            self._remote[contact_id] = note
            self._remote.move_to_end(contact_id)
            while len(self._remote) > KEEP_REMOTE:
                self._remote.popitem(last=False)
            case = note.get("case") or {}
            self._learn_thread(case, case.get("handler"))

    def _learn_thread(self, case: dict[str, Any], handler: str | None) -> None:
        """Who handles another node's thread: an answer reaching this node's intake goes
        to them first (the case itself stays on its node)."""
        if handler is None:
            return
        for message in case.get("messages", []):
            self._remote_handlers[str(message.get("message_id"))] = handler
            self._remote_handlers.move_to_end(str(message.get("message_id")))
        while len(self._remote_handlers) > KEEP_REMOTE:
            self._remote_handlers.popitem(last=False)

    def _remote_handler(self, mail: InboundMail) -> str | None:
        return next(
            (self._remote_handlers[m] for m in mail.thread_ids() if m in self._remote_handlers),
            None,
        )

    async def on_op(self, note: dict[str, Any]) -> dict[str, Any]:
        contact_id = str(note.get("contact_id"))
        if note.get("channel") != "email" or self.threads.of_contact(contact_id) is None:
            return {"skip": True}
        try:
            entry = await self.reply(str(note["agent_id"]), contact_id, str(note["body"]))
        except MailError as exc:
            return {"ok": False, "code": exc.code, "error": exc.message}
        return {"ok": True, "message": entry.to_dict()}

    def _preview(self, case: Case, mail: InboundMail, contact_id: str) -> None:
        """The case as it will be once filed, shared before the contact can be offered
        (an agent's desktop on another node shows it with the offer)."""
        if self.relay_link is None:
            return
        entry = inbound_entry(mail, contact_id, self._service.now())
        preview = dataclasses.replace(case, entries=[*case.entries, entry])
        self.relay_link.share(
            {
                "kind": "state",
                "channel": "email",
                "contact_id": contact_id,
                "case": preview.to_dict(),
            }
        )

    def _share(self, contact_id: str) -> None:
        if self.relay_link is not None:
            view, transcript = self.view(contact_id), self.transcript(contact_id)
            self.relay_link.share(
                {
                    "kind": "state",
                    "channel": "email",
                    "contact_id": contact_id,
                    "case": view,
                    "transcript": transcript,
                }
            )

    def _from_address(self, parent: InboundMail) -> str:
        if self.config.from_address:
            return self.config.from_address
        mailbox = next((r for r in parent.recipients if r in self.mailboxes), None)
        return mailbox or f"support@{self.config.message_id_domain}"

    # ------------------------------------------------------------------ reading

    def view(self, contact_id: str) -> dict[str, Any] | None:
        """The contact's case for the desktop: every message so far, ours included."""
        found = self.threads.of_contact(contact_id)
        if found is None:
            remote = self._remote.get(contact_id)
            return None if remote is None else remote.get("case")
        return found[0].to_dict()

    def transcript(self, contact_id: str) -> str | None:
        found = self.threads.of_contact(contact_id)
        if found is None:
            remote = self._remote.get(contact_id)
            return None if remote is None else remote.get("transcript")
        case = found[0]
        lines = [f"E-mail case {case.id}: {case.subject}"]
        for entry in case.entries:
            if entry.contact_id == contact_id:
                who = entry.sender if entry.direction == "inbound" else f"reply by {entry.agent_id}"
                lines.append(f"--- {entry.direction} {entry.message_id} ({who})\n{entry.text}")
        return "\n".join(lines)


def _summary(mail: InboundMail, case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "message_id": mail.message_id,
        "subject": mail.subject,
        "from": mail.sender,
        "from_name": mail.sender_name,
        "to": list(mail.recipients),
        "date": mail.date,
        "attachments": list(mail.attachments),
        "follow_up": bool(case.entries),
        "preferred_agent": case.handler,
    }
