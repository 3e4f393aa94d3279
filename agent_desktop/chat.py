"""The chat desk: customers' chats as contacts, and the messages between them and agents.

A customer opens the widget's websocket and sends ``start``: the chat becomes a
``chat`` contact (looked up by the e-mail given, if any), routed like any other
under the agents' chat capacity. Messages are kept in the chat's transcript
from the first one; once an agent accepts they are relayed both ways. Typing is
relayed as unnumbered control frames. The chat ends when either side ends it,
when the customer's connection stays gone for ``customer_grace_s``, or when the
router gives up on it (cancelled, overflowed with nowhere to go); its transcript
is added to the customer's history with the interaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

from agent_desktop.errors import DesktopError
from agent_desktop.session import Session, View
from channels.chat import Chat, ChatStatus, Sender, new_token, transcript_of
from channels.ratelimit import KeyedLimiter, TokenBucket
from crm.phone import normalize_email
from ringway.schema import ChatDoc
from router import events as ev
from router.errors import RoutingError
from router.model import Channel

if TYPE_CHECKING:
    from agent_desktop.hub import Hub
    from agent_desktop.protocol import ChatStart
    from ringway.service import NewContact

log = logging.getLogger(__name__)
KEEP_REMOTE = 10_000  # other nodes' chats seen, for agents' desktops and history notes


class ChatRelay(Protocol):
    """Chats whose customer is on another cluster node (`ringway.cluster.chatlink`)."""

    node: str

    def share(self, note: dict[str, Any]) -> None: ...
    async def request(self, note: dict[str, Any]) -> dict[str, Any]: ...


# The contact is over for the router: the chat can be retired after `retain_s`.
FINAL_EVENTS = (ev.ContactCompleted, ev.ContactAbandoned, ev.ContactCancelled, ev.ContactOverflowed)


class ChatDesk:
    def __init__(self, hub: Hub, config: ChatDoc) -> None:
        self.hub, self.config = hub, config
        self.chats: dict[str, Chat] = {}
        self._by_contact: dict[str, Chat] = {}
        self._sessions: dict[str, Session] = {}  # chat id -> the customer's session
        self._ending: set[asyncio.Task[None]] = set()
        self.relay: ChatRelay | None = None  # set on a cluster node
        self._remote: OrderedDict[str, dict[str, Any]] = OrderedDict()  # contact id -> view
        self.starts = KeyedLimiter(config.starts_per_minute / 60, config.starts_per_minute)
        hub.chat = self
        hub.observers.append(self.observe)
        hub.channel_views.append(self.view)
        hub.customer_gone = self._customer_gone
        hub.service.add_transcript_source(self.transcript)

    # ------------------------------------------------------------------ customers

    async def start(self, msg: ChatStart, client: str) -> tuple[Chat, Session, str]:
        """Open a chat and queue its contact; returns (chat, customer session, token)."""
        service = self.hub.service
        now = service.now()
        wait = self.starts.take(client, now)
        if wait > 0:
            raise _limited("too many chats from your address", wait)
        email = _email(msg.email)
        token, digest = new_token()
        key = os.urandom(8).hex()
        name = msg.name.strip() or "Customer"
        bucket = TokenBucket(self.config.rate_per_s, self.config.burst, now)
        chat = Chat(
            id=f"chat-{key}",
            contact_id=f"c-chat-{key}",
            token_digest=digest,
            customer_name=name,
            email=email,
            created_at=now,
            bucket=bucket,
        )
        if msg.text:
            chat.add(Sender.CUSTOMER, name, self._text(msg.text), now)
        self._remember(chat)
        self._share(chat)  # before the contact can be offered to a desktop on another node
        try:
            await service.create_contact(self._contact(chat, msg.entry_point))
        except RoutingError:
            self._forget(chat)
            raise
        session = Session(View.CUSTOMER, self.hub.config.desktop.replay_frames)
        session.chat_id = chat.id
        self._sessions[chat.id] = session
        self.hub.sessions[session.id] = session
        session.push(self.snapshot(chat))
        self._share(chat)
        return chat, session, token

    def _contact(self, chat: Chat, entry_point: str | None) -> NewContact:
        from ringway.service import NewContact  # at call time: ringway.service has an import cycle

        return NewContact(
            channel=Channel.CHAT,
            entry_point=entry_point or self.config.entry_point,
            origin=chat.email,
            id=chat.contact_id,
            attributes={"chat": self._contact_attributes(chat)},
        )

    def _contact_attributes(self, chat: Chat) -> dict[str, Any]:
        attributes = {"chat_id": chat.id, "customer_name": chat.customer_name}
        if self.relay is not None:
            attributes["home"] = self.relay.node  # where the customer's widget is
        return attributes

    def resume(self, chat_id: str, token: str) -> tuple[Chat, Session] | None:
        chat = self.chats.get(chat_id)
        session = self._sessions.get(chat_id)
        if chat is None or session is None or not chat.check_token(token):
            return None
        return chat, session

    def snapshot(self, chat: Chat) -> dict[str, Any]:
        return {"type": "snapshot", "view": "customer", "chat": _public(chat)}

    def customer_message(self, chat: Chat, text: str) -> dict[str, Any]:
        if chat.status is ChatStatus.ENDED:
            raise DesktopError("chat_ended", "this chat has ended; start a new one")
        now = self.hub.service.now()
        wait = chat.bucket.take(now)
        if wait > 0:
            raise _limited("you are sending messages too fast", wait)
        message = chat.add(Sender.CUSTOMER, chat.customer_name, self._text(text), now).to_dict()
        self._share(chat)
        self._to_agent(
            chat, {"type": "chat_message", "contact_id": chat.contact_id, "message": message}
        )
        return message

    def customer_typing(self, chat: Chat) -> None:
        if chat.status is not ChatStatus.CONNECTED or chat.agent_id is None:
            return
        frame = {"type": "typing", "contact_id": chat.contact_id, "from": "customer"}
        agent = self.hub.agent_session(chat.agent_id)
        if agent is not None:
            agent.control(frame)
        elif self.relay is not None:
            self.relay.share(
                {"kind": "frame", "agent_id": chat.agent_id, "frame": frame, "control": True}
            )

    async def customer_end(self, chat: Chat, by: str = "customer") -> None:
        """The customer closed the chat (or vanished): end the contact."""
        if not chat.end(by, self.hub.service.now()):
            return
        self._announce_end(chat)
        try:
            await self.hub.service.call("end", contact_id=chat.contact_id)
        except RoutingError as exc:  # 4xx: already finished (completed, cancelled)
            if exc.status >= 500:  # not applied (a cluster without a leader): the agent ends it
                log.warning("chat %s ended, its contact not: %s", chat.id, exc.message)

    def _customer_gone(self, session: Session) -> None:
        chat = self.chats.get(session.chat_id or "")
        if chat is None or chat.status is ChatStatus.ENDED:
            return
        loop = asyncio.get_running_loop()
        session.timer = loop.call_later(self.config.customer_grace_s, self._vanished, session)

    def _vanished(self, session: Session) -> None:
        chat = self.chats.get(session.chat_id or "")
        if chat is not None and session.connection is None:
            task = asyncio.get_running_loop().create_task(
                self.customer_end(chat, "customer_disconnected")
            )
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)

    # --------------------------------------------------------------------- agents

    def agent_message(self, agent_id: str, contact_id: str, text: str) -> dict[str, Any]:
        chat = self._chat_of(contact_id)
        if chat.status is ChatStatus.ENDED:
            raise DesktopError("chat_ended", "the customer has left this chat")
        name = chat.agent_name or agent_id
        message = chat.add(Sender.AGENT, name, self._text(text), self.hub.service.now())
        self._share(chat)
        self._to_customer(chat, {"type": "chat_message", "message": message.to_dict()})
        return message.to_dict()

    async def agent_send(self, agent_id: str, contact_id: str, text: str) -> dict[str, Any]:
        """An agent's message, wherever the customer's widget is connected."""
        if contact_id in self._by_contact or self.relay is None:
            return self.agent_message(agent_id, contact_id, text)
        if contact_id not in self._remote:
            raise DesktopError("not_chat", f"contact {contact_id} is not a chat")
        try:
            reply = await self.relay.request(
                {"op": "message", "contact_id": contact_id, "agent_id": agent_id, "text": text}
            )
        except Exception as exc:  # the home node is gone or silent: nothing was delivered
            raise DesktopError("chat_unavailable", str(exc)) from None
        if not reply.get("ok"):
            raise DesktopError(str(reply.get("code")), str(reply.get("error")))
        message: dict[str, Any] = reply["message"]
        return message

    def agent_typing(self, contact_id: str) -> None:
        chat = self._by_contact.get(contact_id)
        if chat is None and self.relay is not None and contact_id in self._remote:
            self.relay.share({"kind": "op", "op": "typing", "contact_id": contact_id})
            return
        session = self._sessions.get(chat.id) if chat is not None else None
        if session is not None:
            session.control({"type": "typing", "from": "agent"})

    # --------------------------------------------------------- other nodes

    def on_note(self, note: dict[str, Any]) -> None:
        """Another node's chat changed, or it has a frame for an agent whose desktop is here."""
        if note.get("channel", "chat") != "chat":
            return
        if note.get("kind") == "state":
            contact_id = str(note["contact_id"])
            self._remote[contact_id] = note["chat"]
            self._remote.move_to_end(contact_id)
            while len(self._remote) > KEEP_REMOTE:
                self._remote.popitem(last=False)
        elif note.get("kind") == "frame":
            session = self.hub.agent_session(str(note.get("agent_id")))
            if session is not None and note.get("control"):
                session.control(note["frame"])
            elif session is not None:
                session.push(note["frame"])

    async def on_op(self, note: dict[str, Any]) -> dict[str, Any]:
        """An agent on another node acts on a chat: applied here if this is its home."""
        contact_id = str(note.get("contact_id"))
        if note.get("channel", "chat") != "chat" or contact_id not in self._by_contact:
            return {"skip": True}
        if note.get("op") == "typing":
            self.agent_typing(contact_id)
            return {"skip": True}
        try:
            message = self.agent_message(str(note["agent_id"]), contact_id, str(note["text"]))
        except DesktopError as exc:
            return {"ok": False, "code": exc.code, "error": exc.message}
        return {"ok": True, "message": message}

    def _share(self, chat: Chat) -> None:
        if self.relay is not None:
            self.relay.share(
                {"kind": "state", "contact_id": chat.contact_id, "chat": self.view(chat.contact_id)}
            )

    def ended_by_agent(self, contact_id: str) -> None:
        chat = self._by_contact.get(contact_id)
        if chat is not None and chat.end("agent", self.hub.service.now()):
            self._announce_end(chat)

    # --------------------------------------------------------------------- events

    def observe(self, event: ev.Event) -> None:
        contact_id = getattr(event, "contact_id", None)
        chat = self._by_contact.get(contact_id) if isinstance(contact_id, str) else None
        if chat is None:
            return
        if isinstance(event, ev.OfferAccepted):
            agent = self.hub.service.reads.agents.get(event.agent_id)
            chat.connect(event.agent_id, agent.name if agent is not None else event.agent_id)
            self._status(chat)
        elif isinstance(event, ev.ContactTransferred):
            self._transferred(chat)
        elif isinstance(event, ev.ContactEnded | ev.ContactCompleted):
            self._ended_by_router(chat, "agent", "")
        elif isinstance(event, ev.ContactCancelled):
            self._ended_by_router(chat, "system", "The chat was closed by the contact centre.")
        elif isinstance(event, ev.ContactOverflowed) and event.target is None:
            self._ended_by_router(chat, "system", "Nobody can take your chat right now, sorry.")
        elif isinstance(event, ev.ContactAbandoned):
            self._ended_by_router(chat, "customer", "")
        if isinstance(event, FINAL_EVENTS) and chat.status is ChatStatus.ENDED:
            self._retire(chat)

    def _transferred(self, chat: Chat) -> None:
        chat.status, chat.agent_id, chat.agent_name = ChatStatus.WAITING, None, None
        now = self.hub.service.now()
        chat.add(Sender.SYSTEM, "Ringway", "You are being transferred; please hold on.", now)
        self._to_customer(chat, {"type": "chat_message", "message": chat.messages[-1].to_dict()})
        self._status(chat)

    def _ended_by_router(self, chat: Chat, by: str, note: str) -> None:
        now = self.hub.service.now()
        if not chat.end(by, now):
            return
        if note:
            message = chat.add(Sender.SYSTEM, "Ringway", note, now)
            self._to_customer(chat, {"type": "chat_message", "message": message.to_dict()})
        self._announce_end(chat)

    def _announce_end(self, chat: Chat) -> None:
        self._status(chat)
        frame = {"type": "chat_ended", "contact_id": chat.contact_id, "by": chat.ended_by}
        self._to_agent(chat, frame)

    def _status(self, chat: Chat) -> None:
        self._share(chat)
        frame = {
            "type": "chat_status",
            "status": chat.status.value,
            "agent_name": chat.agent_name,
            "ended_by": chat.ended_by,
        }
        self._to_customer(chat, frame)

    def _retire(self, chat: Chat) -> None:
        """Keep an ended chat ``retain_s`` (its transcript goes to the history meanwhile)."""
        loop = asyncio.get_running_loop()
        loop.call_later(self.config.retain_s, self._forget, chat)

    # -------------------------------------------------------------------- reading

    def view(self, contact_id: str) -> dict[str, Any] | None:
        chat = self._by_contact.get(contact_id)
        if chat is None:
            return self._remote.get(contact_id)
        session = self._sessions.get(chat.id)
        connected = session is not None and session.connection is not None
        return {**chat.to_dict(), "customer_connected": connected}

    def transcript(self, contact_id: str) -> str | None:
        chat = self._by_contact.get(contact_id)
        if chat is not None:
            return chat.transcript()
        remote = self._remote.get(contact_id)
        return None if remote is None else transcript_of(remote)

    # ------------------------------------------------------------------- internals

    def _text(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise DesktopError("invalid_message", "a chat message cannot be empty")
        if len(text) > self.config.max_message_chars:
            limit = self.config.max_message_chars
            raise DesktopError("too_long", f"a chat message has at most {limit} characters")
        return text

    def _chat_of(self, contact_id: str) -> Chat:
        chat = self._by_contact.get(contact_id)
        if chat is None:
            raise DesktopError("not_chat", f"contact {contact_id} is not a chat")
        return chat

    def _to_agent(self, chat: Chat, frame: dict[str, Any]) -> None:
        session = self.hub.agent_session(chat.agent_id) if chat.agent_id else None
        if session is not None:
            session.push(frame)
        elif self.relay is not None and chat.agent_id:  # their desktop may be on another node
            self.relay.share({"kind": "frame", "agent_id": chat.agent_id, "frame": frame})

    def _to_customer(self, chat: Chat, frame: dict[str, Any]) -> None:
        session = self._sessions.get(chat.id)
        if session is not None:
            session.push(frame)

    def _remember(self, chat: Chat) -> None:
        self.chats[chat.id] = chat
        self._by_contact[chat.contact_id] = chat

    def _forget(self, chat: Chat) -> None:
        self.chats.pop(chat.id, None)
        self._by_contact.pop(chat.contact_id, None)
        session = self._sessions.pop(chat.id, None)
        if session is not None:
            self.hub.drop(session, "chat closed")


def _email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    address = normalize_email(raw)
    if address is None:
        raise DesktopError("invalid_message", f"{raw!r} is not an e-mail address")
    return address


def _limited(what: str, wait: float) -> DesktopError:
    return DesktopError(
        "rate_limited", f"{what}; try again in {wait:.1f} s", retry_after=round(wait, 2)
    )


def _public(chat: Chat) -> dict[str, Any]:
    """What the customer may see of their chat (no agent ids)."""
    data = chat.to_dict()
    data.pop("contact_id", None)
    return data
