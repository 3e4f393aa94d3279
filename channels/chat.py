"""Chat conversations: the transcript, the customer's token and the message limit.

A chat is a contact like any other for the router; this is what the router does
not hold: who said what and when, whether the customer is still there, and the
per-chat secret a customer resumes with. Pure: every time is a parameter, and
the token is kept only as its SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from channels.ratelimit import TokenBucket


class ChatStatus(StrEnum):
    WAITING = "waiting"  # queued or being offered: no agent yet
    CONNECTED = "connected"  # an agent accepted
    ENDED = "ended"


class Sender(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    id: int  # 1, 2, 3… within the chat
    sender: Sender
    name: str
    text: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sender": self.sender.value,
            "name": self.name,
            "text": self.text,
            "at": self.at,
        }

    def line(self) -> str:
        stamp = datetime.fromtimestamp(self.at, UTC).strftime("%H:%M:%S")
        return f"[{stamp}] {self.name} ({self.sender.value}): {self.text}"


def transcript_of(view: dict[str, Any]) -> str:
    """`Chat.transcript` of a chat known only by its `Chat.to_dict` (another node's)."""
    messages = [
        ChatMessage(
            id=m["id"], sender=Sender(m["sender"]), name=m["name"], text=m["text"], at=m["at"]
        )
        for m in view.get("messages", [])
    ]
    return _transcript(str(view.get("customer_name")), messages)


def _transcript(customer_name: str, messages: list[ChatMessage]) -> str:
    lines = [f"Chat transcript ({customer_name}):"]
    lines.extend(message.line() for message in messages)
    return "\n".join(lines)


def new_token() -> tuple[str, bytes]:
    """A fresh customer token and the digest a `Chat` keeps of it."""
    token = secrets.token_urlsafe(24)
    return token, _digest(token)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(slots=True, kw_only=True)
class Chat:
    id: str
    contact_id: str
    token_digest: bytes
    customer_name: str
    email: str | None
    created_at: float
    bucket: TokenBucket
    status: ChatStatus = ChatStatus.WAITING
    agent_id: str | None = None
    agent_name: str | None = None
    ended_at: float | None = None
    ended_by: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)

    def check_token(self, token: str) -> bool:
        return hmac.compare_digest(_digest(token), self.token_digest)

    def add(self, sender: Sender, name: str, text: str, at: float) -> ChatMessage:
        message = ChatMessage(id=len(self.messages) + 1, sender=sender, name=name, text=text, at=at)
        self.messages.append(message)
        return message

    def connect(self, agent_id: str, agent_name: str) -> None:
        self.status, self.agent_id, self.agent_name = ChatStatus.CONNECTED, agent_id, agent_name

    def end(self, by: str, at: float) -> bool:
        """End the chat; False when it had already ended (ends are often reported twice)."""
        if self.status is ChatStatus.ENDED:
            return False
        self.status, self.ended_by, self.ended_at = ChatStatus.ENDED, by, at
        return True

    def transcript(self) -> str:
        """The conversation as the customer's history keeps it."""
        return _transcript(self.customer_name, self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chat_id": self.id,
            "contact_id": self.contact_id,
            "customer_name": self.customer_name,
            "email": self.email,
            "status": self.status.value,
            "agent_name": self.agent_name,
            "ended_by": self.ended_by,
            "messages": [m.to_dict() for m in self.messages],
        }
