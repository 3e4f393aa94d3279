"""The compiled SIP core (docs/native-build.md): loaded by the test run, and sending
exactly the bytes the interpreted modules send.

`make test` builds `build/native` first, so every other SIP test runs on the
compiled modules; this file checks that they are the ones loaded, and runs one
fixed corpus through both builds in child processes (``RINGWAY_PURE=1`` and not):
every captured sipp message parsed and serialised, the responses built from the
requests, the errors for malformed ones, and whole calls through the edge's
sans-I/O path with its timers. The two runs must agree byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ivr.edge
import ivr.sip.errors
import ivr.sip.message
import ivr.sip.transaction
import ivr.transport
import router._native as native

ROOT = Path(__file__).resolve().parents[2]

# Runs in a child: prints {"modules": {name: file}, "out": [[what, hex bytes], ...]}.
CORPUS = r"""
import asyncio, json, random, sys
from pathlib import Path
import ivr.edge, ivr.sip.message, ivr.sip.transaction, ivr.transport
from ivr.edge import CallHandler, SipEdge
from ivr.registrar import Registrar
from ivr.sip.actions import Peer
from ivr.sip.builders import error_response, make_response
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, parse_message
from ivr.transport import SipTransport

FIXTURES = Path("tests/sip/fixtures")
out = []

# 1. Every capture: parse, serialise, a response built from each request (RFC 3261 §8.2.6).
for path in sorted(FIXTURES.glob("*/*.sip")):
    name = f"{path.parent.name}/{path.name}"
    data = path.read_bytes()
    try:
        message = parse_message(data, stream="tcp" in name)
    except SipParseError as exc:
        reply = error_response(exc, to_tag="t0")
        wire = reply.serialise().hex() if reply else ""
        out.append([name + " error", f"{exc.status} {exc}", wire])
        continue
    out.append([name, message.serialise().hex()])
    if isinstance(message, Request) and message.method != "ACK":
        made = make_response(message, 486, to_tag="t1", headers=[("Retry-After", "7")])
        out.append([name + " 486", made.serialise().hex()])
for bad in (b"INVITE sip:x SIP/2.0\r\n\r\n", b"\x00garbage", b"SIP/2.0 999999 X\r\n\r\n"):
    try:
        parse_message(bad)
    except SipParseError as exc:
        out.append(["bad", f"{exc.status} {exc}"])


class Clock(asyncio.AbstractEventLoop):
    def __init__(self) -> None:
        self.now = 500.0

    def time(self) -> float:
        return self.now


class Wire(SipTransport):
    def __init__(self, edge: SipEdge) -> None:
        self.clock = Clock()
        super().__init__(edge, edge.host, edge.port, loop=self.clock)

    def send(self, message) -> None:
        peer = message.peer
        out.append([f"sent {self.clock.now:.3f} {peer.host}:{peer.port}/{peer.transport}",
                    message.data.hex()])


class RingThenHold(CallHandler):
    # Rings, answers the second call only, rejects the third: 180, 200, 486 paths.
    def __init__(self) -> None:
        self.seen = 0

    def on_invite(self, call) -> None:
        self.seen += 1
        call.ring()
        if self.seen % 3 == 2:
            call.answer()
        elif self.seen % 3 == 0:
            call.reject(486)


# 2. The edge's sans-I/O path: each capture folder's messages in order, timers run
# to the end (2xx retransmissions, Timer G/H, J/L), then a BYE from our side.
for handler in (None, RingThenHold()):
    rng = random.Random(42)
    registrar = Registrar(credentials={"service": "pw"}, realm="ringway",
                          secret=b"k" * 32, rng=rng)
    edge = SipEdge("127.0.0.1", 5060, {}, handler=handler, rng=rng, registrar=registrar)
    wire = edge.transport = Wire(edge)
    for folder in ("call_udp", "call_tcp", "cancel", "ivr_call", "register", "handmade"):
        for path in sorted((FIXTURES / folder).glob("*.sip")):
            wire.clock.now += 0.01
            kind = "TCP" if "tcp" in folder else "UDP"
            edge.on_data(path.read_bytes(), Peer("127.0.0.1", 5061, kind), wire.clock.now)
            edge.on_timer(wire.clock.now)
    for call in list(edge.calls.values()):
        call.hang_up()
    for _ in range(80):
        wire.clock.now += 0.5
        edge.on_timer(wire.clock.now)
    out.append(["counters", json.dumps(edge.counters, sort_keys=True)])
    out.append(["left", len(edge.layer), len(edge.dialogs)])

