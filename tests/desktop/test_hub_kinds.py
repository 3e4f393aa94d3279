"""The hub is handed only the router events a desktop consumer acts on (`DESKTOP_KINDS`):
a contact queued, on every call, costs it no loop callback; every event the feed or a
channel desk handles still reaches it."""

from __future__ import annotations

from typing import Any, cast

from agent_desktop.chat import FINAL_EVENTS
from agent_desktop.feed import Feed
from agent_desktop.hub import DESKTOP_KINDS, UNOBSERVED_KINDS
from router import events as ev


def test_a_queued_contact_is_not_handed_to_the_hub() -> None:
    assert ev.ContactQueued.kind not in DESKTOP_KINDS
    assert frozenset(ev.EVENT_TYPES) == DESKTOP_KINDS | UNOBSERVED_KINDS


def test_every_kind_the_feed_or_a_channel_desk_acts_on_is_handed_over() -> None:
    feed = Feed(cast(Any, None))
    handled = {cls.kind for cls in feed._handlers}  # white-box: the feed's own table
    channel_desks = {  # chat.observe and the mail desk's observe (finished_contact)
        cls.kind
        for cls in (
            ev.OfferAccepted,
            ev.ContactTransferred,
            ev.ContactEnded,
            ev.ContactCompleted,
            ev.ContactCancelled,
            ev.ContactOverflowed,
            ev.ContactAbandoned,
            *FINAL_EVENTS,
        )
    }
    assert handled | channel_desks <= DESKTOP_KINDS
