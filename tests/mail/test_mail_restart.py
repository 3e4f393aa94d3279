"""An e-mail the intake answered 250 to survives a restart of the service (same data dir):
it is offered again with its body and thread, replies still thread, a finished case
stays finished, and restarts never duplicate a contact."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from router.model import ContactStatus


def live_email_ids(desk: Any) -> list[str]:
    return sorted(c.id for c in desk.service.router.live_contacts() if c.channel.value == "email")


async def handle(agent: Any, desk: Any, body: str) -> tuple[dict[str, Any], Any]:
    """The agent's next offer: accepted, answered with ``body``, completed."""
    offer = await agent.expect("offer")
    cid = offer["contact_id"]
    await agent.ok("accept", contact_id=cid)
    await agent.ok("email_reply", contact_id=cid, body=body)
    reply = await desk.relayed()
    await agent.ok("complete", contact_id=cid, disposition="resolved", notes="")
    return offer, reply


def test_an_accepted_email_comes_back_after_a_restart_with_its_thread(
    run_restarts: Any, compose: Any
) -> None:
    async def scenario(start: Any) -> None:
        async with start() as desk:
            alice = await desk.agent("alice")
            first = compose("Order #7 is late", "Where is it?", Message_ID="<o7@example.org>")
            assert await desk.send(first) == {}
            offer, reply = await handle(alice, desk, "It ships today.")
            case_id = offer["contact"]["email"]["case_id"]
            await alice.close()
            desk.clients.remove(alice)
            # The customer answers while nobody is logged in: accepted (250), queued.
            answer = compose(
                "Re: Order #7 is late",
                "It still has not come.\nPriya",
                Message_ID="<o7-2@example.org>",
                In_Reply_To=reply["Message-ID"],
                References=f"<o7@example.org> {reply['Message-ID']}",
            )
            assert await desk.send(answer) == {}
            [waiting] = live_email_ids(desk)
            received_at = desk.service.router.contact(waiting).attributes["email"]["received_at"]

        async with start() as desk:  # the service restarted: routing state is empty
            assert desk.bundle.mail.requeued == [waiting]
            alice = await desk.agent("alice")
            offer = await alice.expect("offer")
            assert offer["contact_id"] == waiting
            email = offer["contact"]["email"]
            assert email["subject"] == "Re: Order #7 is late"
            assert email["case_id"] == case_id and email["follow_up"] is True
            assert email["received_at"] == received_at and email["requeues"] == 1
            assert email["requeued_at"] > received_at
            messages = offer["contact"]["case"]["messages"]
            assert [m["direction"] for m in messages] == ["inbound", "outbound", "inbound"]
            assert messages[0]["text"] == "Where is it?"
            assert messages[1]["text"] == "It ships today."
            assert messages[2]["text"] == "It still has not come.\nPriya"
            assert email["preferred_agent"] == "alice"
            assert desk.service.router.contact(waiting).preferred_agent == "alice"

            # Alice answers after the restart: the reply threads under the whole case.
            await alice.ok("accept", contact_id=waiting)
            await alice.ok("email_reply", contact_id=waiting, body="Sent again by courier.")
            second = await desk.relayed()
            assert second["In-Reply-To"] == "<o7-2@example.org>"
            assert second["References"] == (
                f"<o7@example.org> {reply['Message-ID']} <o7-2@example.org>"
            )
            assert second["Subject"] == "Re: Order #7 is late"
            await alice.ok("complete", contact_id=waiting, disposition="resolved", notes="")

        async with start() as desk:  # and once more: the customer's answer joins the case
            assert desk.bundle.mail.requeued == []
            bob = await desk.agent("bob")
            alice = await desk.agent("alice")
            await desk.send(
                compose(
                    "Re: Re: Order #7 is late",
                    "Got it, thanks.",
                    In_Reply_To=second["Message-ID"],
                    References=f"<o7-2@example.org> {second['Message-ID']}",
                )
            )
            again = await alice.expect("offer")
            assert again["contact"]["email"]["case_id"] == case_id
            assert again["contact"]["email"]["preferred_agent"] == "alice"
            assert len(again["contact"]["case"]["messages"]) == 5
            assert not bob.seen("offer")

    run_restarts(scenario)


def test_finished_cases_stay_finished_and_restarts_never_duplicate(
    run_restarts: Any, compose: Any
) -> None:
    async def scenario(start: Any) -> None:
        async with start() as desk:
            alice = await desk.agent("alice")
            await desk.send(compose("Done soon", "Quick one", sender="j.okafor@example.com"))
            await handle(alice, desk, "Answered.")
            await alice.ok("state", state="not_ready", reason="lunch")
            await desk.send(compose("Still open", "Please call me back"))
            [open_id] = live_email_ids(desk)
            cancelled = compose("Withdrawn", "never mind", sender="x@example.net")
            await desk.send(cancelled)
            [withdrawn] = [c for c in live_email_ids(desk) if c != open_id]
            await desk.service.call("cancel", contact_id=withdrawn, reason="spam")

        for _ in range(2):  # two restarts in a row, the e-mail untouched in between
            async with start() as desk:
                assert desk.bundle.mail.requeued == [open_id]
                assert live_email_ids(desk) == [open_id]

        async with start() as desk:
            assert live_email_ids(desk) == [open_id]
            alice = await desk.agent("alice")
            offer, _ = await handle(alice, desk, "Calling you now.")
            assert offer["contact_id"] == open_id
            assert offer["contact"]["case"]["messages"][0]["text"] == "Please call me back"
            contact = desk.service.router.contact(open_id)
            assert contact.status is ContactStatus.COMPLETED

        async with start() as desk:
            assert desk.bundle.mail.requeued == []
            assert live_email_ids(desk) == []

    run_restarts(scenario)


def test_a_failing_disk_refuses_with_451_and_nothing_is_queued(run_mail: Any, compose: Any) -> None:
    async def scenario(desk: Any) -> None:
        store = desk.bundle.mail.store
        # SQLite's own "disk full" (SQLITE_FULL): the file may not grow by one page more.
        pages = await store._db.run(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
        await store._db.run(lambda c: c.execute(f"PRAGMA max_page_count = {pages}"))
        big = compose("Large", "x" * 15_000)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await desk.send(big)
        assert refused.value.smtp_code == 451
        assert b"cannot store" in refused.value.smtp_error
        assert live_email_ids(desk) == []  # no 250, no contact

        await store._db.run(lambda c: c.execute("PRAGMA max_page_count = 1073741823"))
        assert await desk.send(big) == {}  # the sender's retry goes through
        assert len(live_email_ids(desk)) == 1

    run_mail(scenario)
