"""``ringway serve`` killed with SIGKILL right after answering 250: no clean shutdown, no
flush. The message was on disk before the 250, so the next ``ringway serve`` on the same
data dir queues it again (same contact id, original arrival time kept)."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from mail_testkit import CONFIG
from peer_kit import free_port

TOKEN = "mail-crash-admin-token"


class Serve:
    def __init__(self, tmp_path: Path) -> None:
        self.config = tmp_path / "centre.yaml"
        self.config.write_text(CONFIG.format(data_dir=tmp_path, relay_port=2))
        self.http, self.smtp = free_port(), free_port()
        self.log = tmp_path / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(self.config)]
        command += ["--no-sip", "--http-port", str(self.http), "--smtp-port", str(self.smtp)]
        env = {**os.environ, "RINGWAY_ADMIN_TOKEN": TOKEN, "RINGWAY_TOKEN_SECRET": "s3cret"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{self.http}/healthz", timeout=0.5).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"ringway serve did not start:\n{self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)

    def emails(self) -> list[dict[str, Any]]:
        r = httpx.get(
            f"http://127.0.0.1:{self.http}/api/v1/contacts",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert r.status_code == 200, r.text
        return [c for c in r.json()["contacts"] if c["channel"] == "email"]


def test_a_message_acknowledged_just_before_a_sigkill_is_queued_after_it(tmp_path: Path) -> None:
    serve = Serve(tmp_path)
    try:
        serve.start()
        message = EmailMessage()
        message["From"] = "priya.shah@example.org"
        message["To"] = "help@ringway.test"
        message["Subject"] = "Killed right after"
        message.set_content("Is this kept?")
        with smtplib.SMTP("127.0.0.1", serve.smtp, timeout=10) as smtp:
            smtp.ehlo()
            smtp.mail("priya.shah@example.org")
            smtp.rcpt("help@ringway.test")
            code, answer = smtp.data(message.as_bytes())
            assert code == 250, answer  # "2.0.0 queued as <contact id>"
            serve.kill()  # before QUIT: the session never closed cleanly either
        queued = answer.split()[-1].decode()

        serve.start()  # same data dir, routing state empty
        [contact] = serve.emails()
        assert contact["id"] == queued and contact["status"] == "queued"
        email = contact["attributes"]["email"]
        assert email["subject"] == "Killed right after" and email["requeues"] == 1
        assert email["received_at"] < email["requeued_at"]
        serve.kill(signal.SIGTERM)

        serve.start()  # a second restart: still one contact
        assert [c["id"] for c in serve.emails()] == [queued]
    finally:
        serve.kill()
