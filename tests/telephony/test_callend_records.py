"""The records a call builds on its way, made positionally (`slot_constructor`), are
the ones the dataclasses' keyword constructors made: equal, same repr, still frozen.
(The session's commands have their own compiled `__init__`s instead:
test_calls_commands.py.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ivr.calls import commands as cmd
from ivr.calls import driver
from ivr.calls import events as ce
from ivr.calls.session import CallSession, QueueHold
from ivr.flows.actions import Route, new_route
from router.record import slot_constructor

CASES: list[tuple[Any, Any, dict[str, Any]]] = [
    (new_route, Route, {"queue": "sales", "attributes": {"cli": "+44"}, "priority": 5}),
    (driver._contact_queued, ce.ContactQueued, {"contact_id": "c-1", "queue": "q"}),
]


@pytest.mark.parametrize(("make", "cls", "fields"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_positional_record_is_the_dataclasss_own(
    make: Any, cls: Any, fields: dict[str, Any]
) -> None:
    made: Any = make(*fields.values())
    by_keywords = cls(**fields)
    assert type(made) is cls
    assert made == by_keywords and repr(made) == repr(by_keywords)
    if not any(isinstance(v, dict) for v in fields.values()):  # hashable when frozen
        assert hash(made) == hash(by_keywords)
    assert {f.name: getattr(made, f.name) for f in dataclasses.fields(made)} == fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, next(iter(fields)), "other")


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        new_route("sales")  # type: ignore[call-arg]


def test_a_field_named_like_the_constructors_own_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Clash:
        made: int

    with pytest.raises(TypeError):
        slot_constructor(Clash)


class _Flow:
    """A flow that routes at once, as benchmarks/flows/cps_queue.yaml does."""

    finished = False
    attributes: dict[str, str] = {"cli": "+447700900456"}

    def start(self, now: float) -> list[Any]:
        self.finished = True
        return [Route(queue="cps", attributes={"tier": "gold"}, priority=2)]

    def next_deadline(self) -> float | None:
        return None


@pytest.mark.parametrize("music", [True, False])
def test_the_hold_command_is_what_the_queue_says(music: Any) -> None:
    hold = QueueHold(music=music, announcements=False)
    call = CallSession("call-1", _Flow(), cli="+447700900456", hold_for=lambda queue: hold)  # type: ignore[arg-type]
    (create,) = call.start(1.0)
    assert create == cmd.CreateContact(
        queue="cps", attributes={"cli": "+447700900456", "tier": "gold"}, priority=2
    )
    (start,) = call.handle(ce.ContactQueued(contact_id="c-1", queue="cps"), 2.0)
    assert start == cmd.StartHold(music=music)
    assert type(start.music) is type(music)
    commands = call.handle(ce.CallEnded(side="caller", reason="bye"), 3.0)
    assert commands[0] == cmd.EndContact(contact_id="c-1")
    assert isinstance(commands[1], cmd.WriteRecord)
    record = commands[1].record
    assert record["outcome"] == "abandoned_in_queue" and record["queued_at"] == 2.0
    assert list(record)[:3] == ["call_id", "cli", "dialed"]
    assert [k for k in record if k in ("queue", "ivr_attributes", "contact_id", "queued_at")] == [
        "queue",
        "ivr_attributes",
        "contact_id",
        "queued_at",
    ]
    assert record["hangup_side"] == "caller" and record["hangup_reason"] == "bye"
