"""The SMTP intake: an aiosmtpd server on the service's own event loop.

Each accepted message is written to the case store and becomes a contact before
the server answers ``250``, so a message the sender sees accepted is on disk and
queued (or, on a full queue or a failing disk, refused with a temporary ``451``
for the sending MTA to retry: nothing is lost, RFC 5321 §4.1.1.4, §6.1). Recipients
outside the configured mailboxes get ``550`` (no open relay). Put a real MTA in
front for TLS, authentication and spam filtering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.mail.message import InboundMail, MailError, parse_mail
from channels.mail.store import CaseStoreError
from router.errors import RoutingError

log = logging.getLogger(__name__)

Deliver = Callable[[InboundMail], Awaitable[str]]  # returns the contact id


class IntakeHandler:
    """aiosmtpd handler hooks (``handle_RCPT``, ``handle_DATA``)."""

    def __init__(
        self, accepts: Callable[[str], bool], deliver: Deliver, *, body_chars: int, id_domain: str
    ) -> None:
        self._accepts, self._deliver = accepts, deliver
        self._body_chars, self._id_domain = body_chars, id_domain

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if not self._accepts(address):
            return "550 5.7.1 not a mailbox of this contact centre; no relaying"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        try:
            mail = parse_mail(
                content,
                list(envelope.rcpt_tos),
                body_chars=self._body_chars,
                id_domain=self._id_domain,
            )
            contact_id = await self._deliver(mail)
        except MailError as exc:
            return f"554 5.6.0 {exc.message}"
        except RoutingError as exc:  # e.g. the queue is full: the sender's MTA retries
            log.warning("mail from %s not queued: %s", envelope.mail_from, exc.message)
            return f"451 4.3.0 not queued now ({exc.code}); try again later"
        except CaseStoreError as exc:  # not on disk: not accepted (no 250 without it)
            log.error("mail from %s not stored: %s", envelope.mail_from, exc.message)
            return "451 4.3.0 cannot store the message now; try again later"
        return f"250 2.0.0 queued as {contact_id}"


class MailIntake:
    """Start and stop the SMTP server; ``port`` is the one bound (0 picks a free one)."""

    def __init__(self, handler: IntakeHandler, *, hostname: str, data_size_limit: int) -> None:
        self._handler = handler
        self._hostname = hostname
        self._limit = data_size_limit
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("smtp intake on %s:%s", host, self.port)
        return self.port

    def _protocol(self) -> SMTP:
        return SMTP(self._handler, hostname=self._hostname, data_size_limit=self._limit)

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()
