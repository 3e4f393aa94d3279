"""E-mail end to end: smtplib → intake → offer → reply through the relay, threaded →
the customer's answer returns to the same agent."""

from __future__ import annotations

from typing import Any


def test_an_email_thread_stays_with_its_agent(run_mail: Any, compose: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")  # ready first: she gets the first message
        bob = await desk.agent("bob")
        first = compose(
            "Order #1000 has not arrived — ñ",
            "Hello,\r\nmy order is late.\r\nPriya",
            Message_ID="<order-1000@example.org>",
        )
        assert await desk.send(first) == {}
        offer = await alice.expect("offer")
        assert offer["channel"] == "email"
        assert offer["pop"]["customer"]["id"] == "cust-1003"  # looked up by sender address
        assert offer["pop"]["tier"] == "gold"
        email = offer["contact"]["email"]
        assert email["subject"] == "Order #1000 has not arrived — ñ"
        assert offer["contact"]["case"]["messages"][0]["text"] == "Hello,\nmy order is late.\nPriya"
        cid = offer["contact_id"]
        await alice.ok("accept", contact_id=cid)
        sent = await alice.ok("email_reply", contact_id=cid, body="It ships today.")
        reply = await desk.relayed()
        assert reply["In-Reply-To"] == "<order-1000@example.org>"
        assert reply["References"] == "<order-1000@example.org>"
        assert reply["Subject"] == "Re: Order #1000 has not arrived — ñ"
        assert reply["To"] == "priya.shah@example.org"
        assert reply["From"] == "help@ringway.test"
        assert reply["Message-ID"] == sent["message"]["message_id"]
        assert reply.get_content().strip() == "It ships today."
        await alice.ok("complete", contact_id=cid, disposition="resolved", notes="shipping")

        # The customer answers our reply: round-robin would pick bob, the thread picks alice.
        answer = compose(
            "Re: Re: Order #1000 has not arrived — ñ",
            "Thanks! And the invoice?",
            In_Reply_To=reply["Message-ID"],
            References=f"<order-1000@example.org> {reply['Message-ID']}",
        )
        await desk.send(answer)
        again = await alice.expect("offer")
        assert again["contact"]["email"]["case_id"] == email["case_id"]
        assert again["contact"]["email"]["follow_up"] is True
        assert "preferred agent alice" in again["pop"]["reason"]["summary"]
        assert [m["direction"] for m in again["contact"]["case"]["messages"]] == [
            "inbound",
            "outbound",
            "inbound",
        ]
        assert not bob.seen("offer")

        # A new, unrelated message goes by round-robin: to bob.
        await desk.send(
            compose("Different question", "Opening hours?", sender="j.okafor@example.com")
        )
        other = await bob.expect("offer")
        assert other["contact"]["email"]["case_id"] != email["case_id"]

        history = await desk.service.customers.history("cust-1003", 5)
        assert history[0].disposition == "resolved"
        assert "It ships today." in history[0].notes and "my order is late" in history[0].notes

    run_mail(scenario)


def test_the_intake_refuses_other_recipients(run_mail: Any, compose: Any) -> None:
    async def scenario(desk: Any) -> None:
        import smtplib

        try:
            await desk.send(compose("spam", "relay me"), to="someone@elsewhere.example")
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients["someone@elsewhere.example"]
            assert code == 550 and b"no relaying" in text
        else:
            raise AssertionError("the intake relayed to a foreign recipient")
        assert not list(desk.service.router.live_contacts())

    run_mail(scenario)


def test_a_failing_relay_is_an_error_frame_and_the_email_stays(run_mail: Any, compose: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        await desk.send(compose("Help", "please"))
        offer = await alice.expect("offer")
        await alice.ok("accept", contact_id=offer["contact_id"])
        desk.bundle.mail.relay.port = 1  # nothing listens there
        error = await alice.call("email_reply", contact_id=offer["contact_id"], body="hi")
        assert error["code"] == "relay_failed"
        contact = desk.service.router.contact(offer["contact_id"])
        assert (contact.agent_id, contact.status.value) == ("alice", "connected")

    run_mail(scenario)