modules = {m.__name__: m.__file__ for m in (ivr.edge, ivr.transport, ivr.sip.message,
                                            ivr.sip.transaction)}
json.dump({"modules": modules, "out": out}, sys.stdout)
"""


def run_corpus(pure: bool) -> dict[str, object]:
    env = {**os.environ, native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", CORPUS], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_test_run_uses_the_compiled_sip_core() -> None:
    assert native.native_enabled(), "no usable build/native: run `make native`"
    for module in (ivr.edge, ivr.transport, ivr.sip.message, ivr.sip.transaction):
        assert native.is_compiled(module), f"{module.__name__} loaded from {module.__file__}"
    # Exception classes stay interpreted: compiled, their class-attribute overrides
    # (`status`, `reason`) were lost in the router's errors (docs/native-build.md).
    assert not native.is_compiled(ivr.sip.errors)
    assert ivr.sip.errors.CallDoesNotExist.status == 481


def test_compiled_and_interpreted_sip_send_the_same_bytes() -> None:
    compiled, pure = run_corpus(pure=False), run_corpus(pure=True)
    for result, suffix in ((compiled, ".so"), (pure, ".py")):
        modules = result["modules"]
        assert isinstance(modules, dict)
        assert all(str(file).endswith(suffix) for file in modules.values()), modules
    compiled_out, pure_out = compiled["out"], pure["out"]
    assert isinstance(compiled_out, list) and isinstance(pure_out, list)
    sent = [row for row in pure_out if str(row[0]).startswith("sent ")]
    # The corpus did exercise the edge: 180/200/486/481/401, our BYEs, retransmissions.
    assert len(sent) > 60, len(sent)
    wire = [bytes.fromhex(row[1]) for row in sent]
    statuses = {data.split(b" ", 2)[1] for data in wire if data.startswith(b"SIP/2.0 ")}
    assert {b"200", b"180", b"486", b"481", b"401"} <= statuses, statuses
    assert sum(data.startswith(b"BYE ") for data in wire) > 10
    for index, (left, right) in enumerate(zip(compiled_out, pure_out, strict=True)):
        assert left == right, f"row {index} differs: {left[0]!r} / {right[0]!r}"


# The call's service side: the B2BUA, the telephony centre, the routing service, the
# event bus and its listeners (the desktop hub, the chat desk), the metrics tallies.
SERVICE_SIDE = (
    "ivr.calls.b2bua",
    "ringway.telephony",
    "ringway.service",
    "ringway.bus",
    "ringway.metrics",
    "agent_desktop.hub",
    "agent_desktop.chat",
)


def loaded_from(pure: bool) -> dict[str, str]:
    """Where a child process loads the service-side modules from."""
    code = (
        "import importlib, json, sys\n"
        f"names = {list(SERVICE_SIDE)!r}\n"
        "json.dump({n: importlib.import_module(n).__file__ for n in names}, sys.stdout)\n"
    )
    env = {**os.environ, native.PURE_ENV: "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    files: dict[str, str] = json.loads(done.stdout)
    return files


def test_the_service_side_loads_compiled_and_pure_when_asked() -> None:
    compiled, pure = loaded_from(pure=False), loaded_from(pure=True)
    assert sorted(compiled) == sorted(pure) == sorted(SERVICE_SIDE)
    assert all(file.endswith(".so") for file in compiled.values()), compiled
    assert all(file.endswith(".py") for file in pure.values()), pure


def test_the_routing_service_stays_a_plain_class_compiled() -> None:
    """Compiled methods, but a plain class: the dialer's wallboard keeps it as a weak key,
    and a test may replace a method on an instance (tests/api/test_api_errors.py)."""
    import weakref

    import ringway.bus
    import ringway.service
    from crm.memory import MemoryCustomerStore
    from ringway.config import demo_config_path, load_config

    assert native.is_compiled(ringway.service) and native.is_compiled(ringway.bus)
    service = ringway.service.RoutingService(load_config(demo_config_path()), MemoryCustomerStore())
    assert weakref.ref(service)() is service
    service.now = lambda: 7.0  # type: ignore[method-assign]
    assert service.now() == 7.0
