"""Parsing inbound messages and building threaded replies (RFC 5322 §3.6.4)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from channels.mail.message import (
    MAX_REFERENCES,
    MailError,
    build_reply,
    message_ids,
    parse_mail,
    reply_subject,
)


def _raw(**headers: str) -> bytes:
    message = EmailMessage()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Line one\r\nLine two")
    return bytes(message)


def _parse(content: bytes) -> object:
    return parse_mail(content, ["Help@Ringway.test"], body_chars=1000, id_domain="ringway.test")


def test_headers_body_and_recipients_are_read() -> None:
    content = _raw(
        From="Priya Shah <Priya.Shah@Example.org>",
        Subject="  Late order ",
        Message_ID="<a1@example.org>",
        In_Reply_To="<r0@ringway.test>",
        References="<x@example.org> junk <r0@ringway.test>",
        Reply_To="orders@example.org",
    )
    mail = parse_mail(content, ["Help@Ringway.test"], body_chars=1000, id_domain="ringway.test")
    assert mail.sender == "priya.shah@example.org" and mail.sender_name == "Priya Shah"
    assert mail.subject == "Late order" and mail.message_id == "<a1@example.org>"
    assert mail.in_reply_to == ("<r0@ringway.test>",)
    assert mail.references == ("<x@example.org>", "<r0@ringway.test>")
    assert mail.thread_ids() == ("<r0@ringway.test>", "<r0@ringway.test>", "<x@example.org>")
    assert mail.recipients == ("help@ringway.test",)
    assert mail.answer_to == "orders@example.org"
    assert mail.text == "Line one\nLine two"  # SMTP's CRLF normalised


def test_a_message_without_message_id_gets_one() -> None:
    mail = parse_mail(_raw(From="a@b.example"), [], body_chars=100, id_domain="ringway.test")
    assert mail.message_id.startswith("<") and mail.message_id.endswith("@ringway.test>")


def test_a_message_without_sender_is_refused() -> None:
    with pytest.raises(MailError) as caught:
        parse_mail(_raw(Subject="x"), [], body_chars=100, id_domain="ringway.test")
    assert caught.value.code == "no_sender"


def test_html_only_bodies_are_shown_as_text_and_bodies_are_capped() -> None:
    message = EmailMessage()
    message["From"] = "a@b.example"
    message.set_content("<p>Hello <b>there</b></p>" + "x" * 500, subtype="html")
    mail = parse_mail(bytes(message), [], body_chars=40, id_domain="d")
    assert mail.text.startswith("Hello")
    assert "<" not in mail.text and len(mail.text) <= 40


def test_attachments_are_listed_by_name() -> None:
    message = EmailMessage()
    message["From"] = "a@b.example"
    message.set_content("see attached")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="invoice.pdf")
    mail = parse_mail(bytes(message), [], body_chars=100, id_domain="d")
    assert mail.attachments == ("invoice.pdf",) and mail.text == "see attached"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order late", "Re: Order late"),
        ("Re: Order late", "Re: Order late"),
        ("RE: re:Order late", "Re: Order late"),
        ("AW: Bestellung", "Re: Bestellung"),
        ("", "Re: your message"),
    ],
)
def test_reply_subject_has_one_prefix(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_reply_threads_under_its_parent() -> None:
    parent = parse_mail(
        _raw(From="c@x.example", Subject="Q", Message_ID="<p@x>", References="<a@x> <b@x>"),
        ["help@ringway.test"],
        body_chars=100,
        id_domain="d",
    )
    reply = build_reply(
        parent, body="Answer", from_address="help@ringway.test", message_id="<r@d>", now=0.0
    )
    assert reply["In-Reply-To"] == "<p@x>"
    assert reply["References"] == "<a@x> <b@x> <p@x>"
    assert reply["Subject"] == "Re: Q" and reply["To"] == "c@x.example"
    assert reply["Message-ID"] == "<r@d>" and reply["Date"]


def test_references_stay_bounded() -> None:
    refs = " ".join(f"<m{n}@x>" for n in range(40))
    parent = parse_mail(
        _raw(From="c@x.example", Message_ID="<p@x>", References=refs),
        [],
        body_chars=10,
        id_domain="d",
    )
    reply = build_reply(parent, body="a", from_address="h@d", message_id="<r@d>", now=0.0)
    ids = message_ids(reply["References"])
    assert len(ids) == MAX_REFERENCES and ids[-1] == "<p@x>"
