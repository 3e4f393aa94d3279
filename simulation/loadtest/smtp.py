"""A minimal asyncio SMTP client (RFC 5321): one message per connection.

Enough for a load generator: greeting, EHLO, MAIL, RCPT, DATA with dot-stuffing
(RFC 5321 §4.5.2), QUIT. The reply to the end of DATA is returned, because
Ringway's intake answers ``250 2.0.0 queued as <contact id>`` once the contact
exists. No TLS or AUTH: point it at the intake, not at a public MTA.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

TIMEOUT_S = 30.0


class SmtpError(Exception):
    def __init__(self, code: int, text: str, stage: str) -> None:
        super().__init__(f"{stage}: {code} {text}")
        self.code, self.text, self.stage = code, text, stage


async def _reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    """One (possibly multi-line, ``250-…``) reply: its code and last line's text."""
    while True:
        line = (await asyncio.wait_for(reader.readline(), TIMEOUT_S)).decode("utf-8", "replace")
        if len(line) < 4 or not line[:3].isdigit():
            raise SmtpError(0, line.strip() or "connection closed", "reply")
        if line[3] != "-":
            return int(line[:3]), line[4:].strip()


async def _command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str, want: int, stage: str
) -> str:
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    code, text = await _reply(reader)
    if code != want:
        raise SmtpError(code, text, stage)
    return text


def dot_stuffed(message: bytes) -> bytes:
    lines = message.replace(b"\r\n", b"\n").split(b"\n")
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    return body + b"\r\n.\r\n"


async def send_mail(
    host: str,
    port: int,
    sender: str,
    recipient: str,
    message: bytes,
    *,
    on_data: Callable[[], None] = lambda: None,
) -> str:
    """Deliver ``message``; the text of the final ``250``. ``on_data`` runs as the
    message body goes out (when the contact is about to be created)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT_S)
    try:
        code, text = await _reply(reader)
        if code != 220:
            raise SmtpError(code, text, "greeting")
        await _command(reader, writer, "EHLO loadtest.invalid", 250, "EHLO")
        await _command(reader, writer, f"MAIL FROM:<{sender}>", 250, "MAIL")
        await _command(reader, writer, f"RCPT TO:<{recipient}>", 250, "RCPT")
        await _command(reader, writer, "DATA", 354, "DATA")
        on_data()
        writer.write(dot_stuffed(message))
        await writer.drain()
        code, text = await _reply(reader)
        if code != 250:
            raise SmtpError(code, text, "message")
        writer.write(b"QUIT\r\n")
        await writer.drain()
        return text
    finally:
        await _close(writer)


async def greets(host: str, port: int, timeout: float = 5.0) -> None:
    """Raise unless an SMTP server greets on (host, port)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        code, text = await asyncio.wait_for(_reply(reader), timeout)
        if code != 220:
            raise SmtpError(code, text, "greeting")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
