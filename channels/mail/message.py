"""Inbound messages parsed for routing, and the replies that answer them (RFC 5322).

Threading rides on three headers: ``Message-ID`` names a message,
``In-Reply-To`` the one it answers and ``References`` the thread so far
(RFC 5322 §3.6.4). A reply carries ``In-Reply-To: <parent>`` and
``References: <parent's References> <parent>``, and its subject gets one "Re: ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

_MSG_ID = re.compile(r"<[^<>\s]+>")
_RE_PREFIX = re.compile(r"^\s*(re|aw|sv)\s*:\s*", re.IGNORECASE)
MAX_REFERENCES = 20  # keep the References header bounded on long threads


class MailError(Exception):
    """A message that cannot become a contact or a reply (``code`` for the edges)."""

    code = "mail_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMail:
    message_id: str  # "<id@host>"; generated when the sender left it out
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # lower-cased address
    sender_name: str
    reply_to: str | None
    recipients: tuple[str, ...]  # the envelope's, lower-cased
    date: str | None
    text: str
    attachments: tuple[str, ...]
    size: int

    @property
    def answer_to(self) -> str:
        return self.reply_to or self.sender

    def thread_ids(self) -> tuple[str, ...]:
        """Ids that may name an earlier message of this thread, most specific first."""
        return self.in_reply_to + tuple(reversed(self.references))


def message_ids(value: object) -> tuple[str, ...]:
    """Every ``<id>`` in a header value, in order (ignoring comments and junk)."""
    return tuple(_MSG_ID.findall(str(value))) if value else ()


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain)


def parse_mail(
    content: bytes, recipients: list[str], *, body_chars: int, id_domain: str
) -> InboundMail:
    """Parse a message as received; raises `MailError` when it has no usable sender."""
    message = BytesParser(policy=default).parsebytes(content)
    name, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        raise MailError("the message has no From address to answer", "no_sender")
    reply_to = [a for _, a in getaddresses([str(message.get("Reply-To", ""))]) if "@" in a]
    own_id = message_ids(message.get("Message-ID"))
    return InboundMail(
        message_id=own_id[0] if own_id else new_message_id(id_domain),
        in_reply_to=message_ids(message.get("In-Reply-To")),
        references=message_ids(message.get("References")),
        subject=str(message.get("Subject", "")).strip(),
        sender=address.lower(),
        sender_name=name,
        reply_to=reply_to[0].lower() if reply_to else None,
        recipients=tuple(r.lower() for r in recipients),
        date=str(message["Date"]) if message["Date"] else None,
        text=_body_text(message)[:body_chars],
        attachments=tuple(p.get_filename() or "unnamed" for p in message.iter_attachments()),
        size=len(content),
    )


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: show what can be read
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text.replace("\r\n", "\n").strip()


def reply_subject(subject: str) -> str:
    """``Re: <subject>`` with exactly one prefix, whatever the client added before."""
    stripped = subject
    while _RE_PREFIX.match(stripped):
        stripped = _RE_PREFIX.sub("", stripped, count=1)
    return f"Re: {stripped}" if stripped else "Re: your message"


def build_reply(
    parent: InboundMail, *, body: str, from_address: str, message_id: str, now: float
) -> EmailMessage:
    """The agent's answer to ``parent``, threaded under it."""
    reply = EmailMessage()
    reply["From"] = from_address
    reply["To"] = parent.answer_to
    reply["Subject"] = reply_subject(parent.subject)
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = parent.message_id
    references = [*parent.references, parent.message_id][-MAX_REFERENCES:]
    reply["References"] = " ".join(references)
    reply["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    reply.set_content(body)
    return reply
