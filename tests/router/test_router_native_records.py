"""`Agent`, `Contact`, `Capacity`, `Queue` as mypyc native classes: their users still work.

The compiled build makes them native (a field read is a struct read, not a generic
attribute lookup). Native classes have no ``__dict__`` and no slots layout, which
is what broke the reflection users before (docs/native-build.md): orjson crashed
on a compiled `Agent`, and copying needs mypyc's pickle state. These tests run on
the build the suite runs on, and compare the cluster codec's bytes with the
interpreted records' in a child process.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import router._native as native
import router.agents
import router.model
from ringway.cluster import codec
from router.agents import Action, Agent, Pending, Presence
from router.capacity import Capacity, capacity_from
from router.explain import Decision
from router.model import Channel, Contact, ContactStatus, new_contact
from router.queues import Queue, RelaxationStep, ServiceLevel
from router.skills import parse

ROOT = Path(__file__).resolve().parents[2]

# The same two records, built in a child process (compiled or interpreted), as JSON.
ENCODE = r"""
import sys
from router.agents import Action, Agent, Pending, Presence
from router.capacity import capacity_from
from router.explain import Candidate, Decision
from router.model import Channel, Contact, ContactStatus
from ringway.cluster import codec

agent = Agent(id="a1", name="Ann", skills={"sales": 3},
              capacity=capacity_from({"voice": 1, "chat": 3}, budget=3),
              presence=Presence.READY, reservation="res-1")
agent.active["c1"] = Channel.CHAT
agent.wrapping.add("c0")
agent.pending = Pending(action=Action.NOT_READY, reason="break")
agent.offers_by_queue["sales"] = 4
contact = Contact(id="c1", channel=Channel.CHAT, queue="sales", created_at=1.5, tier="gold",
                  attributes={"ivr": {"menu": "2"}}, status=ContactStatus.OFFERED)
contact.decisions.append(Decision(at=1.5, trigger="contact_arrived", queue="sales", step=0,
    requirement="sales>=2", strategy="longest-idle", chosen="a1",
    candidates=(Candidate(id="a1", score=(1.0, 2.0)),)))
sys.stdout.buffer.write(codec.agent_json(agent) + b"\n" + codec.contact_json(contact))
"""


def busy_agent() -> Agent:
    agent = Agent(
        id="a1",
        name="Ann",
        skills={"sales": 3},
        capacity=capacity_from({"voice": 1, "chat": 3}, budget=3),
        presence=Presence.READY,
    )
    agent.active["c1"] = Channel.CHAT
    agent.wrapping.add("c0")
    agent.pending = Pending(action=Action.LOGOUT, reason="logout")
    return agent


def offered_contact() -> Contact:
    contact = new_contact("c1", Channel.CHAT, "sales", 1.5)
    contact.status, contact.agent_id, contact.attributes["pop"] = ContactStatus.OFFERED, "a1", [1]
    contact.decisions.append(
        Decision(
            at=1.5, trigger="t", queue="sales", step=0, requirement="*", strategy="s", chosen="a1"
        )
    )
    return contact


def encoded(pure: bool) -> bytes:
    env = {**os.environ, native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run([sys.executable, "-c", ENCODE], cwd=ROOT, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_hot_records_are_native_in_the_build() -> None:
    # What the speed rests on (docs/simulation-performance.md): a plain class here
    # would still work, only slower, so nothing else would notice.
    assert native.is_compiled(router.model) and native.is_compiled(router.agents)
    for cls in (Agent, Contact, Capacity, Queue):
        assert "__mypyc_attrs__" in cls.__dict__, f"{cls.__name__} is not a native class"
        assert not hasattr(busy_agent() if cls is Agent else offered_contact(), "__dict__")


def test_deepcopy_copies_every_field_and_shares_no_container() -> None:
    agent, contact = busy_agent(), offered_contact()
    agent_copy, contact_copy = copy.deepcopy(agent), copy.deepcopy(contact)
    assert agent_copy == agent and contact_copy == contact
    agent_copy.wrapping.clear()
    contact_copy.attributes["pop"].append(2)
    assert agent.wrapping == {"c0"} and contact.attributes["pop"] == [1]


def test_a_frozen_native_capacity_copies_through_its_constructor() -> None:
    # mypyc's own pickle state sets fields one by one, which a frozen class refuses
    # (FrozenInstanceError, docs/native-build.md): `Capacity.__reduce__` rebuilds it.
    capacity = capacity_from({"voice": 1, "chat": 3}, weight={"chat": 1.5}, budget=3)
    copied = copy.deepcopy(capacity)
    assert copied == capacity and copied.maximum is not capacity.maximum
    assert pickle.loads(pickle.dumps(capacity)) == capacity
    assert copy.deepcopy(busy_agent()).capacity == busy_agent().capacity
    with pytest.raises(dataclasses.FrozenInstanceError):
        capacity.budget = 4  # type: ignore[misc]


def test_a_frozen_native_queue_pickles_for_the_simulators_workers() -> None:
    # `simulation.runner` sends the scenario, queues included, to spawned processes.
    queue = Queue(
        name="sales",
        channel=Channel.VOICE,
        requirement=parse("sales>=2"),
        relaxation=(RelaxationStep(after_s=10.0, requirement=parse("*")),),
        sla_by_tier={"gold": ServiceLevel(target=0.9, threshold_s=20.0)},
    )
    for copied in (pickle.loads(pickle.dumps(queue)), copy.deepcopy(queue)):
        assert copied == queue and copied is not queue
        assert copied.steps == 2 and copied.rate("gold") == queue.rate("gold") == 0.5
    assert dataclasses.replace(queue, name="care").name == "care"
    with pytest.raises(dataclasses.FrozenInstanceError):
        queue.name = "care"  # type: ignore[misc]


def test_pickle_round_trips() -> None:
    agent, contact = busy_agent(), offered_contact()
    assert pickle.loads(pickle.dumps(agent)) == agent
    assert pickle.loads(pickle.dumps(contact)) == contact


def test_dataclass_reflection_still_works() -> None:
    contact = offered_contact()
    names = [f.name for f in dataclasses.fields(Contact)]
    assert names[:4] == ["id", "channel", "queue", "created_at"] and "decisions" in names
    moved = dataclasses.replace(contact, queue="care")
    assert moved.queue == "care" and moved.id == "c1" and contact.queue == "sales"
    assert dataclasses.asdict(busy_agent())["pending"] == {
        "action": Action.LOGOUT,
        "reason": "logout",
    }
    assert repr(contact).startswith("Contact(id='c1', channel=<Channel.CHAT: 'chat'>")


def test_positional_constructor_builds_the_keyword_constructors_record() -> None:
    made = new_contact("c9", Channel.VOICE, "q", 3.0)
    assert made == Contact(id="c9", channel=Channel.VOICE, queue="q", created_at=3.0)
    assert made.attributes is not new_contact("c8", Channel.VOICE, "q", 3.0).attributes


def test_codec_round_trips_the_native_records() -> None:
    agent, contact = busy_agent(), offered_contact()
    assert codec.agent_from(codec.agent_json(agent)) == agent
    assert codec.contact_from(codec.contact_json(contact)) == contact


def test_codec_writes_the_same_bytes_compiled_and_interpreted() -> None:
    # Nodes of one cluster may run either build: the JSON in Redis must not differ.
    compiled, pure = encoded(pure=False), encoded(pure=True)
    assert b'"pending":{"action":"not_ready","reason":"break"}' in pure
    assert b'"wrapping":["c0"]' in pure and b'"candidates":[{"id":"a1"' in pure
    assert compiled == pure
