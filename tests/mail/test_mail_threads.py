"""Cases: threading by Message-ID / In-Reply-To / References, never by subject."""

from __future__ import annotations

from channels.mail.message import InboundMail
from channels.mail.threads import MailEntry, ThreadBook


def _mail(
    message_id: str,
    *,
    reply_to: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    subject: str = "Invoice",
    sender: str = "c@x.example",
) -> InboundMail:
    return InboundMail(
        message_id=message_id,
        in_reply_to=reply_to,
        references=refs,
        subject=subject,
        sender=sender,
        sender_name="",
        reply_to=None,
        recipients=("help@ringway.test",),
        date=None,
        text="body",
        attachments=(),
        size=10,
    )


def _file(book: ThreadBook, mail: InboundMail, contact: str) -> str:
    case = book.prepare(mail)
    book.file_inbound(case, mail, contact, 0.0)
    return case.id


def test_a_reply_to_any_message_of_a_case_joins_it() -> None:
    book = ThreadBook()
    first = _file(book, _mail("<1@x>"), "c1")
    outbound = MailEntry(
        direction="outbound",
        message_id="<r1@d>",
        at=1.0,
        sender="h",
        to="c",
        subject="Re",
        text="answer",
        contact_id="c1",
        agent_id="alice",
    )
    book.file_outbound(book.of_contact("c1")[0], outbound)  # type: ignore[index]
    by_our_id = _file(book, _mail("<2@x>", reply_to=("<r1@d>",)), "c2")
    by_references = _file(book, _mail("<3@x>", refs=("<1@x>", "<zz@x>")), "c3")
    assert by_our_id == first == by_references
    case = book.of_contact("c3")[0]  # type: ignore[index]
    assert [e.message_id for e in case.entries] == ["<1@x>", "<r1@d>", "<2@x>", "<3@x>"]


def test_the_same_subject_from_someone_else_is_another_case() -> None:
    book = ThreadBook()
    assert _file(book, _mail("<1@x>"), "c1") != _file(book, _mail("<2@y>", sender="d@y"), "c2")


def test_old_cases_are_forgotten_past_the_bound() -> None:
    book = ThreadBook(max_cases=2)
    _file(book, _mail("<1@x>"), "c1")
    _file(book, _mail("<2@x>"), "c2")
    _file(book, _mail("<3@x>"), "c3")
    assert len(book) == 2
    assert book.of_contact("c1") is None
    assert book.case_for(_mail("<4@x>", reply_to=("<1@x>",))) is None  # a new case now
    assert book.case_for(_mail("<5@x>", reply_to=("<3@x>",))) is not None
