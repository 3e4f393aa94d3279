"""The websocket protocol's client messages (docs/desktop-protocol.md), validated.

Every client frame is a JSON object with a ``type`` and an optional ``id`` the
server echoes as ``ref`` in its reply or error frame. Unknown fields are refused
(a typo must not be silently ignored), as on the REST API. `parse` turns raw
text into one of the models below or raises `DesktopError` with the ``ref`` it
could read, so even a malformed frame gets an error frame that names it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from agent_desktop.errors import DesktopError

PROTOCOL_VERSION = 1
MAX_FRAME_CHARS = 256 * 1024

Ref = str | int | None
ContactId = Field(min_length=1, max_length=200)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str
    id: Annotated[str, Field(strict=True, max_length=100)] | StrictInt | None = None


class Resume(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    session: str = Field(min_length=1, max_length=100)
    last_seq: int = Field(ge=0)


# ----------------------------------------------------------------- every view


class Hello(Message):
    type: Literal["hello"]
    protocol: int = PROTOCOL_VERSION
    token: str = Field(min_length=1, max_length=4096)
    view: Literal["agent", "supervisor"] = "agent"
    resume: Resume | None = None


class Auth(Message):
    """A fresh token for a long-lived connection (the old one is about to expire)."""

    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)


class Ping(Message):
    type: Literal["ping"]


class Sync(Message):
    """Ask for a fresh ``snapshot`` frame."""

    type: Literal["sync"]


# ---------------------------------------------------------------------- agent


class Login(Message):
    type: Literal["login"]
    extension: str | None = Field(default=None, max_length=50)
    ready: bool = False


class SetState(Message):
    type: Literal["state"]
    state: Literal["ready", "not_ready"]
    reason: str = Field(default="", max_length=200)


class Logout(Message):
    type: Literal["logout"]


class Accept(Message):
    type: Literal["accept"]
    contact_id: str = ContactId


class Reject(Message):
    type: Literal["reject"]
    contact_id: str = ContactId


class Complete(Message):
    type: Literal["complete"]
    contact_id: str = ContactId
    disposition: str = Field(min_length=1, max_length=100)
    notes: str = Field(default="", max_length=10_000)


class EndContact(Message):
    type: Literal["end"]
    contact_id: str = ContactId


class ExtendWrapUp(Message):
    type: Literal["extend_wrap_up"]
    contact_id: str = ContactId
    seconds: float | None = Field(default=None, gt=0, le=3600)


class Transfer(Message):
    type: Literal["transfer"]
    contact_id: str = ContactId
    queue: str | None = Field(default=None, min_length=1, max_length=200)
    agent: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def one_target(self) -> Transfer:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("give exactly one of queue or agent")
        return self


class ChatSend(Message):
    type: Literal["chat_send"]
    contact_id: str = ContactId
    text: str = Field(min_length=1, max_length=10_000)


class ChatTyping(Message):
    type: Literal["chat_typing"]
    contact_id: str = ContactId


class EmailReply(Message):
    type: Literal["email_reply"]
    contact_id: str = ContactId
    body: str = Field(min_length=1, max_length=200_000)


class PreviewAccept(Message):
    """Dial the lead of the agent's ``preview`` frame now (compliance is checked again)."""

    type: Literal["preview_accept"]
    lead_id: str = Field(min_length=1, max_length=200)
    campaign: str | None = Field(default=None, max_length=200)


class PreviewSkip(Message):
    """Do not dial the previewed lead now: it comes back later, the agent is free."""

    type: Literal["preview_skip"]
    lead_id: str = Field(min_length=1, max_length=200)
    campaign: str | None = Field(default=None, max_length=200)
    reason: str = Field(default="", max_length=200)


# ----------------------------------------------------------------- supervisor


class Explain(Message):
    type: Literal["explain"]
    contact_id: str = ContactId


class ForceNotReady(Message):
    type: Literal["force_not_ready"]
    agent_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=200)


class ForceLogout(Message):
    type: Literal["force_logout"]
    agent_id: str = Field(min_length=1, max_length=200)


# ------------------------------------------------------------ chat customers


class ChatStart(Message):
    type: Literal["start"]
    name: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=320)
    text: str | None = Field(default=None, max_length=10_000)
    entry_point: str | None = Field(default=None, max_length=200)


class ChatResume(Message):
    type: Literal["resume"]
    chat_id: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=1, max_length=200)
    last_seq: int = Field(ge=0)


class CustomerMessage(Message):
    type: Literal["message"]
    text: str = Field(min_length=1, max_length=10_000)


class CustomerTyping(Message):
    type: Literal["typing"]


class CustomerEnd(Message):
    type: Literal["end"]


Models = dict[str, type[Message]]


def models(*classes: type[Message]) -> Models:
    """Message classes by their ``type`` literal."""
    return {get_args(cls.model_fields["type"].annotation)[0]: cls for cls in classes}


def parse(raw: str | bytes | None, known: Models) -> Message:
    """The message ``raw`` holds; `DesktopError` (with the ref it could read) if none."""
    if raw is None or isinstance(raw, bytes):
        raise DesktopError("bad_frame", "send JSON text frames (binary frames are not used)")
    if len(raw) > MAX_FRAME_CHARS:
        raise DesktopError(
            "too_large", f"frame of {len(raw)} characters; at most {MAX_FRAME_CHARS}"
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DesktopError("bad_json", f"frame is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DesktopError("bad_frame", "a frame must be a JSON object with a type")
    ref = _ref(data.get("id"))
    kind = data.get("type")
    model = known.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise DesktopError("unknown_type", _unknown(kind, known), ref=ref)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DesktopError("invalid_message", _first_problem(str(kind), exc), ref=ref) from None


def _ref(value: Any) -> Ref:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return value if not isinstance(value, str) or len(value) <= 100 else None


def _unknown(kind: object, known: Models) -> str:
    names = ", ".join(sorted(known))
    return f"unknown message type {kind!r} (this connection takes: {names})"


def _first_problem(kind: str, exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or kind
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{kind}: {where}: {first.get('msg', 'invalid')}{more}"
