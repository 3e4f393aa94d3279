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
* Durability: with a case store (`channels.mail.store`) every accepted message
  is on disk before the intake answers ``250``, replies and handlers follow, and
  a restart reloads the cases and queues the unfinished e-mails again
  (`channels.mail.recovery`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from channels.mail.casesql import StoredContact
from channels.mail.contacts import CONTACT_PREFIX, email_contact, finished_contact
from channels.mail.message import (
    InboundMail,
    MailError,
    build_reply,
    new_message_id,
)
from channels.mail.recovery import Upkeep
from channels.mail.relay import MailRelay
from channels.mail.store import CaseStore, CaseStoreError
from channels.mail.threads import Case, MailEntry, ThreadBook, inbound_entry
from ringway.schema import MailDoc
from router import events as ev
from router.model import Channel

if TYPE_CHECKING:
    from ringway.service import NewContact, RoutingService

log = logging.getLogger(__name__)
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
        store: CaseStore | None = None,
    ) -> None:
        self._service = service
        self.store = store  # None: cases in memory only (no intake, no file)
        self._upkeep = None if store is None else Upkeep(self, store)
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

    @property
    def service(self) -> RoutingService:
        return self._service

    def accepts(self, address: str) -> bool:
        return address.lower() in self.mailboxes

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Prune past retention, reload the cases, queue unfinished e-mails again."""
        if self.store is None or self._upkeep is None:
            return
        await self._upkeep.prune()
        loaded = await self.store.load(self.threads.max_cases)
        for case, mails in loaded.cases:
            self.threads.restore(case, mails)
        await self._upkeep.start(loaded.open)

    async def close(self) -> None:
        """Stop the upkeep and let the last writes land."""
        if self._upkeep is not None:
            await self._upkeep.stop()
            await self._upkeep.settle()
        if self.store is not None:
            await self.store.close()

    async def recovered(self) -> None:
        """Return once the start's recovery has checked every stored open e-mail."""
        if self._upkeep is not None:
            await self._upkeep.done.wait()

    @property
    def requeued(self) -> list[str]:
        """The contacts this start queued again (`channels.mail.recovery`)."""
        return [] if self._upkeep is None else list(self._upkeep.requeued)

    # ------------------------------------------------------------------ inbound

    async def receive(self, mail: InboundMail) -> str:
        """Queue ``mail`` as a contact (returns its id); raises RoutingError if it cannot,
        `CaseStoreError` if it cannot be put on disk first (then it is not queued)."""
        case = self.threads.case_for(mail) or await self._case_on_disk(mail)
        case = case or self.threads.prepare(mail)
        contact_id = f"{CONTACT_PREFIX}{os.urandom(8).hex()}"
        at = self._service.now()
        new = self._new_contact(mail, case, contact_id, {"received_at": at})
        if self.store is not None:  # on disk before the 250 (RFC 5321 §4.1.1.4)
            await self.store.save_inbound(case, inbound_entry(mail, contact_id, at), mail)
        self._preview(case, mail, contact_id)
        try:
            contact = await self._service.create_contact(new)
        except Exception:
            await self._unsave(contact_id)
            raise
        # A message of the same new thread may have opened the case during the lookup.
        filed = self.threads.case_for(mail) or case
        # Filed before anything else runs on the loop: the offer's pop already finds it.
        self.threads.file_inbound(filed, mail, contact.id, at)
        self._share(contact.id)
        if filed is not case and self.store is not None:
            try:  # the message is on disk either way: only its case is fixed up
                await self.store.move_contact(contact.id, filed, at)
            except CaseStoreError as exc:
                log.error("e-mail %s left in case %s: %s", contact.id, case.id, exc.message)
        return contact.id

    async def requeue(self, stored: StoredContact) -> None:
        """Queue an accepted e-mail again under its contact id (after a restart)."""
        found = self.threads.of_contact(stored.contact_id)
        if found is None:
            raise CaseStoreError(f"contact {stored.contact_id}: its case was not reloaded")
        case, mail = found
        extra = {
            "received_at": stored.received_at,
            "requeued_at": self._service.now(),
            "requeues": stored.requeues + 1,
        }
        await self._service.create_contact(self._new_contact(mail, case, stored.contact_id, extra))
        self._share(stored.contact_id)

    def _new_contact(
        self, mail: InboundMail, case: Case, contact_id: str, extra: dict[str, Any]
    ) -> NewContact:
        preferred = case.handler or self._remote_handler(mail)
        return email_contact(mail, case, contact_id, self.mailboxes, preferred, extra)

    async def _case_on_disk(self, mail: InboundMail) -> Case | None:
        """A case the cache forgot (past ``max_cases``) that this message names."""
        if self.store is None or not mail.thread_ids():
            return None
        found = await self.store.case_of(mail.thread_ids())
        return None if found is None else self.threads.restore(*found)

    async def _unsave(self, contact_id: str) -> None:
        """The contact was refused (the sender gets 451 and retries): off the disk."""
        if self.store is None:
            return
        try:
            await self.store.forget_contact(contact_id)
        except CaseStoreError as exc:  # a restart may then queue it once more
            log.error("refused e-mail %s still on disk: %s", contact_id, exc.message)

    def observe(self, event: ev.Event) -> None:
        """Whoever accepts a message of a case becomes its handler."""
        if isinstance(event, ev.OfferAccepted) and event.channel == Channel.EMAIL:
            found = self.threads.of_contact(event.contact_id)
            if found is not None:
                found[0].handler = event.agent_id
                if self.store is not None:
                    self.store.set_handler(found[0].id, event.agent_id)
            remote = self._remote.get(event.contact_id)
            if remote is not None:  # a case another node's intake holds
                self._learn_thread(remote.get("case") or {}, event.agent_id)
        elif self.store is not None:
            # only an e-mail contact's id can be finished (`finished_contact`): a call's or
            # a chat's event, most of them, is let go here without the type checks
            contact_id = getattr(event, "contact_id", None)
            if isinstance(contact_id, str) and contact_id.startswith(CONTACT_PREFIX):
                finished = finished_contact(event)
                if finished is not None:
                    self.store.finish(finished)

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
        if self.store is not None:
            try:
                await self.store.save_outbound(case, entry)
            except CaseStoreError as exc:  # sent already: a retry would send it twice
                log.error("reply %s sent but not on disk: %s", message_id, exc.message)
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

    def announce(self, contact_id: str) -> None:
        """Tell the other cluster nodes about the contact's case (e.g. after a restart)."""
        self._share(contact_id)

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
