"""E-mail customers over SMTP: one message per contact, to the queue's mailbox.

Each message carries a Message-ID of ours (``<lt-RUN-N@loadtest.invalid>``),
which the offer shows as ``contact.email.message_id``: that is how the agents'
side recognises it. E-mail customers do not abandon (the scenario's patience is
ignored for e-mail): a message waits until an agent handles it.
"""

from __future__ import annotations

import email.message
import email.utils
from collections.abc import Mapping
from typing import Any

from ringway.config import RingwayConfig
from simulation.loadtest.drivers import Arrival, ChannelDriver
from simulation.loadtest.errors import LoadTestError
from simulation.loadtest.smtp import SmtpError, greets, send_mail


class EmailDriver(ChannelDriver):
    channel = "email"

    @staticmethod
    def address_of(config: RingwayConfig, queue: str) -> str | None:
        mailboxes = list(config.mail.mailboxes) or [
            ep for ep in config.routing.entry_points if "@" in ep
        ]
        for mailbox in mailboxes:
            if config.queue_for("email", mailbox) == queue:
                return mailbox
        raise LoadTestError(f"e-mail queue {queue}: no mailbox (routing.entry_points) leads to it")

    @staticmethod
    def key_of(contact: Mapping[str, Any]) -> str | None:
        mail = contact.get("email") or {}
        message_id = mail.get("message_id")
        return str(message_id) if message_id else None

    def check(self) -> None:
        if self.target.smtp is None:
            raise LoadTestError("the scenario has e-mail queues: give --smtp HOST:PORT")

    async def preflight(self) -> None:
        assert self.target.smtp is not None  # check() made sure
        host, port = self.target.smtp
        try:
            await greets(host, port)
        except (OSError, TimeoutError, SmtpError) as exc:
            raise LoadTestError(f"no SMTP intake at {host}:{port}: {exc}") from None

    def message(self, arrival: Arrival) -> tuple[str, str, bytes]:
        sender = f"customer-{arrival.number}@loadtest.invalid"
        key = f"<lt-{self.target.run_id}-{arrival.number}@loadtest.invalid>"
        mail = email.message.EmailMessage()
        mail["From"] = f"Load Test {arrival.number} <{sender}>"
        mail["To"] = arrival.queue.address or ""
        mail["Subject"] = f"Load test message {arrival.number}"
        mail["Message-ID"] = key
        mail["Date"] = email.utils.formatdate(localtime=False)
        mail.set_content(f"Load test e-mail {arrival.number} for queue {arrival.queue.queue}.")
        return sender, key, mail.as_bytes()

    async def arrive(self, arrival: Arrival) -> None:
        assert self.target.smtp is not None  # preflight made sure
        host, port = self.target.smtp
        sender, key, body = self.message(arrival)
        started: list[float] = []
        try:
            await send_mail(
                host,
                port,
                sender,
                arrival.queue.address or "",
                body,
                on_data=lambda: started.append(self.now()),
            )
        except SmtpError as exc:
            self.errors.add(f"smtp:{exc.code}", f"{exc.stage}: {exc.text}")
            return
        except (OSError, TimeoutError) as exc:
            self.errors.add("smtp:connect", str(exc))
            return
        self.ledger.created(self.channel, key, arrival.queue.queue, started[0])
