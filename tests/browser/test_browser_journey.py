"""The pages in a real browser against the real service: an agent, a supervisor and a
customer go through a chat from first message to disposition; an e-mail is answered."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from playwright.sync_api import Page, expect

PASSWORDS = {"alice": "alice-pass-1", "bob": "bob-pass-1", "sam": "sam-pass-1"}


def sign_in(page: Page, url: str, user: str) -> None:
    page.goto(url)
    page.fill("#user", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#signin")


def queue_cell(page: Page, queue: str, cell: str) -> Any:
    return page.locator(f'#queues tr[data-queue="{queue}"] td.{cell}')


def test_chat_from_widget_to_disposition(live: Any, page_for: Any, shot: Any) -> None:
    base = live.base_url + "/ui"
    agent, board, customer = page_for("agent"), page_for("board"), page_for("customer")

    sign_in(agent, f"{base}/agent.html", "alice")
    expect(agent.locator("#agent-state")).to_have_attribute("data-state", "offline")
    agent.fill("#extension", "2001")
    agent.click("#btn-login")
    expect(agent.locator("#agent-state")).to_have_attribute("data-state", "not_ready")
    agent.click("#btn-ready")
    expect(agent.locator("#agent-state")).to_have_attribute("data-state", "ready")

    sign_in(board, f"{base}/wallboard.html", "sam")
    expect(board.locator('#agents tr[data-agent="alice"]')).to_have_attribute("data-state", "ready")
    expect(queue_cell(board, "chat", "answered")).to_have_text("0")
    shot(board, "wallboard-before")

    customer.goto(f"{base}/chat.html")
    customer.fill("#name", "Priya")
    customer.fill("#email", "priya.shah@example.org")
    customer.fill("#first", "My order #1000 is late")
    shot(customer, "chat-widget-start")
    customer.click("#start-chat")
    expect(customer.locator("#status")).to_have_attribute("data-status", "waiting")

    offer = agent.locator("#offer")
    expect(offer).to_be_visible()
    expect(agent.locator("#offer-label")).to_have_text("Priya Shah")
    expect(agent.locator("#offer-tier")).to_have_text("gold")
    expect(agent.locator("#pop-customer")).to_contain_text("cust-1003")
    expect(agent.locator("#pop-chat")).to_contain_text("My order #1000 is late")
    expect(agent.locator("#offer-reason")).to_contain_text("longest-idle")
    expect(board.locator('#agents tr[data-agent="alice"]')).to_have_attribute(
        "data-state", "reserved"
    )
    expect(queue_cell(board, "chat", "ringing")).to_have_text("1")
    shot(agent, "agent-offer")
    agent.click("#offer-accept")

    card = agent.locator('.contact[data-channel="chat"]')
    expect(card).to_be_visible()
    board.fill("#explain-id", card.get_attribute("data-id") or "")
    board.click("#explain")
    expect(board.locator("#explanation")).to_contain_text("contact_arrived → alice")
    expect(customer.locator("#status")).to_have_text("Connected to Alice Ahmed")
    card.locator(".chat-input").fill("Sorry about that, Priya. It ships today.")
    card.locator(".chat-send").click()
    expect(customer.locator("#log")).to_contain_text("It ships today.")
    expect(card.locator(".chat-log")).to_contain_text("It ships today.")
    customer.fill("#text", "Great, thanks!")
    customer.click("#send")
    expect(card.locator(".chat-log")).to_contain_text("Great, thanks!")
    expect(board.locator('#agents tr[data-agent="alice"]')).to_have_attribute("data-state", "busy")
    expect(queue_cell(board, "chat", "answered")).to_have_text("1")
    shot(agent, "agent-chat")
    shot(customer, "chat-widget-conversation")
    shot(board, "wallboard-busy")

    card.locator(".end-chat").click()
    expect(card.locator(".wrap")).to_be_visible()
    expect(customer.locator("#status")).to_have_attribute("data-status", "ended")
    card.locator(".extend").click()
    card.locator(".disposition").select_option("resolved")
    card.locator(".notes").fill("Shipped same day")
    shot(agent, "agent-wrap-up")
    card.locator(".complete").click()
    expect(card).to_have_count(0)
    expect(agent.locator("#agent-state")).to_have_attribute("data-state", "ready")
    expect(board.locator('#agents tr[data-agent="alice"]')).to_have_attribute("data-state", "ready")
    shot(board, "wallboard-after")

    history = live.api("/customers/cust-1003/history")
    latest = history["interactions"][0]
    assert latest["disposition"] == "resolved" and "It ships today." in latest["notes"]


def test_email_reply_from_the_desktop(live: Any, page_for: Any, shot: Any) -> None:
    agent = page_for("agent-mail")
    sign_in(agent, f"{live.base_url}/ui/agent.html", "bob")
    agent.click("#btn-login")
    agent.click("#btn-ready")
    expect(agent.locator("#agent-state")).to_have_attribute("data-state", "ready")
    message = EmailMessage()
    message["From"] = "James Okafor <j.okafor@example.com>"
    message["To"] = "help@ringway.test"
    message["Subject"] = "Invoice question"
    message["Message-ID"] = "<inv-7@example.com>"
    message.set_content("Why was I charged twice?")
    with smtplib.SMTP("127.0.0.1", live.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)
    expect(agent.locator("#offer-label")).to_have_text("James Okafor")
    expect(agent.locator("#pop-email")).to_contain_text("charged twice")
    agent.click("#offer-accept")
    card = agent.locator('.contact[data-channel="email"]')
    card.locator(".mail-body").fill("We refunded the second charge.")
    card.locator(".mail-send").click()
    expect(card.locator(".mail.outbound")).to_contain_text("refunded")
    shot(agent, "agent-email")
    reply = next(m for m in live.sink.messages if m["In-Reply-To"] == "<inv-7@example.com>")
    assert reply["Subject"] == "Re: Invoice question"
    card.locator(".complete").click()
    expect(card).to_have_count(0)
