"""A live service with its SMTP intake on a free port, a local SMTP sink standing in for
the relay, and desktop clients (`agent_desktop.client`)."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from mail_testkit import CONFIG
from serve_kit import serving

from agent_desktop.client import Client
from ringway.app import ServiceBundle, build
from ringway.auth import Role
from ringway.config import load_config_text


class SinkHandler:
    def __init__(self) -> None:
        self.messages: asyncio.Queue[EmailMessage] = asyncio.Queue()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        self.messages.put_nowait(message)
        return "250 OK"


@asynccontextmanager
async def smtp_sink() -> AsyncIterator[tuple[SinkHandler, int]]:
    """An SMTP server that keeps what it is sent: the relay the replies go through."""
    handler = SinkHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", 0)
    try:
        yield handler, int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class MailDesk:
    bundle: ServiceBundle
    port: int
    sink: SinkHandler
    clients: list[Client] = field(default_factory=list)

    @property
    def service(self) -> Any:
        return self.bundle.service

    @property
    def smtp_port(self) -> int:
        assert self.bundle.intake is not None and self.bundle.intake.port is not None
        return self.bundle.intake.port

    async def agent(self, who: str) -> Client:
        assert self.bundle.auth is not None
        client = await Client.connect(f"ws://127.0.0.1:{self.port}/ws/v1/desktop")
        await client.hello(self.bundle.auth.issue(who, Role.AGENT)[0])
        client.start_pinging(0.5)
        await client.expect("snapshot")
        await client.ok("login", ready=True)
        self.clients.append(client)
        return client

    async def send(self, message: EmailMessage, to: str = "help@ringway.test") -> dict[str, Any]:
        """Send with smtplib (on a thread: the intake runs on this loop); refusals per rcpt."""

        def deliver() -> dict[str, Any]:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=5) as smtp:
                refused = smtp.send_message(message, to_addrs=[to])
            return dict(refused)

        return await asyncio.to_thread(deliver)

    async def relayed(self, timeout: float = 5.0) -> EmailMessage:
        return await asyncio.wait_for(self.sink.messages.get(), timeout)


def mail(
    subject: str, body: str, *, sender: str = "Priya Shah <priya.shah@example.org>", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "help@ringway.test"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
def compose() -> Callable[..., EmailMessage]:
    return mail


Scenario = Callable[[MailDesk], Awaitable[None]]


@asynccontextmanager
async def running_desk(
    data_dir: Path, sink: SinkHandler, relay_port: int
) -> AsyncIterator[MailDesk]:
    """``ringway``'s app served by uvicorn on free ports; stopped (lifespan shutdown) on exit."""
    text = CONFIG.format(data_dir=data_dir, relay_port=relay_port)
    bundle = build(load_config_text(text, "mail-test.yaml"), {})
    async with serving(bundle.app) as port:
        desk = MailDesk(bundle, port, sink)
        try:
            yield desk
        finally:
            for client in desk.clients:
                await client.close()


@pytest.fixture
def run_mail(tmp_path: Path) -> Callable[[Scenario], None]:
    def run(scenario: Scenario) -> None:
        async def main() -> None:
            async with (
                smtp_sink() as (sink, relay_port),
                running_desk(tmp_path, sink, relay_port) as desk,
            ):
                await scenario(desk)

        asyncio.run(main())

    return run


Start = Callable[[], AbstractAsyncContextManager[MailDesk]]
RestartScenario = Callable[[Start], Awaitable[None]]


@pytest.fixture
def run_restarts(tmp_path: Path) -> Callable[[RestartScenario], None]:
    """The scenario gets ``start()``: each ``async with start() as desk`` is one run of the
    service on the same data dir (and the same relay), stopped at the block's end."""

    def run(scenario: RestartScenario) -> None:
        async def main() -> None:
            async with smtp_sink() as (sink, relay_port):
                await scenario(lambda: running_desk(tmp_path, sink, relay_port))

        asyncio.run(main())

    return run
