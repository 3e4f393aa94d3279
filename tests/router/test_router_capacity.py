"""Weighted channel capacity, on its own and as the router applies it."""

from __future__ import annotations

import pytest
from router_testkit import add_agent, arrive, build, offers, queue

from router.capacity import Capacity, capacity_from
from router.errors import InvalidConfig
from router.model import Channel

VOICE, CHAT, EMAIL = Channel.VOICE, Channel.CHAT, Channel.EMAIL


def active(*channels: Channel) -> dict[str, Channel]:
    return {f"c{i}": ch for i, ch in enumerate(channels)}


def test_default_capacity_is_one_exclusive_voice_call() -> None:
    cap = Capacity()
    assert cap.can_take(VOICE, active())
    assert not cap.can_take(VOICE, active(VOICE))
    assert not cap.can_take(CHAT, active())  # no chat allowance by default


def test_voice_is_exclusive_both_ways() -> None:
    cap = capacity_from({"voice": 1, "chat": 3})
    assert not cap.can_take(CHAT, active(VOICE)), "a call blocks new chats"
    assert not cap.can_take(VOICE, active(CHAT)), "an open chat blocks a call"
    assert cap.can_take(CHAT, active(CHAT, CHAT))


def test_three_chats_plus_one_email_within_budget() -> None:
    cap = capacity_from({"chat": 3, "email": 1}, budget=4)
    assert cap.can_take(EMAIL, active(CHAT, CHAT, CHAT))
    assert cap.can_take(CHAT, active(CHAT, CHAT, EMAIL))
    assert not cap.can_take(CHAT, active(CHAT, CHAT, CHAT)), "per-channel maximum of 3 chats"
    assert not cap.can_take(EMAIL, active(EMAIL)), "per-channel maximum of 1 e-mail"
    assert cap.load(active(CHAT, CHAT, CHAT, EMAIL)) == 4


def test_budget_shared_by_weights_two_chats_or_one_email() -> None:
    cap = capacity_from({"chat": 2, "email": 1}, weight={"email": 2}, budget=2)
    assert cap.can_take(CHAT, active(CHAT))
    assert not cap.can_take(EMAIL, active(CHAT)), "1 + 2 exceeds the budget of 2"
    assert not cap.can_take(CHAT, active(EMAIL)), "2 + 1 exceeds the budget of 2"
    assert cap.can_take(EMAIL, active())


def test_without_budget_only_per_channel_maximums_apply() -> None:
    cap = capacity_from({"chat": 2, "email": 2}, weight={"email": 5})
    assert cap.can_take(EMAIL, active(CHAT, CHAT, EMAIL))


def test_non_exclusive_voice_when_configured() -> None:
    cap = capacity_from({"voice": 1, "chat": 2}, exclusive=[])
    assert cap.can_take(CHAT, active(VOICE))


def test_load_fraction_for_least_occupied() -> None:
    cap = capacity_from({"chat": 3, "email": 1}, budget=4)
    assert cap.load_fraction(active()) == 0.0
    assert cap.load_fraction(active(CHAT, CHAT)) == 0.5
    assert capacity_from({"voice": 1, "chat": 2}).load_fraction(active(VOICE)) == 1.0


def test_capacity_from_rejects_unknown_channel_listing_known_ones() -> None:
    with pytest.raises(InvalidConfig, match=r"unknown channel 'fax' \(known: voice, chat"):
        capacity_from({"fax": 1})


def test_capacity_from_rejects_negative_limit() -> None:
    with pytest.raises(InvalidConfig, match="capacity for chat must be >= 0, got -1"):
        capacity_from({"chat": -1})


def test_router_fills_chat_agent_up_to_three_then_queues() -> None:
    router = build([queue("chat", channel=CHAT)])
    add_agent(router, "ann", capacity=capacity_from({"chat": 3}))
    for index in range(4):
        cid = f"c{index}"
        got = offers(arrive(router, cid, "chat", float(index)))
        if index < 3:
            assert got == [(cid, "ann")]
            router.accept("ann", cid, float(index))
        else:
            assert got == []
    assert sorted(router.agent("ann").active) == ["c0", "c1", "c2"]
    assert [c.id for c in router.waiting("chat")] == ["c3"]
    # one chat finishes: the fourth fits now
    events = router.complete("ann", "c0", 10.0)
    assert offers(events) == [("c3", "ann")]


def test_router_keeps_voice_out_while_a_chat_is_open_and_vice_versa() -> None:
    router = build([queue("calls"), queue("chat", channel=CHAT)])
    add_agent(router, "bo", capacity=capacity_from({"voice": 1, "chat": 3}))
    arrive(router, "chat1", "chat", 1.0)
    router.accept("bo", "chat1", 1.0)
    assert offers(arrive(router, "call1", "calls", 2.0)) == [], "voice waits behind a chat"
    assert offers(arrive(router, "chat2", "chat", 3.0)) == [("chat2", "bo")]
    router.accept("bo", "chat2", 3.0)
    router.complete("bo", "chat1", 4.0)
    assert offers(router.complete("bo", "chat2", 5.0)) == [("call1", "bo")]
    router.accept("bo", "call1", 5.0)
    assert offers(arrive(router, "chat3", "chat", 6.0)) == [], "a chat waits behind a call"
