"""The real service on a free port (uvicorn in a thread) and Debian's Chromium driven by
Playwright (sync API; never a downloaded browser). Screenshots go to
``test-artifacts/screenshots/`` (git-ignored)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from playwright.sync_api import Browser, Page, sync_playwright
from serve_kit import serving_in_thread

from ringway.app import ServiceBundle, build
from ringway.config import load_config_text

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORDS = {"alice": "alice-pass-1", "bob": "bob-pass-1", "sam": "sam-pass-1"}
ENV = {f"RW_BROWSER_{user.upper()}": password for user, password in PASSWORDS.items()}

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
  seed_demo_customers: true
  smtp_port: 0
routing:
  offer_timeout_s: 30
  wrap_up_s: 60
  entry_points: {{"web-chat": chat, "help@ringway.test": email}}
desktop: {{heartbeat_s: 2, dead_after_s: 10}}
mail: {{relay_host: 127.0.0.1, relay_port: {relay_port}, message_id_domain: ringway.test}}
skills: [support]
queues:
  - name: chat
    channel: chat
    requires: "support>=1"
    service_level: {{target: 0.8, threshold_s: 30}}
  - {{name: email, channel: email, requires: "support>=1", wrap_up_s: 0}}
agents:
  - {{id: alice, name: Alice Ahmed, extension: "1001", skills: {{support: 5}},
     password_env: RW_BROWSER_ALICE}}
  - {{id: bob, name: Bob Baker, skills: {{support: 3}}, password_env: RW_BROWSER_BOB}}
users:
  - {{id: sam, role: supervisor, name: Sam Supervisor, password_env: RW_BROWSER_SAM}}
"""


class Sink:
    """The SMTP relay stand-in: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        from email.parser import BytesParser
        from email.policy import default

        message = BytesParser(policy=default).parsebytes(envelope.original_content or b"")
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@dataclass
class Live:
    bundle: ServiceBundle
    base_url: str
    sink: Sink

    @property
    def smtp_port(self) -> int:
        assert self.bundle.intake is not None and self.bundle.intake.port is not None
        return self.bundle.intake.port

    def api(self, path: str) -> Any:
        token = self.bundle.admin_token
        response = httpx.get(
            self.base_url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return response.json()


def _run_sink(sink: Sink, ready: threading.Event, stop: threading.Event, port: list[int]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(sink, hostname="sink"), "127.0.0.1", 0)
        port.append(int(server.sockets[0].getsockname()[1]))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()
        await server.wait_closed()

    asyncio.run(main())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    sink, ready, stop, port = Sink(), threading.Event(), threading.Event(), []
    sink_thread = threading.Thread(target=_run_sink, args=(sink, ready, stop, port), daemon=True)
    sink_thread.start()
    assert ready.wait(5)
    text = CONFIG.format(data_dir=tmp_path_factory.mktemp("browser"), relay_port=port[0])
    bundle = build(load_config_text(text, "browser-test.yaml"), ENV)
    try:
        with serving_in_thread(bundle.app, loop="asyncio", ws_per_message_deflate=False) as port:
            yield Live(bundle, f"http://127.0.0.1:{port}", sink)
    finally:
        stop.set()
        sink_thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: while Playwright's sync API is open its event loop runs on
    # this thread, and every later test's asyncio.run() would refuse to start.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page_for(browser: Browser) -> Iterator[Any]:
    """``page_for(name)``: a page in its own context (its own sessionStorage)."""
    contexts = []

    def make(name: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
