"""The agent desktop's preview card in a real Chromium: the lead shows before any dial,
and the Skip button sends it back and frees the agent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dialer_kit import START, config_text
from peer_kit import free_port
from playwright.sync_api import expect, sync_playwright
from preview_kit import CAMPAIGN, CUSTOMER
from serve_kit import serving_in_thread

from dialer.leads import LeadStatus
from ringway.app import ServiceBundle, build
from ringway.config import load_config_text
from ringway.dialer_live.settings import DialerSettings
from ringway.telephony import TelephonySettings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
ALICE = (
    '  - {id: alice, name: Alice Ahmed, extension: "1001", '
    "skills: {sales: 8, english: 10, support: 4}}"
)
ALICE_PASSWORD = "alice-preview-pass-1"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServiceBundle, str]]:
    text = config_text(tmp_path)
    assert ALICE in text
    text = text.replace(ALICE, ALICE[:-1] + ", password_env: RW_PREVIEW_ALICE}")
    settings = DialerSettings(trunk=f"127.0.0.1:{free_port()}", reevaluate_s=0.2)
    sip = TelephonySettings(host="127.0.0.1", port=free_port())
    env = {"RW_PREVIEW_ALICE": ALICE_PASSWORD}
    bundle = build(load_config_text(text, "preview.yaml"), env, sip=sip, dialer=settings)
    assert bundle.dialer is not None
    bundle.dialer.wall = lambda: START  # inside every US calling window, whenever this runs
    with serving_in_thread(bundle.app) as port:
        yield bundle, f"http://127.0.0.1:{port}"


def test_the_preview_card_shows_the_lead_and_skip_frees_the_agent(
    server: tuple[ServiceBundle, str],
) -> None:
    bundle, base = server
    admin = {"Authorization": f"Bearer {bundle.admin_token}"}
    with httpx.Client(base_url=f"{base}/api/v1/dialer", headers=admin) as api:
        campaign = CAMPAIGN.format(timeout=12, on_timeout="skip")
        assert api.post("/campaigns", content=campaign).status_code == 200
        csv = f"id,phone,name\nlead-1,{CUSTOMER},Ann\n"
        assert api.post("/campaigns/look/lists", content=csv).status_code == 200
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
            try:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{base}/ui/agent.html")
                page.fill("#user", "alice")
                page.fill("#password", ALICE_PASSWORD)
                page.click("#signin")
                page.click("#btn-login")
                page.click("#btn-ready")
                expect(page.locator("#agent-state")).to_have_attribute("data-state", "ready")
                assert api.post("/campaigns/look/start").status_code == 200
                card = page.locator("#preview")
                expect(card).to_be_visible()
                expect(page.locator("#preview-number")).to_have_text(CUSTOMER)
                expect(page.locator("#preview-verdict")).to_have_text("allowed now")
                expect(page.locator("#agent-state")).to_have_attribute("data-state", "reserved")
                page.fill("#preview-skip-reason", "call after lunch")
                page.click("#preview-skip")
                expect(card).to_have_count(0)
                expect(page.locator("#agent-state")).to_have_attribute("data-state", "ready")
                status = api.get("/campaigns/look").json()  # the store is the server's thread's
                assert status["previews"] == [] and status["previews_ended"] == {"skipped": 1}
                assert status["leads"] == {LeadStatus.READY.value: 1}  # back, due later
                assert api.post("/campaigns/look/stop").status_code == 200
            finally:
                browser.close()
