"""The mail desk's ``observe`` finishes exactly the e-mail contacts `finished_contact`
names, though it lets every other contact's event go before asking it (a call's or a
chat's events, most of what it sees, cost it a prefix check)."""

from __future__ import annotations

from typing import Any

from channels.mail.contacts import CONTACT_PREFIX, finished_contact
from channels.mail.desk import MailDesk
from channels.mail.threads import ThreadBook
from router import events as ev


class Finished:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def finish(self, contact_id: str) -> None:
        self.ids.append(contact_id)


def desk_with_store() -> tuple[MailDesk, Finished]:
    desk = MailDesk.__new__(MailDesk)  # only what `observe` reads
    store = Finished()
    desk.store = store  # type: ignore[assignment]
    desk.threads = ThreadBook()
    desk._remote = {}
    return desk, store


def events() -> list[ev.Event]:
    mail, call = f"{CONTACT_PREFIX}1", "c-0123456789abcdef"
    common: dict[str, Any] = {"seq": 1, "at": 2.0}
    return [
        ev.ContactAbandoned(**common, contact_id=mail, queue="q", channel="email", wait=1.0),
        ev.ContactAbandoned(**common, contact_id=call, queue="q", channel="voice", wait=1.0),
        ev.ContactCompleted(
            **common, contact_id=mail, agent_id="a", queue="q", channel="email", handle=3.0
        ),
        ev.ContactCancelled(**common, contact_id=mail, queue="q", wait=1.0),
        ev.ContactOverflowed(
            **common, contact_id=mail, queue="q", target="other", reason="max_wait", wait=9.0
        ),
        ev.ContactOverflowed(
            **common, contact_id=mail, queue="q", target=None, reason="max_wait", wait=9.0
        ),
        ev.ContactEnded(
            **common, contact_id=mail, agent_id="a", queue="q", talk=1.0, wrap_until=4.0
        ),
        ev.AgentStateChanged(**common, agent_id="a", state="ready", previous="offline"),
        ev.ContactQueued(**common, contact_id=mail, queue="q", channel="email"),
    ]


def test_observe_finishes_what_finished_contact_names() -> None:
    desk, store = desk_with_store()
    for event in events():
        desk.observe(event)
    expected = [name for e in events() if (name := finished_contact(e)) is not None]
    assert store.ids == expected == [f"{CONTACT_PREFIX}1"] * 4


def test_a_call_or_a_chat_contact_is_never_finished() -> None:
    desk, store = desk_with_store()
    for contact_id in ("c-0123456789abcdef", "chat-1", "c-mai"):
        desk.observe(
            ev.ContactAbandoned(
                seq=1, at=1.0, contact_id=contact_id, queue="q", channel="voice", wait=1.0
            )
        )
    assert store.ids == []
