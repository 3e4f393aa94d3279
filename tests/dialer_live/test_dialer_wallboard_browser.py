"""The wallboard's "Outbound campaigns" panel in a real Chromium against a real server
with the dialer: the snapshot draws it, the REST poll keeps it current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dialer_kit import CAMPAIGN, config_text
from peer_kit import free_port
from playwright.sync_api import expect, sync_playwright
from serve_kit import serving_in_thread

from ringway.app import ServiceBundle, build
from ringway.config import load_config_text
from ringway.dialer_live.settings import DialerSettings
from ringway.telephony import TelephonySettings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SAM_PASSWORD = "sam-dialer-pass-1"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")

SAM = "  - {id: sam, role: supervisor, name: Sam Supervisor}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ServiceBundle, str]]:
    text = config_text(tmp_path)
    assert SAM in text
    text = text.replace(SAM, SAM[:-1] + ", password_env: RW_DIALER_SAM}")
    settings = DialerSettings(trunk=f"127.0.0.1:{free_port()}", reevaluate_s=0.2)
    sip = TelephonySettings(host="127.0.0.1", port=free_port())
    env = {"RW_DIALER_SAM": SAM_PASSWORD}
    bundle = build(load_config_text(text, "wallboard.yaml"), env, sip=sip, dialer=settings)
    with serving_in_thread(bundle.app) as port:
        yield bundle, f"http://127.0.0.1:{port}"


def test_wallboard_shows_campaign_figures_and_follows_them(
    server: tuple[ServiceBundle, str],
) -> None:
    bundle, base = server
    admin = {"Authorization": f"Bearer {bundle.admin_token}"}
    with httpx.Client(base_url=f"{base}/api/v1/dialer", headers=admin) as api:
        assert api.post("/campaigns", content=CAMPAIGN).status_code == 200
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
            try:
                page = browser.new_page()
                page.set_default_timeout(15_000)
                page.goto(f"{base}/ui/wallboard.html")
                page.fill("#user", "sam")
                page.fill("#password", SAM_PASSWORD)
                page.click("#signin")
                row = page.locator('#dialer tr[data-campaign="spring"]')
                expect(row.locator("td").nth(1)).to_have_text("progressive")
                expect(row.locator("td").nth(2)).to_have_text("no")
                expect(row.locator("td.dial-level")).to_have_text("0.00")
                expect(row.locator("td").nth(6)).to_have_text("30d (US)")
                # started behind the board's back: the 5 s poll of the REST status shows it
                assert api.post("/campaigns/spring/start").status_code == 200
                expect(row.locator("td").nth(2)).to_have_text("yes")
                assert api.post("/campaigns/spring/stop").status_code == 200
            finally:
                browser.close()
