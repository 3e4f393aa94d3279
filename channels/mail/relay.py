"""Sending replies through the configured SMTP relay (``mail.relay_host:relay_port``).

`smtplib` runs on a worker thread so a slow relay never stalls routing. A relay
that refuses or cannot be reached raises `MailError` (code ``relay_failed``):
the contact stays with the agent, who can try again.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from channels.mail.message import MailError


class MailRelay:
    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    async def send(self, message: EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"the mail relay {self.host}:{self.port} did not take the reply: {exc}",
                "relay_failed",
            ) from exc

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            smtp.send_message(message)
