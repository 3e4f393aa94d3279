"""Records (router/record.py): events and decisions are immutable, enforced by the type
checker; the positional constructors of the hot path build the same records as the
keyword ones."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router import events as ev
from router.model import Channel, Contact, Reservation, new_contact, new_reservation
from router.record import positional

SNIPPET = """
from router.events import ContactQueued
from router.explain import Decision
event = ContactQueued(at=1.0, contact_id="c", queue="q", channel="voice")
event.queue = "elsewhere"
decision = Decision(at=1.0, trigger="t", queue="q", step=0, requirement="*", strategy="s",
                    chosen=None)
decision.chosen = "someone"
"""


def test_mypy_rejects_assignment_to_event_and_decision_fields(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(SNIPPET)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(probe)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stdout
    assert 'Property "queue" defined in "ContactQueued" is read-only' in done.stdout
    assert 'Property "chosen" defined in "Decision" is read-only' in done.stdout


# The positional constructors the router's hot path uses (router.record.positional):
# each builds exactly the record its keyword constructor builds, field for field.
POSITIONAL_CASES: list[tuple[Callable[..., Any], Callable[..., Any], dict[str, Any]]] = [
    (
        ev.new_agent_state_changed,
        ev.AgentStateChanged,
        dict(seq=1, at=2.0, agent_id="a", state="busy", previous="reserved", reason=None),
    ),
    (
        ev.new_contact_queued,
        ev.ContactQueued,
        dict(
            seq=3,
            at=4.0,
            contact_id="c",
            queue="q",
            channel="voice",
            tier="gold",
            priority=5,
            customer_id="cust",
            via="overflow",
        ),
    ),
    (
        ev.new_contact_offered,
        ev.ContactOffered,
        dict(
            seq=5,
            at=6.0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="chat",
            reservation_id="r",
            deadline=21.0,
            wait=1.5,
        ),
    ),
    (
        ev.new_offer_accepted,
        ev.OfferAccepted,
        dict(
            seq=7,
            at=8.0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="voice",
            reservation_id="r",
            wait=2.5,
            tier=None,
        ),
    ),
    (
        ev.new_contact_ended,
        ev.ContactEnded,
        dict(seq=9, at=10.0, contact_id="c", agent_id="a", queue="q", talk=3.0, wrap_until=40.0),
    ),
    (
        ev.new_contact_completed,
        ev.ContactCompleted,
        dict(
            seq=11,
            at=12.0,
            contact_id="c",
            agent_id="a",
            queue="q",
            channel="voice",
            handle=33.0,
            disposition="sale",
            customer_id=None,
            auto=True,
        ),
    ),
    (
        ev.new_contact_abandoned,
        ev.ContactAbandoned,
        dict(
            seq=13,
            at=14.0,
            contact_id="c",
            queue="q",
            channel="voice",
            wait=9.0,
            agent_id="a",
            tier="silver",
        ),
    ),
    (
        new_reservation,
        Reservation,
        dict(id="r", contact_id="c", agent_id="a", queue="q", created_at=1.0, deadline=16.0),
    ),
]


@pytest.mark.parametrize(("make", "cls", "fields"), POSITIONAL_CASES)
def test_positional_constructor_builds_the_keyword_record(
    make: Callable[..., Any], cls: Callable[..., Any], fields: dict[str, Any]
) -> None:
    made = make(*fields.values())  # the dicts list every field in declaration order
    assert [f.name for f in dataclasses.fields(made)] == list(fields)
    assert made == cls(**fields)
    assert type(made) is cls


def test_new_contact_is_a_default_contact_with_fresh_containers() -> None:
    made = new_contact("c1", Channel.CHAT, "support", 12.5)
    assert made == Contact(id="c1", channel=Channel.CHAT, queue="support", created_at=12.5)
    other = new_contact("c2", Channel.CHAT, "support", 13.0)
    made.attributes["x"] = 1
    made.decisions.append(None)  # type: ignore[arg-type]
    assert other.attributes == {} and other.decisions == []  # no shared default dict/list


def test_positional_refuses_a_field_without_default_beyond_the_count() -> None:
    with pytest.raises(TypeError, match="has no default"):
        positional(Contact, 2)  # ``queue``, the third field, has no default
